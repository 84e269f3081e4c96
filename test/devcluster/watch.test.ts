// Watch semantics through @kubernetes/client-node's Watch and makeInformer over real chunked HTTP:
// initial events, resume from a resourceVersion, 410 Expired, bookmarks, selector transitions,
// early-closed streams and forced 410s (faults), and informer relists.
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import { makeInformer, PatchStrategy, setHeaderOptions, Watch, type KubernetesObject, type V1Pod } from '@kubernetes/client-node';
import { podSpec, startHarness, waitFor, type Harness } from './helpers.ts';

let h: Harness;
let nsCount = 0;
let ns = '';

before(async () => {
  h = await startHarness({ faults: { kubeletPaused: true } });
});
after(async () => {
  await h.cluster.stop();
});
beforeEach(async () => {
  h.cluster.faults.clear();
  h.cluster.kubelet.pause();
  ns = `w${++nsCount}`;
  await h.core.createNamespace({ body: { metadata: { name: ns } } });
});

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  obj: KubernetesObject & { code?: number; reason?: string };
}

/** A watch collecting its events; `done` resolves when the server ends the stream. */
async function collect(path: string, query: Record<string, string | number | boolean | undefined>) {
  const events: Seen[] = [];
  let resolveDone!: (err: unknown) => void;
  const done = new Promise<unknown>((r) => (resolveDone = r));
  const ctl = await new Watch(h.kc).watch(
    path,
    query,
    (type, obj: Seen['obj']) => events.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion, obj }),
    (err) => resolveDone(err),
  );
  return { events, done, stop: () => ctl.abort() };
}

const podsPath = () => `/api/v1/namespaces/${ns}/pods`;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
const relabel = (name: string, labels: Record<string, string | null>) =>
  h.core.patchNamespacedPod({ name, namespace: ns, body: { metadata: { labels } } }, mergePatch);

describe('watch', () => {
  it('streams ADDED, MODIFIED and DELETED after the listed resourceVersion', async () => {
    const list = await h.core.listNamespacedPod({ namespace: ns });
    const w = await collect(podsPath(), { resourceVersion: list.metadata!.resourceVersion });
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('a', ['true']) });
    await relabel('a', { x: '1' });
    await h.core.deleteNamespacedPod({ name: 'a', namespace: ns });
    await waitFor('4 events', () => w.events.length >= 4);
    w.stop();
    // As the real server: the deletion first stores deletionTimestamp (MODIFIED), then the pod goes.
    assert.deepEqual(w.events.map((e) => [e.type, e.name]), [['ADDED', 'a'], ['MODIFIED', 'a'], ['MODIFIED', 'a'], ['DELETED', 'a']]);
    const rvs = w.events.map((e) => Number(e.rv));
    assert.ok(rvs[0] < rvs[1] && rvs[1] < rvs[2] && rvs[2] < rvs[3], `resourceVersions increase: ${rvs}`);
    assert.ok((w.events[3].obj as V1Pod).metadata!.deletionTimestamp, 'the DELETED pod carries deletionTimestamp');
    assert.equal((w.events[1].obj as V1Pod).metadata!.labels!.x, '1');
  });

  it('without a resourceVersion it starts with ADDED for what exists', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('old1', ['true']) });
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('old2', ['true']) });
    const w = await collect(podsPath(), {});
    await waitFor('2 events', () => w.events.length >= 2);
    w.stop();
    assert.deepEqual(w.events.map((e) => [e.type, e.name]), [['ADDED', 'old1'], ['ADDED', 'old2']]);
  });

  it('resuming from a resourceVersion replays exactly the later events', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('r1', ['true']) });
    const mark = (await h.core.listNamespacedPod({ namespace: ns })).metadata!.resourceVersion!;
    await relabel('r1', { v: '2' });
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('r2', ['true']) });
    await h.core.deleteNamespacedPod({ name: 'r1', namespace: ns });
    const w = await collect(podsPath(), { resourceVersion: mark });
    await waitFor('4 replayed events', () => w.events.length >= 4);
    w.stop();
    assert.deepEqual(w.events.map((e) => [e.type, e.name]), [['MODIFIED', 'r1'], ['ADDED', 'r2'], ['MODIFIED', 'r1'], ['DELETED', 'r1']]);
  });

  it('a resourceVersion older than the retained window gets a 410 Expired ERROR event, then the stream ends', async () => {
    const mark = (await h.core.listNamespacedPod({ namespace: ns })).metadata!.resourceVersion!;
    h.cluster.faults.set({ eventWindow: 2 });
    for (let i = 0; i < 4; i++) await h.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: `c${i}` } } });
    const w = await collect(podsPath(), { resourceVersion: mark });
    assert.equal(await w.done, null);
    assert.equal(w.events.length, 1);
    assert.equal(w.events[0].type, 'ERROR');
    assert.equal(w.events[0].obj.code, 410);
    assert.equal(w.events[0].obj.reason, 'Expired');
    assert.match(String((w.events[0].obj as { message?: string }).message), /^too old resource version: \d+ \(\d+\)$/);
  });

  it('goneNext forces 410 on the next watch and the next list', async () => {
    const rv = (await h.core.listNamespacedPod({ namespace: ns })).metadata!.resourceVersion!;
    h.cluster.faults.set({ goneNext: 2 });
    const w = await collect(podsPath(), { resourceVersion: rv });
    await w.done;
    assert.equal(w.events[0]?.type, 'ERROR');
    assert.equal(w.events[0].obj.code, 410);
    await assert.rejects(h.core.listNamespacedPod({ namespace: ns }), (e: { code?: number }) => e.code === 410);
    await h.core.listNamespacedPod({ namespace: ns });
  });

  it('sends BOOKMARKs when allowed, including the initial-events-end bookmark', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('b1', ['true']) });
    const w = await collect(podsPath(), { allowWatchBookmarks: true, sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', resourceVersion: '' });
    await waitFor('a periodic bookmark', () => w.events.filter((e) => e.type === 'BOOKMARK').length >= 2);
    w.stop();
    assert.deepEqual([w.events[0].type, w.events[0].name], ['ADDED', 'b1']);
    assert.equal(w.events[1].type, 'BOOKMARK');
    assert.equal(w.events[1].obj.metadata!.annotations!['k8s.io/initial-events-end'], 'true');
    assert.ok(Number(w.events[2].rv) >= Number(w.events[0].rv));
    const plain = await collect(podsPath(), { resourceVersion: w.events[2].rv });
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('b2', ['true']) });
    await waitFor('b2', () => plain.events.length >= 1);
    await new Promise((r) => setTimeout(r, 500));
    plain.stop();
    assert.ok(plain.events.every((e) => e.type !== 'BOOKMARK'), 'no bookmarks unless allowWatchBookmarks');
  });

  it('selectors: an object that stops matching is DELETED for the watcher, and ADDED when it matches again', async () => {
    const w = await collect(podsPath(), { labelSelector: 'app=x', resourceVersion: String(h.cluster.resourceVersion()) });
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('s1', ['true'], {}, { app: 'x' }) });
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('other', ['true'], {}, { app: 'y' }) });
    await relabel('s1', { app: 'z' });
    await relabel('other', { app: 'x' });
    await relabel('s1', { app: 'x' });
    await waitFor('4 events', () => w.events.length >= 4);
    const byField = await collect(podsPath(), { fieldSelector: 'metadata.name=other' });
    await waitFor('1 event', () => byField.events.length >= 1);
    w.stop();
    byField.stop();
    assert.deepEqual(w.events.map((e) => [e.type, e.name]), [['ADDED', 's1'], ['DELETED', 's1'], ['ADDED', 'other'], ['ADDED', 's1']]);
    assert.deepEqual(byField.events.map((e) => [e.type, e.name]), [['ADDED', 'other']]);
  });

  it('timeoutSeconds ends the stream cleanly; closeWatchAfterEvents ends it early', async () => {
    const t = await collect(podsPath(), { timeoutSeconds: 1 });
    assert.equal(await t.done, null);
    h.cluster.faults.set({ closeWatchAfterEvents: 2 });
    for (let i = 0; i < 3; i++) await h.core.createNamespacedPod({ namespace: ns, body: podSpec(`e${i}`, ['true']) });
    const w = await collect(podsPath(), {});
    assert.equal(await w.done, null);
    assert.equal(w.events.length, 2);
  });
});

describe('informer', () => {
  it('keeps a cache through adds, updates, deletes, a closed stream and a forced 410 relist', async () => {
    const informer = makeInformer(h.kc, podsPath(), () => h.core.listNamespacedPod({ namespace: ns }));
    const added: string[] = [];
    const updated: string[] = [];
    const deleted: string[] = [];
    let connects = 0;
    informer.on('add', (p: V1Pod) => added.push(p.metadata!.name!));
    informer.on('update', (p: V1Pod) => updated.push(p.metadata!.name!));
    informer.on('delete', (p: V1Pod) => deleted.push(p.metadata!.name!));
    informer.on('connect', () => connects++);
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('i0', ['true']) });
    await informer.start();
    try {
      await waitFor('i0 in cache', () => informer.get('i0', ns));
      await h.core.createNamespacedPod({ namespace: ns, body: podSpec('i1', ['true']) });
      await waitFor('i1 added', () => added.includes('i1'));
      await relabel('i1', { v: '1' });
      await waitFor('i1 updated', () => updated.includes('i1'));

      // The server drops the stream: the informer re-watches from its resourceVersion.
      const before = connects;
      assert.ok(h.cluster.faults.closeWatches() >= 1);
      await waitFor('reconnect', () => connects > before);
      await h.core.deleteNamespacedPod({ name: 'i0', namespace: ns });
      await waitFor('i0 deleted', () => deleted.includes('i0'));

      // A forced 410 on the next watch: the informer relists and still converges.
      h.cluster.faults.set({ goneNext: 1 });
      h.cluster.faults.closeWatches();
      await h.core.createNamespacedPod({ namespace: ns, body: podSpec('i2', ['true']) });
      await waitFor('i2 in cache after relist', () => informer.get('i2', ns));
      assert.equal(h.cluster.faults.get().goneNext, 0);
      assert.deepEqual(informer.list(ns).map((p) => p.metadata!.name).sort(), ['i1', 'i2']);
    } finally {
      await informer.stop();
    }
  });
});
