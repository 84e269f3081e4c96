// A worker SIGKILLed mid-task: its task process ends with it, zombie detection ends the try (here: retried),
// BullMQ's stalled-job check frees the job, whose second delivery the runner refuses; the retry runs on the
// other worker, and the two tries never run at the same time.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import {
  deletePrefix, MARK_SOURCE, pidAlive, queueScheduler, readExecutions, REDIS_URL, redisAvailable, runFinished, runScheduler, startTestWorker, uniquePrefix, waitUntil, type WorkerProc, workerEnv,
} from './helpers.ts';

describe('worker SIGKILL mid-task', async () => {
  if (!(await redisAvailable())) return;
  let h: FloeHarness;
  const prefix = uniquePrefix('kill');
  const workers: WorkerProc[] = [];
  let execLog: string;

  before(async () => {
    h = await startFloe('sqlite', { config: { scheduler: { taskHeartbeatInterval: 0.5, zombieThreshold: 4 } } });
    execLog = path.join(h.home, 'exec.log');
    h.writeDag(
      'long.ts',
      `${SDK_IMPORT}
${MARK_SOURCE}
dag({ dagId: 'long', schedule: null }, () => {
  task({ taskId: 'long', retries: 1, retryDelay: 0 }, async (ctx) => {
    mark('S', ctx);
    if (ctx.tryNumber === 1) await new Promise((r) => setTimeout(r, 120_000));
    mark('E', ctx);
    return process.env.FLOE_WORKER_NAME;
  })();
});
`,
    );
    assert.deepEqual((await h.parse()).errors, []);
    const env = workerEnv(h, { redisUrl: REDIS_URL, prefix }, { FLOE_TEST_EXEC_LOG: execLog });
    for (const name of ['wa', 'wb']) workers.push(startTestWorker(h, env, { name, queues: [{ name: 'default', concurrency: 1 }], lockDurationMs: 2000, stalledIntervalMs: 1000 }));
    await Promise.all(workers.map((w) => w.waitFor(/ready/)));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await deletePrefix(REDIS_URL, prefix);
    await h?.close();
  });

  test('the try ends as retried, never stuck, never twice at once', async () => {
    const runId = await h.trigger('long');
    const { scheduler, executor } = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 1000 });
    // Until the run is over and the executor tracks nothing more (a leaked try would hold a slot forever).
    const running = runScheduler(scheduler, async () => (await runFinished(h, 'long', runId)) && executor.inFlight().length === 0, 90_000, 'long run');
    running.catch(() => {});

    await waitUntil('try 1 to start', () => readExecutions(execLog).some((e) => e.tryNumber === 1), 60_000);
    const first = readExecutions(execLog).find((e) => e.tryNumber === 1)!;
    const victim = workers.find((w) => w.output().includes(`started long.long run ${runId} try 1`))!;
    assert.ok(victim, 'one of the workers reports it started try 1');
    const survivor = workers.find((w) => w !== victim)!;
    process.kill(victim.pid, 'SIGKILL'); // the worker only: its task process must not outlive it
    let deadAt = 0;
    await waitUntil('the task process of try 1 to end with its worker', () => (pidAlive(first.pid) ? false : ((deadAt = Date.now()), true)), 10_000);

    await running;
    const tis = await h.tis('long', runId);
    assert.equal(tis.get('long')!.state, 'success');
    assert.equal(tis.get('long')!.try_number, 2);
    const [try1, try2] = await h.history('long', runId);
    assert.equal(try1.state, 'up_for_retry');
    assert.match(try1.reason ?? '', /zombie: no heartbeat from the task runner/);
    assert.equal(try2.state, 'success');

    const runs = readExecutions(execLog);
    assert.equal(runs.filter((e) => e.tryNumber === 1).length, 1, 'try 1 started once');
    const second = runs.find((e) => e.tryNumber === 2)!;
    assert.equal(second.worker, survivor === workers[0] ? 'wa' : 'wb');
    assert.ok(deadAt <= second.start + 100, 'try 1 was over before try 2 started');

    // BullMQ's stalled-job check moved try 1's job on: refused by the runner on redelivery, or failed.
    const q = new Queue('default', { connection: { url: REDIS_URL }, prefix });
    try {
      // Try 1's job: its id holds the launch id, which the task instance no longer shows (try 2 is current).
      const try1Job = async () => (await q.getJobs(['active', 'waiting', 'completed', 'failed'])).find((j) => j.data.key.runId === runId && j.data.tryNumber === 1);
      await waitUntil('the stalled job of try 1 to be finished', async () => ['completed', 'failed'].includes((await (await try1Job())?.getState()) ?? ''), 30_000);
      const job = (await try1Job())!;
      if (job.finishedOn && job.returnvalue) assert.equal(job.returnvalue.ran, false);
      else assert.match(job.failedReason, /stalled/);
    } finally {
      await q.close();
    }
  });
});
