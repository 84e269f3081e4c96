// Catchup, pools, killed task processes, timeouts and zombies: real runs with the local executor.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { sleep } from '../../src/util/time.ts';

const DAY = 86_400_000;

for (const dialect of await dialects()) {
  describe(`catchup on ${dialect}`, () => {
    let h: FloeHarness;
    before(async () => {
      h = await startFloe(dialect);
      const start = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
      h.writeDag('catchup.ts', `${SDK_IMPORT}
dag({ dagId: 'catchup', schedule: '0 0 * * *', startDate: new Date(${start}), catchup: true }, () => { task('t', async (ctx) => ctx.dataIntervalStart.toISOString())(); });
dag({ dagId: 'no_catchup', schedule: '@daily', startDate: '2020-01-01', catchup: false }, () => { task('t', async () => 1)(); });`);
      assert.deepEqual((await h.parse()).errors, []);
    });
    after(() => h.close());

    test('catchup creates exactly the missed intervals, catchup false only the latest', async () => {
      await h.runUntil(async () => {
        const rows = await h.rt.db.kysely.selectFrom('dag_run').select(['dag_id', 'state']).execute();
        return rows.filter((r) => r.state === 'success').length >= 4;
      });
      // A few more loops must not create anything more.
      await h.runUntil(async () => (await sleep(1500), true));
      const runs = await h.runs('catchup');
      const today = Math.floor(Date.now() / DAY) * DAY;
      assert.deepEqual(
        runs.map((r) => [r.data_interval_start, r.data_interval_end, r.state]),
        [3, 2, 1].map((d) => [new Date(today - d * DAY).toISOString(), new Date(today - (d - 1) * DAY).toISOString(), 'success']),
      );
      const nc = await h.runs('no_catchup');
      assert.equal(nc.length, 1);
      assert.equal(nc[0].data_interval_end, new Date(today).toISOString());
    });
  });
}

describe('pools, killed processes, timeouts, zombies (sqlite)', () => {
  let h: FloeHarness;
  before(async () => {
    h = await startFloe('sqlite', { config: { scheduler: { zombieThreshold: 1.5, taskHeartbeatInterval: 0.2 }, core: { parallelism: 6 } } });
    await h.rt.db.kysely.insertInto('pool').values({ name: 'tiny', slots: 2, description: null }).execute();
    h.writeDag('pool.ts', `${SDK_IMPORT}
dag({ dagId: 'pooled', schedule: null, maxActiveTasks: 16 }, () => {
  for (let i = 0; i < 6; i++) task({ taskId: 'p' + i, pool: 'tiny' }, async () => { await new Promise((r) => setTimeout(r, 400)); return i; })();
});`);
    h.writeDag('kill.ts', `${SDK_IMPORT}
import { writeFileSync } from 'node:fs';
dag({ dagId: 'killme', schedule: null, defaultArgs: { retryDelay: 0.1 } }, () => {
  task({ taskId: 'victim', retries: 1 }, async (ctx) => {
    if (ctx.tryNumber === 1) { writeFileSync(${JSON.stringify(path.join('PIDDIR', 'victim.pid'))}.replace('PIDDIR', process.env.FLOE_TEST_PIDDIR), String(process.pid)); await new Promise((r) => setTimeout(r, 60000)); }
    return 'second try ok';
  })();
  task({ taskId: 'victim_no_retry' }, async () => {
    writeFileSync(process.env.FLOE_TEST_PIDDIR + '/victim_no_retry.pid', String(process.pid)); await new Promise((r) => setTimeout(r, 60000));
  })();
});
dag({ dagId: 'zombie', schedule: null }, () => {
  task('stopped', async () => { writeFileSync(process.env.FLOE_TEST_PIDDIR + '/zombie.pid', String(process.pid)); await new Promise((r) => setTimeout(r, 60000)); })();
});`);
    process.env.FLOE_TEST_PIDDIR = h.home;
    assert.deepEqual((await h.parse()).errors, []);
  });
  after(() => h.close());

  test('a pool with 2 slots never runs more than 2 of its tasks at once', async () => {
    const runId = await h.trigger('pooled');
    await h.runUntilRunsFinish('pooled');
    const rows = await h.rt.db.kysely.selectFrom('task_instance').select(['start_date', 'end_date', 'state']).where('run_id', '=', runId).execute();
    assert.ok(rows.every((r) => r.state === 'success'));
    const events = rows.flatMap((r) => [[Date.parse(r.start_date!), 1], [Date.parse(r.end_date!), -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let cur = 0;
    let peak = 0;
    for (const [, d] of events) peak = Math.max(peak, (cur += d));
    assert.equal(peak, 2);
  });

  test('SIGKILL of the task process ends the try with a reason; retries apply; never stuck in running', async () => {
    const runId = await h.trigger('killme');
    const killer = (async () => {
      for (const name of ['victim.pid', 'victim_no_retry.pid']) {
        const file = path.join(h.home, name);
        while (!existsSync(file)) await sleep(50);
        process.kill(Number(readFileSync(file, 'utf8')), 'SIGKILL');
      }
    })();
    await h.runUntilRunsFinish('killme', 1, 60_000);
    await killer;
    const tis = await h.tis('killme', runId);
    assert.equal(tis.get('victim')!.state, 'success');
    assert.equal(tis.get('victim')!.try_number, 2);
    assert.equal(tis.get('victim_no_retry')!.state, 'failed');
    assert.match(tis.get('victim_no_retry')!.reason!, /killed by SIGKILL/);
    const hist = await h.history('killme', runId);
    const first = hist.find((r) => r.task_id === 'victim' && r.try_number === 1)!;
    assert.equal(first.state, 'up_for_retry');
    assert.match(first.reason!, /killed by SIGKILL before recording a result/);
  });

  test('a runner that stops heartbeating is failed as a zombie with a reason', async () => {
    const runId = await h.trigger('zombie');
    const file = path.join(h.home, 'zombie.pid');
    const stopper = (async () => {
      while (!existsSync(file)) await sleep(50);
      process.kill(Number(readFileSync(file, 'utf8')), 'SIGSTOP');
    })();
    try {
      await h.runUntilRunsFinish('zombie', 1, 30_000);
    } finally {
      await stopper;
      // The executor's stop() normally killed it already.
      const pid = Number(readFileSync(file, 'utf8'));
      for (const sig of ['SIGKILL', 'SIGCONT'] as const) try { process.kill(pid, sig); } catch { /* gone */ }
    }
    const ti = (await h.tis('zombie', runId)).get('stopped')!;
    assert.equal(ti.state, 'failed');
    assert.match(ti.reason!, /zombie: no heartbeat from the task runner/);
  });
});

describe('execution timeouts (sqlite, default zombie threshold)', () => {
  let h: FloeHarness;
  before(async () => {
    h = await startFloe('sqlite');
    h.writeDag('timeouts.ts', `${SDK_IMPORT}
dag({ dagId: 'timeouts', schedule: null }, () => {
  task({ taskId: 'slow_async', executionTimeout: 0.5 }, async () => { await new Promise((r) => setTimeout(r, 30000)); })();
  task({ taskId: 'busy_loop', executionTimeout: 0.3 }, async () => { const end = Date.now() + 60000; while (Date.now() < end) {} })();
  shell({ taskId: 'slow_shell', command: 'sleep 30', executionTimeout: 0.5 });
});`);
    assert.deepEqual((await h.parse()).errors, []);
  });
  after(() => h.close());

  test('execution timeouts end async tasks, busy loops and shell commands', async () => {
    const runId = await h.trigger('timeouts');
    await h.runUntilRunsFinish('timeouts', 1, 60_000);
    const tis = await h.tis('timeouts', runId);
    assert.equal(tis.get('slow_async')!.state, 'failed');
    assert.match(tis.get('slow_async')!.reason!, /execution timeout: the try ran longer than 0.5s/);
    assert.equal(tis.get('slow_shell')!.state, 'failed');
    assert.match(tis.get('slow_shell')!.reason!, /execution timeout/);
    // A synchronous loop cannot be interrupted from inside: the executor kills its process.
    assert.equal(tis.get('busy_loop')!.state, 'failed');
    assert.match(tis.get('busy_loop')!.reason!, /killed: the try ran 0.3s \(executionTimeout\)/);
  });

});
