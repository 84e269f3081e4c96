// A Floe on the Kubernetes executor against the project's dev cluster, whose process kubelet runs the
// worker pods' `floe tasks run …` as local processes sharing this Floe's SQLite DB.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { type DevCluster, startDevCluster } from '../../../src/devcluster/index.ts';
import { type FloeHarness, startFloe } from '../../helpers/floe.ts';

export const BIN_DIR = fileURLToPath(new URL('../../../bin', import.meta.url));

export interface K8sHarness {
  h: FloeHarness;
  cluster: DevCluster;
  core: CoreV1Api;
  close(): Promise<void>;
}

export async function startK8sFloe(kubernetes: Record<string, unknown> = {}, extra: Record<string, Record<string, unknown>> = {}): Promise<K8sHarness> {
  const home = mkdtempSync(path.join(tmpdir(), 'floe-k8s-'));
  const cluster = await startDevCluster({
    env: { FLOE_HOME: home, FLOE_DATABASE_URL: `sqlite://${path.join(home, 'floe.db')}`, FLOE__LOGGING__LEVEL: 'warn', FLOE_CONFIG: '' },
    pathPrepend: [BIN_DIR, path.dirname(process.execPath)],
    imageRule: (image) => !image.startsWith('missing'),
    bookmarkIntervalMs: 500,
    imagePullBackoffMs: 300,
    startupDelay: 0,
  });
  const h = await startFloe('sqlite', {
    home,
    config: {
      core: { executor: 'kubernetes', parallelism: 8 },
      kubernetes: { kubeconfig: cluster.kubeconfigPath, apiQps: 200, apiBurst: 400, podPendingTimeout: 30, ...kubernetes },
      ...extra,
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
