// The log of a try running in a pod, read through the Kubernetes API (the project's dev cluster) while the
// task log file does not exist yet; a deleted pod is a 404, no Kubernetes access a 503.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.ts';
import { KubeApi, makeKubeConfig } from '../../src/kubernetes/client.ts';
import { externalIdOf } from '../../src/kubernetes/pod-logs.ts';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';
import { isProblem, startApi, type TestApi } from './helpers.ts';

let h: FloeHarness;
let cluster: DevCluster;
let core: CoreV1Api;
let api: TestApi;
let noKube: TestApi;

before(async () => {
  h = await startFloe('sqlite');
  cluster = await startDevCluster({ restartBackoffMs: 200, imagePullBackoffMs: 200, configRetryMs: 200, startupDelay: 0 });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  core = kc.makeApiClient(CoreV1Api);
  api = await startApi(h.rt.db, h.rt.cfg, {}, () => new KubeApi(makeKubeConfig({ kubeconfig: cluster.kubeconfigPath, context: null, inCluster: false }), { qps: 50, burst: 100 }));
  noKube = await startApi(h.rt.db, h.rt.cfg);
});
after(async () => {
  await api?.close();
  await noKube?.close();
  await cluster?.stop();
  await h?.close();
});

async function waitFor<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('a running try in a pod: its log comes from the pod until the file exists', async () => {
  const pod = await core.createNamespacedPod({
    namespace: 'default',
    body: { metadata: { name: 'hello-say-x1' }, spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'floe:latest', command: ['sh', '-c', 'echo hello from the pod; sleep 60'] }] } },
  });
  const now = new Date().toISOString();
  await h.rt.db.kysely
    .insertInto('dag_run')
    .values({ dag_id: 'hello', run_id: 'r1', run_type: 'manual', logical_date: now, data_interval_start: now, data_interval_end: now, state: 'running', conf: '{}', queued_at: now, start_date: now, end_date: null, last_scheduling_decision: null })
    .execute();
  await h.rt.db.kysely
    .insertInto('task_instance')
    .values({ dag_id: 'hello', run_id: 'r1', task_id: 'say', map_index: -1, state: 'running', try_number: 1, max_tries: 0, pool: 'default_pool', pool_slots: 1, queue: 'default', priority_weight: 1, queued_at: now, start_date: now, end_date: null, next_retry_at: null, hostname: null, pid: null, queued_by_job_id: null, external_executor_id: externalIdOf('default', 'hello-say-x1', pod.metadata!.uid!), last_heartbeat: now, reason: null, updated_at: now })
    .execute();

  const path = '/api/v1/dags/hello/dagRuns/r1/taskInstances/say/logs/1';
  const r = await waitFor('the pod log', async () => {
    const res = await api.call('GET', path);
    return res.status === 200 && /hello from the pod/.test(res.text) ? res : undefined;
  });
  assert.equal(r.headers.get('x-floe-log-source'), 'pod default/hello-say-x1');
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
  const ti = await api.call('GET', '/api/v1/dags/hello/dagRuns/r1/taskInstances/say');
  assert.deepEqual(ti.json.pod, { namespace: 'default', name: 'hello-say-x1', uid: pod.metadata!.uid });
  assert.deepEqual(ti.json.tries.map((t: { tryNumber: number; state: string }) => [t.tryNumber, t.state]), [[1, 'running']]);

  // This server cannot reach Kubernetes: 503 saying where the log is.
  assert.equal(isProblem(await noKube.call('GET', path), 503, /is in pod default\/hello-say-x1, but this server has no Kubernetes API access/), null);

  // The pod is gone and no file was kept: 404 saying so.
  await core.deleteNamespacedPod({ namespace: 'default', name: 'hello-say-x1', gracePeriodSeconds: 0 });
  const gone = await waitFor('the pod to be deleted', async () => {
    const res = await api.call('GET', path);
    return res.status === 404 ? res : undefined;
  });
  assert.equal(isProblem(gone, 404, /pod default\/hello-say-x1 no longer exists/), null);
});
