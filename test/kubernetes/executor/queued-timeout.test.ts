// Stuck in queued: a worker pod whose container reports Running but never starts Floe's task runner (the dev
// cluster's never-start annotation). After scheduler.taskQueuedTimeout the launch is taken back, its pod
// deleted, and the try launched again on its launch-failure budget; once that is spent the try fails with a
// reason that says why.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { type K8sHarness, startK8sFloe } from './helpers.ts';

let k: K8sHarness;
before(async () => {
  k = await startK8sFloe({ podLaunchFailureRetries: 1, deleteWorkerPods: 'never' }, { scheduler: { taskQueuedTimeout: 2 } });
  const hang = { metadata: { annotations: { 'dev.floe.io/never-start': '*' } } };
  k.h.writeDag(
    'stuck.ts',
    `${SDK_IMPORT}
dag({ dagId: 'stuck', schedule: null }, () => {
  task({ taskId: 'hangs', executorConfig: { podOverride: ${JSON.stringify(hang)} } }, async () => 'never')();
  task('fine', async () => 'ok')();
});`,
  );
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(() => k.close());

test('a pod Running without its runner is taken back after taskQueuedTimeout, relaunched, then the try fails with the reason', async () => {
  const runId = await k.h.trigger('stuck');
  await k.h.runUntilRunDone('stuck', runId, 90_000);
  const tis = await k.h.tis('stuck', runId);
  assert.equal(tis.get('fine')!.state, 'success');
  const hangs = tis.get('hangs')!;
  assert.equal(hangs.state, 'failed');
  assert.equal(hangs.try_number, 1, 'relaunches keep the try number');
  assert.match(hangs.reason ?? '', /queued for over 2s without its task runner starting \(scheduler\.taskQueuedTimeout\) \(gave up after 1 relaunches\)/);
  const failures = await k.h.rt.db.kysely.selectFrom('task_launch_failure').select(['try_number', 'reason']).where('run_id', '=', runId).where('task_id', '=', 'hangs').execute();
  assert.equal(failures.length, 2, 'two launches, both taken back');
  for (const f of failures) assert.match(f.reason, /scheduler\.taskQueuedTimeout/);
  // Each launch had its own pod, and both were deleted when taken back (deleteWorkerPods is never).
  const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=stuck,floe.dev/task-id=hangs' });
  assert.deepEqual(items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name), [], 'no pod of the stuck task is left running');
});
