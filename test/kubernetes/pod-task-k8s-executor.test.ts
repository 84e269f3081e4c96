// podTask run by the Kubernetes executor: the try's worker pod creates the task's own pod and follows it, as
// the local executor's runner does (pod-task.test.ts). One worker pod, one operator pod, the log and XCom back.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { taskLogPath } from '../../src/worker/task-log.ts';
import { type K8sHarness, startK8sFloe } from './executor/helpers.ts';

let k: K8sHarness;
before(async () => {
  k = await startK8sFloe({ deleteWorkerPods: 'never' });
  // In a real cluster the worker pod reaches the API through its service account; here through the kubeconfig.
  const env = JSON.stringify([{ name: 'FLOE__KUBERNETES__KUBECONFIG', value: k.cluster.kubeconfigPath }]);
  k.h.writeDag(
    'inpod.ts',
    `import { dag, task, podTask } from 'floe';
dag({ dagId: 'inpod', schedule: null }, () => {
  const p = podTask({
    taskId: 'p',
    image: 'busybox:1.36',
    command: ['sh', '-c', 'echo from-the-task-pod; echo "::floe-xcom::{\\\\"n\\\\": 6}"'],
    executorConfig: { podOverride: { spec: { containers: [{ name: 'base', env: ${env} }] } } },
  });
  task('after', async (_ctx, v: { n: number }) => v.n * 7)(p);
});
`,
  );
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(() => k.close());

test('a pod task on the Kubernetes executor: its worker pod creates and follows the task pod; log and XCom come back', async () => {
  const runId = await k.h.trigger('inpod');
  await k.h.runUntilRunDone('inpod', runId, 120_000);
  const tis = await k.h.tis('inpod', runId);
  assert.equal(tis.get('p')!.state, 'success', tis.get('p')!.reason ?? '');
  assert.equal(tis.get('after')!.state, 'success', tis.get('after')!.reason ?? '');
  const x = await k.h.rt.db.kysely.selectFrom('xcom').select('value').where('run_id', '=', runId).where('task_id', '=', 'after').executeTakeFirstOrThrow();
  assert.equal(JSON.parse(x.value), 42);
  const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=inpod,floe.dev/task-id=p' });
  const workers = items.filter((p) => p.metadata!.labels!['floe.dev/worker'] === 'true');
  const operators = items.filter((p) => p.metadata!.labels!['floe.dev/operator'] === 'true');
  assert.equal(workers.length, 1, 'one worker pod ran the try');
  assert.ok(operators.length <= 1, 'at most one task pod (deleted once done, by default)');
  const created = k.cluster.podCreationLog.filter((c) => c.name.startsWith('inpod-p-'));
  assert.equal(created.length, 2, `a worker pod and a task pod: ${created.map((c) => c.name).join(', ')}`);
  const log = readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'inpod', runId, taskId: 'p', mapIndex: -1 }, 1), 'utf8');
  assert.match(log, /from-the-task-pod/);
});
