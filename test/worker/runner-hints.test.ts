// What a caller tells the task runner about a try (TryHints) saves it work without changing what it does:
// the executor's handle is recorded with the claim, and a DAG version the runner already holds is not read.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { Executor, Workload } from '../../src/executors/types.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { runTaskTry } from '../../src/worker/runner.ts';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

/** Takes the scheduler's workloads and runs nothing: the test runs the tries itself. */
class CaptureExecutor implements Executor {
  readonly name = 'capture';
  readonly work: Workload[] = [];
  async start(): Promise<void> {}
  queue(w: Workload): void {
    this.work.push(w);
  }
  async sync() {
    return [];
  }
  openSlots(): number {
    return 8 - this.work.length;
  }
  async adopt(): Promise<never[]> {
    return [];
  }
  async stop(): Promise<void> {}
}

for (const dialect of await dialects()) {
  describe(`task runner hints on ${dialect}`, () => {
    let h: FloeHarness;
    let work: Map<string, Workload>;
    before(async () => {
      h = await startFloe(dialect);
      h.writeDag('hints.ts', `${SDK_IMPORT}\ndag({ dagId: 'hints', schedule: null }, () => { task('a', async () => 1)(); task('b', async () => 2)(); task('c', async () => 3)(); });\n`);
      assert.deepEqual((await h.parse()).errors, []);
      await h.trigger('hints');
      const ex = new CaptureExecutor();
      const scheduler = new Scheduler({ db: h.rt.db, executor: ex, log: pino({ level: 'silent' }), loopIntervalMs: 20, zombieThresholdMs: 60_000, healthCheckThresholdMs: 30_000 });
      await scheduler.start();
      const deadline = Date.now() + 20_000;
      await scheduler.run(() => ex.work.length === 3 || Date.now() > deadline);
      await scheduler.stop();
      work = new Map(ex.work.map((w) => [w.key.taskId, w]));
      assert.equal(work.size, 3);
    });
    after(async () => h.close());

    const deps = () => ({ db: h.rt.db, logsFolder: h.rt.cfg.logging.logsFolder!, heartbeatSeconds: 5 });

    test('the external id given with a try is recorded by its claim, on the task instance and its history row', async () => {
      const a = work.get('a')!;
      assert.ok(a.dagHash, 'the scheduler hands over the hash of the DAG version it queued from');
      const out = await runTaskTry(deps(), a.key, a.tryNumber, 'run', { externalId: 'test:a-1', dagHash: a.dagHash });
      assert.deepEqual([out.ran, out.ran && out.state], [true, 'success']);
      const db = h.rt.db.kysely;
      const ti = await db.selectFrom('task_instance').select('external_executor_id').where('dag_id', '=', 'hints').where('task_id', '=', 'a').executeTakeFirstOrThrow();
      const hist = await db.selectFrom('task_instance_history').select('external_executor_id').where('dag_id', '=', 'hints').where('task_id', '=', 'a').executeTakeFirstOrThrow();
      assert.deepEqual([ti.external_executor_id, hist.external_executor_id], ['test:a-1', 'test:a-1']);
    });

    test('a DAG version the runner holds (same hash) is not read again; without the hint it is', async () => {
      // The runner holds the DAG from the previous test. With its row gone, only a runner that skips the read
      // can still run b; c, given no hint, reads the row and finds nothing.
      await h.rt.db.kysely.deleteFrom('dag').where('dag_id', '=', 'hints').execute();
      const b = work.get('b')!;
      const outB = await runTaskTry(deps(), b.key, b.tryNumber, 'run', { dagHash: b.dagHash });
      assert.deepEqual([outB.ran, outB.ran && outB.state], [true, 'success']);
      const c = work.get('c')!;
      const outC = await runTaskTry(deps(), c.key, c.tryNumber, 'run');
      assert.equal(outC.ran, false);
      assert.match(outC.reason ?? '', /no DAG run .* or task c of DAG hints in the database/);
      const outStale = await runTaskTry(deps(), c.key, c.tryNumber, 'run', { dagHash: 'another-version' });
      assert.equal(outStale.ran, false, 'a hash the runner does not hold means reading the DAG row');
    });
  });
}
