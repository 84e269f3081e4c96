// KubeApi reuses connections: client-node alone opens a new one for every request.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeApi } from '../../../src/kubernetes/client.ts';

test('requests through one KubeApi share keep-alive connections', async () => {
  let connections = 0;
  const server = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '1' }, items: [] }));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const kc = new KubeConfig();
    const server_ = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: server_, skipTLSVerify: true }],
      users: [{ name: 'u', token: 't' }],
      contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
      currentContext: 'x',
    });
    const api = new KubeApi(kc, { qps: 1000, burst: 1000 });
    for (let i = 0; i < 5; i++) await api.call((c) => c.listNamespacedPod({ namespace: 'default' }));
    assert.equal(connections, 1, 'five sequential requests, one connection');
    await Promise.all(Array.from({ length: 4 }, () => api.call((c) => c.listNamespacedPod({ namespace: 'default' }))));
    assert.ok(connections <= 4, `concurrent requests open at most one connection each (${connections})`);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
