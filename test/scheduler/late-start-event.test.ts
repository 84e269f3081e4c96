// An executor may report a try's start (its external id) only after the runner already ended it: the id still
// reaches the task instance and the try's history row.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { claimTry, finishTry } from '../../src/db/task-instances.ts';
import type { Executor, ExecutorEvent, Workload } from '../../src/executors/types.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

/** Runs each try to success in the DB at once, then reports its start and its end in the same sync(). */
class LateStartExecutor implements Executor {
  readonly name = 'late-start';
  constructor(private readonly h: FloeHarness) {}
  private events: ExecutorEvent[] = [];
  private work: Workload[] = [];
  async start(): Promise<void> {}
  queue(w: Workload): void {
    this.work.push(w);
  }
  async sync(): Promise<ExecutorEvent[]> {
    for (const w of this.work.splice(0)) {
      assert.ok(await claimTry(this.h.rt.db.kysely, w.key, w.tryNumber, { hostname: 'test', pid: 1 }));
      assert.ok(await finishTry(this.h.rt.db.kysely, w.key, w.tryNumber, { state: 'success', reason: null }));
      this.events.push({ key: w.key, tryNumber: w.tryNumber, state: 'running', externalId: `late:${w.key.taskId}` }, { key: w.key, tryNumber: w.tryNumber, state: 'success' });
    }
    return this.events.splice(0);
  }
  openSlots(): number {
    return 8;
  }
  async revoke(): Promise<void> {}
  async adopt(): Promise<never[]> {
    return [];
  }
  async stop(): Promise<void> {}
}

for (const dialect of await dialects()) {
  describe(`late start events on ${dialect}`, () => {
    let h: FloeHarness;
    before(async () => {
      h = await startFloe(dialect);
      h.writeDag('fast.ts', `${SDK_IMPORT}\ndag({ dagId: 'fast', schedule: null }, () => { task('a', async () => 1)(); });\n`);
      assert.deepEqual((await h.parse()).errors, []);
    });
    after(async () => h.close());

    test('a start reported after the try ended still records the external id on the try and its history', async () => {
      const runId = await h.trigger('fast');
      const scheduler = new Scheduler({ db: h.rt.db, executor: new LateStartExecutor(h), log: pino({ level: 'silent' }), loopIntervalMs: 20, zombieThresholdMs: 60_000, healthCheckThresholdMs: 30_000 });
      await scheduler.start();
      const deadline = Date.now() + 20_000;
      await scheduler.run(async () => (await h.tis('fast', runId)).get('a')?.state === 'success' && (await h.history('fast', runId)).length === 1 || Date.now() > deadline);
      await scheduler.stop();
      const db = h.rt.db.kysely;
      const hist = await db.selectFrom('task_instance_history').select(['state', 'external_executor_id']).where('dag_id', '=', 'fast').where('run_id', '=', runId).execute();
      assert.deepEqual(hist, [{ state: 'success', external_executor_id: 'late:a' }]);
      const ti = await db.selectFrom('task_instance').select('external_executor_id').where('dag_id', '=', 'fast').where('run_id', '=', runId).executeTakeFirstOrThrow();
      assert.equal(ti.external_executor_id, 'late:a');
    });
  });
}
