// API faults produced for real, not injected: a worker pod deleted while its task runs, and kube-apiserver
// restarted in the middle of a DAG run (every watch and request of the executor and the kubelet breaks).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SDK_IMPORT } from '../helpers/floe.ts';
import { type K8sHarness, REAL_SERVER, startK8sFloe } from '../kubernetes/executor/helpers.ts';

let k: K8sHarness;
before(async () => {
  assert.ok(REAL_SERVER, 'run through npm run test:conformance (FLOE_K8S_BACKEND=real)');
  k = await startK8sFloe({ deleteWorkerPods: 'never' });
  k.h.writeDag('faults.ts', `${SDK_IMPORT}
dag({ dagId: 'long', schedule: null }, () => {
  task('sleeper', async () => { await new Promise((r) => setTimeout(r, 120_000)); return 1; })();
});
dag({ dagId: 'several', schedule: null }, () => {
  for (let i = 0; i < 6; i++) task('t' + i, async () => { await new Promise((r) => setTimeout(r, 2500)); return i; })();
});`);
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(() => k?.close());

const tiState = async (dagId: string, runId: string) =>
  k.h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'external_executor_id']).where('dag_id', '=', dagId).where('run_id', '=', runId).execute();

test('a worker pod deleted while its task runs fails the try with the reason, and the run ends', async () => {
  const runId = await k.h.trigger('long');
  let podName = '';
  await k.h.runUntil(async () => {
    const [ti] = await tiState('long', runId);
    if (ti?.state !== 'running' || !ti.external_executor_id) return false;
    podName = ti.external_executor_id.split('/')[1];
    const pod = await k.core.readNamespacedPod({ namespace: 'default', name: podName });
    return pod.status?.phase === 'Running';
  }, { timeoutMs: 60_000 });
  await k.core.deleteNamespacedPod({ namespace: 'default', name: podName, gracePeriodSeconds: 2 });
  await k.h.runUntilRunDone('long', runId, 60_000);
  const ti = (await k.h.tis('long', runId)).get('sleeper')!;
  assert.equal(ti.state, 'failed');
  assert.match(ti.reason ?? '', /exit code (143|137)|deleted while the task was running/);
});

test('kube-apiserver restarted mid-run: every task finishes, each in one pod', async () => {
  const before = k.cluster.podCreationLog.length;
  const runId = await k.h.trigger('several');
  await k.h.runUntil(async () => (await tiState('several', runId)).some((t) => t.state === 'running'), { timeoutMs: 60_000 });
  await k.cluster.server!.restart();
  await k.h.runUntilRunDone('several', runId, 120_000);
  const tis = await k.h.tis('several', runId);
  assert.deepEqual([...tis.values()].map((t) => t.state), Array(6).fill('success'), JSON.stringify([...tis]));
  assert.equal(k.cluster.podCreationLog.length - before, 6, 'no try was launched twice');
});
