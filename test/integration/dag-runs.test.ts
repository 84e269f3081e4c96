// Real DAGs through the DAG processor, scheduler and local executor (warm runner processes), on SQLite and
// PostgreSQL.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

for (const dialect of await dialects()) {
  describe(`DAG runs on ${dialect}`, () => {
    let h: FloeHarness;
    before(async () => {
      h = await startFloe(dialect);
      h.writeDag(
        'fanout.ts',
        `${SDK_IMPORT}
dag({ dagId: 'fanout', schedule: null }, () => {
  const start = task('start', async () => 10);
  const add = task('add', async (_c, base: number, n: number) => base + n);
  const sum = task('sum', async (_c, parts: number[]) => parts.reduce((a, b) => a + b, 0));
  const s = start();
  sum([1, 2, 3, 4, 5].map((n) => add(s, n)));
});`,
      );
      h.writeDag(
        'retry.ts',
        `${SDK_IMPORT}
dag({ dagId: 'retry', schedule: null, defaultArgs: { retryDelay: 0.2 } }, () => {
  const bad = task({ taskId: 'bad', retries: 2 }, async (ctx) => { throw new Error('boom on try ' + ctx.tryNumber); });
  const after1 = task('after_bad', async () => 'never');
  const after2 = task('after_after', async () => 'never');
  after2().after(after1().after(bad()));
});`,
      );
      h.writeDag(
        'xcom.ts',
        `${SDK_IMPORT}
dag({ dagId: 'xcom', schedule: null, params: { who: 'default' } }, () => {
  const push = task('push', async (ctx) => { await ctx.ti.xcomPush('extra', { n: 7 }); return { who: ctx.params.who, logical: ctx.logicalDate.toISOString() }; });
  const pull = task('pull', async (ctx, v: { who: string }) => ({ got: v.who, extra: await ctx.ti.xcomPull('push', 'extra') }));
  pull(push());
  shell({ taskId: 'sh', command: 'echo "$GREETING {{ params.who }}"; echo last-line', env: { GREETING: 'hello {{ dag_id }}' } });
});`,
      );
      h.writeDag('broken.ts', `${SDK_IMPORT}\nthrow new Error('this DAG file is broken on purpose');\n`);
      const parsed = await h.parse();
      assert.deepEqual(parsed.dags.map((d) => d.dagId).sort(), ['fanout', 'retry', 'xcom']);
      assert.equal(parsed.errors.length, 1);
    });
    after(() => h.close());

    test('fan-out / fan-in passes XCom values along the graph', async () => {
      const runId = await h.trigger('fanout');
      await h.runUntilRunsFinish('fanout');
      const [run] = await h.runs('fanout');
      assert.equal(run.state, 'success');
      const tis = await h.tis('fanout', runId);
      assert.equal(tis.size, 7);
      for (const ti of tis.values()) assert.equal(ti.state, 'success');
      const row = await h.rt.db.kysely.selectFrom('xcom').select('value').where('dag_id', '=', 'fanout').where('task_id', '=', 'sum').executeTakeFirstOrThrow();
      assert.equal(JSON.parse(row.value), 10 * 5 + 15);
    });

    test('a failing task with 2 retries runs 3 tries, then its downstream is upstream_failed', async () => {
      const runId = await h.trigger('retry');
      await h.runUntilRunsFinish('retry');
      const [run] = await h.runs('retry');
      assert.equal(run.state, 'failed');
      const tis = await h.tis('retry', runId);
      assert.equal(tis.get('bad')!.state, 'failed');
      assert.equal(tis.get('bad')!.try_number, 3);
      assert.match(tis.get('bad')!.reason!, /boom on try 3/);
      assert.equal(tis.get('after_bad')!.state, 'upstream_failed');
      assert.equal(tis.get('after_after')!.state, 'upstream_failed');
      const hist = (await h.history('retry', runId)).filter((r) => r.task_id === 'bad');
      assert.deepEqual(hist.map((r) => [r.try_number, r.state]), [[1, 'up_for_retry'], [2, 'up_for_retry'], [3, 'failed']]);
      assert.match(hist[0].reason!, /boom on try 1/);
    });

    test('context, params with conf, explicit XCom push/pull and templated shell env', async () => {
      const runId = await h.trigger('xcom', { who: 'conf-user' });
      await h.runUntilRunsFinish('xcom');
      const xcoms = await h.rt.db.kysely.selectFrom('xcom').select(['task_id', 'key', 'value']).where('dag_id', '=', 'xcom').where('run_id', '=', runId).execute();
      const get = (t: string, k = 'return_value') => JSON.parse(xcoms.find((x) => x.task_id === t && x.key === k)!.value);
      assert.deepEqual(get('pull'), { got: 'conf-user', extra: { n: 7 } });
      assert.equal(get('sh'), 'last-line');
      const { readFileSync } = await import('node:fs');
      const { taskLogPath } = await import('../../src/worker/task-log.ts');
      const log = readFileSync(taskLogPath(h.rt.cfg.logging.logsFolder!, { dagId: 'xcom', runId, taskId: 'sh', mapIndex: -1 }, 1), 'utf8');
      assert.match(log, /hello xcom conf-user/);
    });

    test('an import error is listed with its file and does not stop other DAGs', async () => {
      const errs = await h.rt.db.kysely.selectFrom('import_error').selectAll().execute();
      assert.equal(errs.length, 1);
      assert.match(errs[0].fileloc, /broken\.ts$/);
      assert.match(errs[0].message, /broken on purpose/);
      assert.equal(errs[0].line, 2);
    });
  });
}
