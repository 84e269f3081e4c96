// Faults on demand: injected 429/503/500 answers (with Retry-After), deterministic failNext and seeded
// errorRate, method/path filters, latency, early-closed watches, the admin HTTP endpoint (/_floe/...).
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { Watch } from '@kubernetes/client-node';
import { expectApiError, podSpec, startHarness, waitFor, type Harness } from './helpers.ts';

let h: Harness;
before(async () => {
  h = await startHarness({ faults: { kubeletPaused: true } });
});
after(async () => {
  await h.cluster.stop();
});
beforeEach(() => {
  h.cluster.faults.clear();
  h.cluster.kubelet.pause();
});

const listPods = () => h.core.listNamespacedPod({ namespace: 'default' });

describe('injected errors', () => {
  it('429 TooManyRequests and 503 carry Retry-After; 500 is an InternalError Status', async () => {
    h.cluster.faults.set({ errorRate: 1, errorCodes: [429], retryAfterSeconds: 7 });
    const res = await fetch(`${h.cluster.url}/api/v1/namespaces/default/pods`);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('retry-after'), '7');
    const body = (await res.json()) as { kind: string; reason: string; details: { retryAfterSeconds: number } };
    assert.deepEqual([body.kind, body.reason, body.details.retryAfterSeconds], ['Status', 'TooManyRequests', 7]);
    const viaClient = await expectApiError(listPods());
    assert.equal(viaClient.code, 429);

    h.cluster.faults.set({ errorCodes: [503], retryAfterSeconds: 2 });
    const r503 = await fetch(`${h.cluster.url}/api/v1/namespaces/default/pods`);
    assert.equal(r503.status, 503);
    assert.equal(r503.headers.get('retry-after'), '2');

    h.cluster.faults.set({ errorCodes: [500] });
    const s500 = await expectApiError(listPods());
    assert.equal(s500.code, 500);
    assert.equal(s500.reason, 'InternalError');

    h.cluster.faults.clear();
    await listPods();
  });

  it('failNext fails exactly the next N matching requests; methods filter which', async () => {
    h.cluster.faults.set({ failNext: 2, errorCodes: [503], errorMethods: ['POST'] });
    await listPods();
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) {
      try {
        await h.core.createNamespacedPod({ namespace: 'default', body: podSpec(`fn${i}`, ['true']) });
        codes.push(201);
      } catch (e) {
        codes.push((e as { code: number }).code);
      }
    }
    assert.deepEqual(codes, [503, 503, 201]);
    assert.equal(h.cluster.faults.get().failNext, 0);
    assert.deepEqual(h.cluster.podCreationLog.filter((c) => c.name.startsWith('fn')).map((c) => c.name), ['fn2']);
  });

  it('failAfterWriteNext carries the write out, then answers with an error (a lost response)', async () => {
    h.cluster.faults.set({ failAfterWriteNext: 1, errorCodes: [504] });
    await listPods(); // reads are not affected
    const lost = await expectApiError(h.core.createNamespacedPod({ namespace: 'default', body: podSpec('lost-reply', ['true']) }));
    assert.equal(lost.code, 504);
    assert.equal((await h.core.readNamespacedPod({ namespace: 'default', name: 'lost-reply' })).metadata!.name, 'lost-reply');
    assert.equal(h.cluster.faults.get().failAfterWriteNext, 0);
    const again = await expectApiError(h.core.createNamespacedPod({ namespace: 'default', body: podSpec('lost-reply', ['true']) }));
    assert.deepEqual([again.code, again.reason], [409, 'AlreadyExists']);
  });

  it('errorPathPattern limits errors to matching paths', async () => {
    h.cluster.faults.set({ errorRate: 1, errorCodes: [500], errorPathPattern: '/configmaps' });
    await listPods();
    assert.equal((await expectApiError(h.core.listNamespacedConfigMap({ namespace: 'default' }))).code, 500);
  });

  it('errorRate draws are seeded: the same seed gives the same failures', async () => {
    const pattern = async () => {
      h.cluster.faults.set({ errorRate: 0.5, errorCodes: [500], seed: 42 });
      const out: boolean[] = [];
      for (let i = 0; i < 30; i++) out.push((await fetch(`${h.cluster.url}/api/v1/namespaces/default/pods`)).status === 500);
      return out;
    };
    const a = await pattern();
    const b = await pattern();
    assert.deepEqual(a, b);
    const failures = a.filter(Boolean).length;
    assert.ok(failures > 0 && failures < 30, `some but not all requests fail (${failures}/30)`);
  });

  it('latencyMs delays every API request by at least that much', async () => {
    h.cluster.faults.set({ latencyMs: 300 });
    const t0 = performance.now();
    await listPods();
    assert.ok(performance.now() - t0 >= 295, 'the answer cannot come before the injected latency');
  });
});

describe('watch faults', () => {
  it('closeWatchAfterMs ends watch streams early; closeWatches ends them now', async () => {
    h.cluster.faults.set({ closeWatchAfterMs: 200 });
    const ended = new Promise((resolve) => void new Watch(h.kc).watch('/api/v1/namespaces/default/pods', {}, () => {}, resolve));
    assert.equal(await ended, null);
    h.cluster.faults.set({ closeWatchAfterMs: 0 });
    const ended2 = new Promise((resolve) => void new Watch(h.kc).watch('/api/v1/namespaces/default/pods', {}, () => {}, resolve));
    await waitFor('watch registered', () => h.cluster.faults.closeWatches() === 1);
    assert.equal(await ended2, null);
  });
});

describe('admin endpoint /_floe', () => {
  const admin = (p: string, init?: RequestInit) => fetch(`${h.cluster.url}/_floe/${p}`, init);

  it('GET/PUT/DELETE faults, with clear errors for bad settings', async () => {
    const put = await admin('faults', { method: 'PUT', body: JSON.stringify({ errorRate: 1, errorCodes: [429], errorMethods: ['DELETE'] }) });
    assert.equal(put.status, 200);
    assert.equal(((await (await admin('faults')).json()) as { errorRate: number }).errorRate, 1);
    assert.equal(h.cluster.faults.get().errorCodes[0], 429);
    const bad = await admin('faults', { method: 'PUT', body: JSON.stringify({ errorRate: 2, bogus: true }) });
    assert.equal(bad.status, 400);
    const msg = ((await bad.json()) as { error: string }).error;
    assert.match(msg, /errorRate: .*(<=|1)/);
    assert.match(msg, /bogus/);
    await admin('faults', { method: 'DELETE' });
    assert.equal(h.cluster.faults.get().errorRate, 0);
  });

  it('pause/resume the kubelet, list pod creations, close watches', async () => {
    const resume = await admin('kubelet/resume', { method: 'POST' });
    assert.equal(resume.status, 200);
    assert.equal(h.cluster.kubelet.paused, false);
    await admin('kubelet/pause', { method: 'POST' });
    assert.equal(h.cluster.kubelet.paused, true);
    await h.core.createNamespacedPod({ namespace: 'default', body: podSpec('admin-log', ['true']) });
    const log = (await (await admin('pod-creations')).json()) as { items: { name: string; uid: string }[] };
    assert.ok(log.items.some((c) => c.name === 'admin-log' && c.uid));
    const closed = (await (await admin('watches/close', { method: 'POST' })).json()) as { closed: number };
    assert.equal(typeof closed.closed, 'number');
    const missing = await admin('nope');
    assert.equal(missing.status, 404);
  });

  it('faults.set rejects bad values with the field named', () => {
    assert.throws(() => h.cluster.faults.set({ errorCodes: [418 as 500] }), /errorCodes/);
    assert.throws(() => h.cluster.faults.set({ latencyMs: -1 }), /latencyMs/);
  });
});
