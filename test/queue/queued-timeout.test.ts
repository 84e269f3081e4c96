// A queue job no worker takes (no worker for its queue): after scheduler.taskQueuedTimeout the launch is taken
// back — its job removed from Redis — and added again as a new launch, on the launch-failure budget; then the
// try fails with the reason. Nothing of a taken-back launch is left waiting in Redis.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { deletePrefix, queueScheduler, REDIS_URL, redisAvailable, runFinished, runScheduler, uniquePrefix } from './helpers.ts';

const ok = await redisAvailable();
let h: FloeHarness | undefined;
const prefix = uniquePrefix('qtimeout');

before(async () => {
  if (!ok) return;
  h = await startFloe('sqlite', { config: { scheduler: { taskQueuedTimeout: 1 }, kubernetes: { podLaunchFailureRetries: 2 } } });
  h.writeDag('orphaned.ts', `${SDK_IMPORT}\ndag({ dagId: 'orphaned', schedule: null }, () => { task({ taskId: 't', queue: 'nobody' }, async () => 1)(); });\n`);
  assert.deepEqual((await h.parse()).errors, []);
});
after(async () => {
  await deletePrefix(REDIS_URL, prefix).catch(() => {});
  await h?.close();
});

test('a try no worker takes is taken back after taskQueuedTimeout, re-added twice, then fails with the reason', { skip: !ok && 'Redis is not reachable' }, async () => {
  const runId = await h!.trigger('orphaned');
  const { scheduler } = queueScheduler(h!, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 500 });
  await runScheduler(scheduler, () => runFinished(h!, 'orphaned', runId), 60_000, 'the run to fail');
  const ti = (await h!.tis('orphaned', runId)).get('t')!;
  assert.equal(ti.state, 'failed');
  assert.match(ti.reason ?? '', /queued for over 1s without its task runner starting \(scheduler\.taskQueuedTimeout\) \(gave up after 2 relaunches\)/);
  const failures = await h!.rt.db.kysely.selectFrom('task_launch_failure').select('reason').where('run_id', '=', runId).execute();
  assert.equal(failures.length, 3);
  const q = new Queue('nobody', { connection: { url: REDIS_URL }, prefix });
  try {
    assert.equal(await q.getWaitingCount(), 0, 'the jobs of taken-back launches were removed');
  } finally {
    await q.close();
  }
});
