// A try whose heartbeat is late only because its row is locked by another transaction (a scheduler paused in
// the middle of a write, e.g. SIGSTOP) is not taken for a zombie: the runner's outcome, waiting behind that lock,
// lands once the lock is gone, and the body is not run again.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import pino from 'pino';
import { claimTry, finishTry } from '../../src/db/task-instances.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { CaptureExecutor } from '../helpers/capture.ts';
import { type FloeHarness, postgresAvailable, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

describe('zombie detection and row locks (postgres)', async () => {
  if (!(await postgresAvailable())) return;
  let h: FloeHarness;
  before(async () => {
    h = await startFloe('postgres');
    h.writeDag('z.ts', `${SDK_IMPORT}\ndag({ dagId: 'z', schedule: null }, () => { task({ taskId: 'a', retries: 2 }, async () => 1)(); });\n`);
    assert.deepEqual((await h.parse()).errors, []);
  });
  after(async () => h.close());

  test('a running try whose row is locked by another transaction is not ended as a zombie; the runner\'s outcome lands', async () => {
    const runId = await h.trigger('z');
    // The scheduler that queued the try is the one that judges it (another would first take over the try's
    // dead scheduler, which is not what this test is about).
    const executor = new CaptureExecutor();
    const scheduler = new Scheduler({ db: h.rt.db, executor, log: pino({ level: 'silent' }), loopIntervalMs: 20, zombieThresholdMs: 1000, healthCheckThresholdMs: 30_000 });
    await scheduler.start();
    const locker = new pg.Client({ connectionString: h.rt.db.url });
    await locker.connect();
    try {
      const deadline = Date.now() + 20_000;
      await scheduler.run(() => executor.work.length > 0 || Date.now() > deadline);
      const w = executor.work[0];
      assert.ok(w, 'the try was queued');
      const key = w.key;
      assert.ok(await claimTry(h.rt.db.kysely, key, w.tryNumber, { hostname: 'test', pid: 1, launchId: w.launchId }));
      // The heartbeat is long overdue...
      await h.rt.db.kysely.updateTable('task_instance').set({ last_heartbeat: new Date(Date.now() - 60_000).toISOString() }).where('dag_id', '=', 'z').where('run_id', '=', runId).execute();
      // ...because a transaction that wrote the row has not ended (a scheduler stopped in mid-write).
      await locker.query('begin');
      await locker.query(`update task_instance set external_executor_id = 'held' where dag_id = 'z' and run_id = $1`, [runId]);
      // The runner's outcome waits behind that lock.
      const outcome = finishTry(h.rt.db.kysely, key, w.tryNumber, { state: 'success', reason: null });
      // Scheduler loops meanwhile, past a housekeeping pass (every 2 s): none may wait for the lock, nor end the try.
      const loops = (async () => {
        for (const until = Date.now() + 2500; Date.now() < until; ) await scheduler.loopOnce();
        return 'looped';
      })();
      const raced = await Promise.race([loops, new Promise((r) => setTimeout(() => r('blocked behind the lock'), 8000))]);
      assert.equal(raced, 'looped', 'the scheduler loop went on while the row was locked');
      await locker.query('commit');
      assert.equal(await outcome, true, 'the runner recorded its outcome');
      await scheduler.loopOnce();
      const ti = await h.rt.db.kysely.selectFrom('task_instance').select(['state', 'try_number', 'reason']).where('dag_id', '=', 'z').where('run_id', '=', runId).executeTakeFirstOrThrow();
      assert.deepEqual(ti, { state: 'success', try_number: 1, reason: null });
    } finally {
      await locker.end().catch(() => {});
      await scheduler.stop();
    }
  });
});
