// Dev cluster baselines for the Kubernetes executor: pods created per second through the raw official
// client (kubelet paused, then running), and pod create → Running latency (observed on a watch).
import { CoreV1Api, KubeConfig, Watch, type V1Pod } from '@kubernetes/client-node';
import { startDevCluster } from '../src/devcluster/index.ts';
import type { BenchRow } from './types.ts';

const CREATES = 300;
const CONCURRENCY = 8;
const LATENCY_PODS = 40;
const GROUP = 'dev cluster';

function pod(name: string, command: string[]): V1Pod {
  return { metadata: { name, labels: { bench: 'devcluster' } }, spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'busybox', command }] } };
}

/** Nearest-rank percentile (p in 0..100). */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Creates `count` pods with CONCURRENCY requests in flight; returns pods/s. */
async function createRate(core: CoreV1Api, namespace: string, count: number, command: string[]): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      await core.createNamespacedPod({ namespace, body: pod(`p${i}`, command) });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return count / ((performance.now() - t0) / 1000);
}

/** Create → Running latencies (ms) of pods created one after another, observed on one watch. */
async function runningLatencies(kc: KubeConfig, core: CoreV1Api, namespace: string): Promise<number[]> {
  const created = new Map<string, number>();
  const running = new Map<string, number>();
  let wake = () => {};
  const ctl = await new Watch(kc).watch(
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_type, obj: V1Pod) => {
      const name = obj.metadata!.name!;
      if (obj.status?.phase === 'Running' && !running.has(name)) {
        running.set(name, performance.now());
        wake();
      }
    },
    () => {},
  );
  try {
    for (let i = 0; i < LATENCY_PODS; i++) {
      const name = `l${i}`;
      const seen = new Promise<void>((r) => (wake = () => running.has(name) && r()));
      created.set(name, performance.now());
      await core.createNamespacedPod({ namespace, body: pod(name, ['sleep', '30']) });
      await Promise.race([seen, new Promise((_, rej) => setTimeout(() => rej(new Error(`bench: pod ${name} not Running after 30 s`)), 30_000))]);
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
    }
  } finally {
    ctl.abort();
  }
  return [...created].map(([name, t]) => running.get(name)! - t);
}

export async function benchDevCluster(): Promise<BenchRow[]> {
  const cluster = await startDevCluster({ nodes: 2, cpu: '64', memory: '256Gi', faults: { kubeletPaused: true } });
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    for (const ns of ['paused', 'running', 'latency']) await core.createNamespace({ body: { metadata: { name: ns } } });
    const paused = await createRate(core, 'paused', CREATES, ['true']);
    await core.deleteCollectionNamespacedPod({ namespace: 'paused' });
    cluster.kubelet.resume();
    // Running: each pod becomes a short process while creations continue.
    const running = await createRate(core, 'running', Math.min(CREATES, 200), ['true']);
    const lat = await runningLatencies(kc, core, 'latency');
    const note = `${CONCURRENCY} creates in flight through @kubernetes/client-node CoreV1Api`;
    return [
      { group: GROUP, metric: 'pods created/s (kubelet paused)', value: paused, unit: 'pods/s', note },
      { group: GROUP, metric: 'pods created/s (kubelet running)', value: running, unit: 'pods/s', baseline: { metric: 'pods created/s (kubelet paused)', value: paused, unit: 'pods/s' }, ratio: running / paused },
      { group: GROUP, metric: 'pod create → Running p50', value: percentile(lat, 50), unit: 'ms', note: `${LATENCY_PODS} pods created one at a time, Running observed on a watch` },
      { group: GROUP, metric: 'pod create → Running p95', value: percentile(lat, 95), unit: 'ms' },
    ];
  } finally {
    await cluster.stop();
  }
}
