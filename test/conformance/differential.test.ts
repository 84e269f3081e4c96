// The same core/v1 operations against the real kube-apiserver and the dev cluster: each answer as recorded
// from the real server, and the dev cluster's the same (see api-cases.ts). Neither has a kubelet here.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { startDevCluster, type DevCluster } from '../../src/devcluster/index.ts';
import { RawClient } from '../../src/devcluster/raw-client.ts';
import { API_CASES, CASE_COMPACTION_MS } from './api-cases.ts';
import { startRealServer, type RealServer } from './real-server.ts';

const clientFor = (kubeconfigPath: string) => {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return new RawClient(kc, 'floe-conformance');
};

let real: RealServer;
let dev: DevCluster;
before(async () => {
  [real, dev] = await Promise.all([
    startRealServer({ FLOE_KUBE_COMPACTION_INTERVAL: `${CASE_COMPACTION_MS / 1000}s` }),
    startDevCluster({ startupDelay: 0, compactionIntervalMs: CASE_COMPACTION_MS, faults: { kubeletPaused: true } }),
  ]);
});
after(async () => {
  await dev?.stop();
  await real?.stop();
});

describe('differential: the real API server and the dev cluster answer alike', () => {
  API_CASES.forEach((c, i) => {
    it(c.name, async () => {
      const ns = `diff-${i}`;
      const clients = [clientFor(real.kubeconfigPath), clientFor(dev.kubeconfigPath)];
      for (const client of clients) await client.must('POST', '/api/v1/namespaces', { metadata: { name: ns } });
      const [onReal, onDev] = await Promise.all(clients.map((client) => c.run({ client, ns, compactionIntervalMs: CASE_COMPACTION_MS })));
      assert.deepEqual(onReal, c.expect, 'the real server answers as recorded');
      assert.deepEqual(onDev, onReal, 'the dev cluster answers as the real server');
    });
  });
});
