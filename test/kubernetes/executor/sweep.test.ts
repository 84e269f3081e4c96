// The orphan sweep: a pod whose try is over is deleted with its log kept in the task log file; pods of
// schedulers that are alive are theirs to clean up and are left alone.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import pino from 'pino';
import { triesAreOver } from '../../../src/db/task-instances.ts';
import { kubeApiFromConfig as kubeApi } from '../../../src/kubernetes/client.ts';
import { kubernetesPodConfig } from '../../../src/kubernetes/pod/config.ts';
import { KubernetesExecutor } from '../../../src/executors/kubernetes/kubernetes-executor.ts';
import { FLOE_KEYS, identityAnnotations, identityLabels } from '../../../src/kubernetes/pod/index.ts';
import { taskLogPath } from '../../../src/worker/task-log.ts';
import { type K8sHarness, startK8sFloe } from './helpers.ts';

let k: K8sHarness;
before(async () => {
  k = await startK8sFloe({ deleteWorkerPods: 'always' });
});
after(() => k.close());

/** A finished Floe worker pod of a try no task instance has (so the try is over), owned by `owner`. */
async function finishedPod(taskId: string, owner: string, say: string): Promise<V1Pod> {
  const ti = { dagId: 'gone_dag', taskId, runId: 'manual__1', tryNumber: 1, mapIndex: -1, schedulerId: owner };
  const created = await k.core.createNamespacedPod({
    namespace: 'default',
    body: {
      metadata: { name: `orphan-${taskId.replace(/_/g, '-')}`, labels: identityLabels(ti), annotations: identityAnnotations(ti) },
      spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'busybox', command: ['sh', '-c', `echo ${say}`] }] },
    },
  });
  for (let i = 0; i < 300; i++) {
    const p = await k.core.readNamespacedPod({ namespace: 'default', name: created.metadata!.name! });
    if (p.status?.phase === 'Succeeded') return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`pod for ${taskId} did not succeed`);
}

test('the sweep keeps the log of a pod it deletes, and leaves pods of live schedulers alone', async () => {
  const dead = await finishedPod('of_dead', '999', 'log-of-a-dead-schedulers-pod');
  const live = await finishedPod('of_live', '4242', 'log-of-a-live-schedulers-pod');
  const asked: string[][] = [];
  const cfg = k.h.rt.cfg;
  const ex = new KubernetesExecutor(
    kubeApi(cfg),
    {
      pod: kubernetesPodConfig(cfg),
      namespaces: ['default'],
      parallelism: 4,
      batchSize: 16,
      concurrency: 8,
      publishMaxRetries: 3,
      deletePolicy: 'always',
      pendingTimeoutMs: 60_000,
      fastFailReasons: [],
      sweepIntervalMs: 3_600_000,
      logsFolder: cfg.logging.logsFolder,
    },
    {
      wake: () => {},
      log: pino({ level: 'silent' }),
      tryIsOver: (tries) => triesAreOver(k.h.rt.db, tries),
      schedulersAlive: async (ids) => (asked.push(ids), new Set(ids.filter((id) => id === '4242'))),
    },
  );
  await ex.start({ schedulerId: '1' });
  try {
    assert.equal(await ex.sweep(), 1);
  } finally {
    await ex.stop();
  }
  assert.deepEqual(asked.map((ids) => ids.sort()), [['4242', '999']]);
  const left = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: `${FLOE_KEYS.dagId}=gone_dag` })).items.map((p) => p.metadata!.name);
  assert.deepEqual(left, [live.metadata!.name]);
  const logOf = (taskId: string) => taskLogPath(cfg.logging.logsFolder!, { dagId: 'gone_dag', runId: 'manual__1', taskId, mapIndex: -1 }, 1);
  assert.match(readFileSync(logOf('of_dead'), 'utf8'), /log-of-a-dead-schedulers-pod/);
  assert.equal(existsSync(logOf('of_live')), false);
  assert.ok(dead.metadata?.uid);
});
