// The pod watcher's failures are one warning line each — what failed, the cause, what happens next — with the
// Kubernetes client's stack only at debug level.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import pino from 'pino';
import { KubeApi } from '../../src/kubernetes/client.ts';
import { describeWatchFailure, PodWatcher } from '../../src/kubernetes/pod-watcher.ts';

interface LogLine {
  level: number;
  msg: string;
  err?: { stack?: string };
  status?: number | null;
}

test('a failing list and watch log one line each at warn, with status and next step; stacks at debug', async () => {
  let lists = 0;
  let watches = 0;
  const server = createServer((req, res) => {
    const watch = new URL(req.url!, 'http://x').searchParams.get('watch') === 'true';
    res.setHeader('content-type', 'application/json');
    if (!watch && lists++ === 0) {
      res.statusCode = 503;
      res.end(JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', message: 'the server is currently unable to handle the request', code: 503 }));
      return;
    }
    if (!watch) return res.end(JSON.stringify({ apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '42' }, items: [] }));
    if (watches++ < 2) {
      res.statusCode = 503;
      return res.end('{}');
    }
    res.write(''); // a watch that stays open, sending nothing
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const lines: LogLine[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as LogLine);
      done();
    },
  });
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 't' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  const watcher = new PodWatcher(new KubeApi(kc, { qps: 1000, burst: 1000 }), 'default', 'floe.dev/worker=true', { onList: () => {}, onEvent: () => {} }, pino({ level: 'debug' }, sink));
  try {
    await watcher.start();
    for (let i = 0; i < 200 && watches < 3; i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(watches >= 3, `the watch was resumed after its failures (${watches} watches)`);
    const warns = lines.filter((l) => l.level === 40);
    assert.equal(warns.length, 3, JSON.stringify(lines));
    assert.match(warns[0].msg, /^pod list in namespace default failed \(HTTP 503: the server is currently unable to handle the request\); listing again in \d+ ms, pod states wait until then$/);
    for (const w of warns.slice(1)) {
      assert.match(w.msg, /^pod watch in namespace default failed \(HTTP 503 Service Unavailable\); resuming the watch from resourceVersion 42 in \d+ ms, pod states wait until then$/);
      assert.equal(w.status, 503);
    }
    for (const w of warns) assert.equal(w.err, undefined, 'no stack at warn level');
    const debug = lines.filter((l) => l.level === 20);
    assert.equal(debug.length, 3);
    for (const d of debug) assert.ok(d.err?.stack, 'the stack is kept at debug level');
  } finally {
    watcher.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});

test('describeWatchFailure names the status, the API message or the network error', () => {
  assert.equal(describeWatchFailure(Object.assign(new Error('Service Unavailable'), { statusCode: 503 })), 'HTTP 503 Service Unavailable');
  assert.equal(describeWatchFailure(new Error('connect ECONNREFUSED 127.0.0.1:6443')), 'connect ECONNREFUSED 127.0.0.1:6443');
});
