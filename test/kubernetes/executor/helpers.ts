// A Floe on the Kubernetes executor against the project's dev cluster, whose process kubelet runs the
// worker pods' `floe tasks run …` as local processes sharing this Floe's SQLite DB. With
// FLOE_K8S_BACKEND=real (npm run test:conformance) the same tests run against a real kube-apiserver with
// `floe dev kubelet` attached instead.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type DevCluster, type PodCreation, startDevCluster } from '../../../src/devcluster/index.ts';
import { type RealServer, startRealCluster } from '../../conformance/real-server.ts';
import { type FloeHarness, startFloe } from '../../helpers/floe.ts';

export const BIN_DIR = fileURLToPath(new URL('../../../bin', import.meta.url));

/** Run against a real API server (test/conformance): dev-cluster-only tests skip with this as the reason. */
export const REAL_SERVER = process.env.FLOE_K8S_BACKEND === 'real';
export const NEEDS_DEV_CLUSTER = REAL_SERVER ? "needs the dev cluster's fault injection" : false;

/** What the tests use of a cluster: the dev cluster, or a real API server + `floe dev kubelet`. */
export interface TestCluster {
  kubeconfigPath: string;
  podCreationLog: readonly PodCreation[];
  /** The dev cluster's faults; throws against a real API server (tests using it skip there). */
  faults: DevCluster['faults'];
  /** The real API server (FLOE_K8S_BACKEND=real only), e.g. to restart it. */
  server?: RealServer;
  stop(): Promise<void>;
}

const noFaults = new Proxy({} as DevCluster['faults'], {
  get: () => () => {
    throw new Error('fault injection is a dev cluster feature: not available against a real API server');
  },
});

export interface K8sHarness {
  h: FloeHarness;
  cluster: TestCluster;
  core: CoreV1Api;
  close(): Promise<void>;
}

export async function startK8sFloe(kubernetes: Record<string, unknown> = {}, extra: Record<string, Record<string, unknown>> = {}): Promise<K8sHarness> {
  const home = mkdtempSync(path.join(tmpdir(), 'floe-k8s-'));
  const pods = {
    env: { FLOE_HOME: home, FLOE_DATABASE_URL: `sqlite://${path.join(home, 'floe.db')}`, FLOE__LOGGING__LEVEL: 'warn', FLOE_CONFIG: '' },
    pathPrepend: [BIN_DIR, path.dirname(process.execPath)],
    imageRule: (image: string) => !image.startsWith('missing'),
    imagePullBackoffMs: 300,
    startupDelay: 0 as const,
  };
  const cluster: TestCluster = REAL_SERVER
    ? { ...(await startRealCluster(pods)), faults: noFaults }
    : // Compacting every 5 s (a real server: 5 min) makes a watch resumed from an old resourceVersion get 410,
      // so the executor's relist path runs in ordinary tests, not only when a fault is injected.
      await startDevCluster({ ...pods, bookmarkIntervalMs: 500, compactionIntervalMs: 5000 });
  const h = await startFloe('sqlite', {
    home,
    // `extra` adds to the sections set here (a section it names is merged, not replaced).
    config: {
      ...extra,
      core: { executor: 'kubernetes', parallelism: 8, ...extra.core },
      kubernetes: { kubeconfig: cluster.kubeconfigPath, apiQps: 200, apiBurst: 400, podPendingTimeout: 30, ...kubernetes },
    },
  });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return {
    h,
    cluster,
    core: kc.makeApiClient(CoreV1Api),
    async close() {
      await h.close().catch(() => {});
      await cluster.stop();
    },
  };
}
