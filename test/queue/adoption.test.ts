// Scheduler restart with tries queued in Redis: the new scheduler's queue executor adopts the dead one's
// queued tries whose jobs are in Redis (they run as they are) and hands back the one whose job is gone
// (the scheduler queues it again under the same try number). Every task runs once, on its first try.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import {
  currentJobId, deletePrefix, MARK_SOURCE, queueScheduler, readExecutions, recordingLog, REDIS_URL, redisAvailable, runFinished, runScheduler, startTestWorker, uniquePrefix, waitUntil, type WorkerProc, workerEnv,
} from './helpers.ts';

describe('scheduler restart with tries queued in Redis', async () => {
  if (!(await redisAvailable())) return;
  let h: FloeHarness;
  let worker: WorkerProc | null = null;
  let execLog: string;
  const prefix = uniquePrefix('adopt');

  before(async () => {
    h = await startFloe('sqlite', { config: { scheduler: { taskHeartbeatInterval: 0.5, healthCheckThreshold: 1 } } });
    execLog = path.join(h.home, 'exec.log');
    h.writeDag(
      'adopt.ts',
      `${SDK_IMPORT}
${MARK_SOURCE}
const quick = (ctx) => { mark('S', ctx); mark('E', ctx); return ctx.taskId; };
dag({ dagId: 'adopt', schedule: null }, () => {
  const ps = ['p1', 'p2', 'p3'].map((id) => task(id, async (ctx) => quick(ctx))());
  task('q', async (ctx) => quick(ctx))().after(...ps);
});
`,
    );
    assert.deepEqual((await h.parse()).errors, []);
  });

  after(async () => {
    await worker?.kill();
    await deletePrefix(REDIS_URL, prefix);
    await h?.close();
  });

  test('queued tries with jobs are adopted, a try without one is queued again', async () => {
    const runId = await h.trigger('adopt');
    const key = (taskId: string) => ({ dagId: 'adopt', runId, taskId, mapIndex: -1 });

    // Scheduler 1 queues p1..p3 into Redis (no worker yet), then dies: its executor goes away and its job
    // row keeps a heartbeat that soon counts as dead.
    const first = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 500 });
    await first.scheduler.start();
    const deadline = Date.now() + 30_000;
    await first.scheduler.run(() => Date.now() > deadline || (first.executor.inFlight().length === 3 && first.executor.inFlight().every((e) => e.sent)));
    assert.equal(first.executor.inFlight().length, 3, 'scheduler 1 put p1..p3 in Redis');
    await first.executor.stop();
    const q = new Queue('default', { connection: { url: REDIS_URL }, prefix });
    try {
      await q.remove(await currentJobId(h.rt.db, key('p3'))); // this one was lost
    } finally {
      await q.close();
    }

    const { log, records } = recordingLog();
    const second = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 500, log });
    const running = runScheduler(second.scheduler, () => runFinished(h, 'adopt', runId), 90_000, 'adopt run');
    running.catch(() => {});
    await waitUntil('scheduler 2 to take over', () => records.some((r) => r.msg === 'took over tries queued by a dead scheduler'), 30_000);
    const took = records.find((r) => r.msg === 'took over tries queued by a dead scheduler')!;
    assert.deepEqual({ orphans: took.orphans, adopted: took.adopted }, { orphans: 3, adopted: 2 });

    worker = startTestWorker(h, workerEnv(h, { redisUrl: REDIS_URL, prefix }, { FLOE_TEST_EXEC_LOG: execLog }), {
      name: 'w1',
      queues: [{ name: 'default', concurrency: 2 }],
      lockDurationMs: 5000,
      stalledIntervalMs: 2000,
    });
    await running;
    const tis = await h.tis('adopt', runId);
    for (const [id, ti] of tis) {
      assert.equal(ti.state, 'success', `${id}: ${ti.state} (${ti.reason})`);
      assert.equal(ti.try_number, 1, `${id} ran on its first try`);
    }
    const runs = readExecutions(execLog);
    for (const t of ['p1', 'p2', 'p3', 'q']) assert.equal(runs.filter((e) => e.taskId === t).length, 1, `${t} ran once`);
    const rows = await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'queued_by_job_id']).where('run_id', '=', runId).execute();
    for (const r of rows) assert.equal(r.queued_by_job_id, second.scheduler.jobId, `${r.task_id} belongs to scheduler 2`);
  });
});
