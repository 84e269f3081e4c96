// The dev cluster's REST API through the official @kubernetes/client-node (CoreV1Api) over real HTTP:
// CRUD, defaulting, validation (422 with field paths), errors as Status objects, patches, preconditions,
// lists with selectors, pagination and resourceVersion rules, ConfigMaps and Secrets, namespaces.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { expectApiError, podSpec, startHarness, type Harness } from './helpers.ts';

let h: Harness;
before(async () => {
  // Paused: these tests are about the API server; no processes needed.
  h = await startHarness({ faults: { kubeletPaused: true } });
});
after(async () => {
  await h.cluster.stop();
});

const ns = 'default';

async function invalidCauses(pod: unknown): Promise<{ field?: string; reason?: string; message?: string }[]> {
  const s = await expectApiError(h.core.createNamespacedPod({ namespace: ns, body: pod as V1Pod }));
  assert.equal(s.code, 422, JSON.stringify(s));
  assert.equal(s.reason, 'Invalid');
  return s.details?.causes ?? [];
}

describe('pods: create, get, list, defaults', () => {
  it('creates a pod with the real server defaults and records the creation', async () => {
    const before = h.cluster.podCreationLog.length;
    const created = await h.core.createNamespacedPod({ namespace: ns, body: podSpec('defaults', ['true'], { restartPolicy: undefined }) });
    assert.match(created.metadata!.uid!, /^[0-9a-f-]{36}$/);
    assert.ok(Number(created.metadata!.resourceVersion) > 0);
    assert.equal(created.spec!.restartPolicy, 'Always');
    assert.equal(created.spec!.terminationGracePeriodSeconds, 30);
    assert.equal(created.spec!.containers[0].imagePullPolicy, 'IfNotPresent');
    assert.equal(created.spec!.schedulerName, 'default-scheduler');
    assert.equal(created.status!.phase, 'Pending');
    assert.equal(created.status!.qosClass, 'BestEffort');
    assert.ok(created.spec!.tolerations!.some((t) => t.key === 'node.kubernetes.io/not-ready'));
    const log = h.cluster.podCreationLog.slice(before);
    assert.deepEqual(log.map((c) => [c.namespace, c.name, c.uid]), [[ns, 'defaults', created.metadata!.uid]]);
    const got = await h.core.readNamespacedPod({ name: 'defaults', namespace: ns });
    assert.equal(got.metadata!.uid, created.metadata!.uid);
    const status = await h.core.readNamespacedPodStatus({ name: 'defaults', namespace: ns });
    assert.equal(status.status!.phase, 'Pending');
  });

  it('fills generateName with a random suffix', async () => {
    const body = podSpec('', ['true']);
    body.metadata = { generateName: 'gen-' };
    const created = await h.core.createNamespacedPod({ namespace: ns, body });
    assert.match(created.metadata!.name!, /^gen-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
  });

  it('limits-only resources default requests and give Guaranteed QoS; :latest pulls Always', async () => {
    const body = podSpec('guaranteed', ['true']);
    body.spec!.containers[0].image = 'busybox:latest';
    body.spec!.containers[0].resources = { limits: { cpu: '500m', memory: '64Mi' } };
    const created = await h.core.createNamespacedPod({ namespace: ns, body });
    assert.deepEqual(created.spec!.containers[0].resources!.requests, { cpu: '500m', memory: '64Mi' });
    assert.equal(created.status!.qosClass, 'Guaranteed');
    assert.equal(created.spec!.containers[0].imagePullPolicy, 'Always');
  });

  it('answers AlreadyExists (409), NotFound (404) and a missing namespace like the real server', async () => {
    const dup = await expectApiError(h.core.createNamespacedPod({ namespace: ns, body: podSpec('defaults', ['true']) }));
    assert.equal(dup.code, 409);
    assert.equal(dup.reason, 'AlreadyExists');
    assert.equal(dup.message, 'pods "defaults" already exists');
    const missing = await expectApiError(h.core.readNamespacedPod({ name: 'nope', namespace: ns }));
    assert.equal(missing.code, 404);
    assert.equal(missing.reason, 'NotFound');
    assert.equal(missing.message, 'pods "nope" not found');
    const nsMissing = await expectApiError(h.core.createNamespacedPod({ namespace: 'no-such-ns', body: podSpec('p', ['true']) }));
    assert.equal(nsMissing.code, 404);
    assert.equal(nsMissing.message, 'namespaces "no-such-ns" not found');
  });
});

describe('pods: validation answers 422 Invalid with field paths', () => {
  const cases: [string, unknown, string, string][] = [
    ['missing containers', { metadata: { name: 'a' }, spec: { containers: [] } }, 'spec.containers', 'FieldValueRequired'],
    ['container without name', { metadata: { name: 'a' }, spec: { containers: [{ image: 'x' }] } }, 'spec.containers[0].name', 'FieldValueRequired'],
    ['container without image', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c' }] } }, 'spec.containers[0].image', 'FieldValueRequired'],
    ['bad pod name', { metadata: { name: 'Bad_Name' }, spec: { containers: [{ name: 'c', image: 'x' }] } }, 'metadata.name', 'FieldValueInvalid'],
    ['bad container name', { metadata: { name: 'a' }, spec: { containers: [{ name: 'Upper', image: 'x' }] } }, 'spec.containers[0].name', 'FieldValueInvalid'],
    ['container name too long', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c'.repeat(64), image: 'x' }] } }, 'spec.containers[0].name', 'FieldValueInvalid'],
    ['bad label key', { metadata: { name: 'a', labels: { 'bad key': 'v' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, 'metadata.labels', 'FieldValueInvalid'],
    ['bad label key prefix', { metadata: { name: 'a', labels: { 'Not_A.Domain/k': 'v' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, 'metadata.labels', 'FieldValueInvalid'],
    ['label value too long', { metadata: { name: 'a', labels: { k: 'v'.repeat(64) } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, 'metadata.labels', 'FieldValueInvalid'],
    ['bad label value', { metadata: { name: 'a', labels: { k: '-starts-with-dash' } }, spec: { containers: [{ name: 'c', image: 'x' }] } }, 'metadata.labels', 'FieldValueInvalid'],
    ['negative quantity', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '-1' } } }] } }, 'spec.containers[0].resources.requests[cpu]', 'FieldValueInvalid'],
    ['request above limit', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } }] } }, 'spec.containers[0].resources.requests', 'FieldValueInvalid'],
    ['duplicate container names', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'x' }, { name: 'c', image: 'y' }] } }, 'spec.containers[1].name', 'FieldValueDuplicate'],
    ['init/container name clash', { metadata: { name: 'a' }, spec: { initContainers: [{ name: 'c', image: 'x' }], containers: [{ name: 'c', image: 'y' }] } }, 'spec.containers[0].name', 'FieldValueDuplicate'],
    ['bad restartPolicy', { metadata: { name: 'a' }, spec: { restartPolicy: 'Sometimes', containers: [{ name: 'c', image: 'x' }] } }, 'spec.restartPolicy', 'FieldValueNotSupported'],
    ['env var without name', { metadata: { name: 'a' }, spec: { containers: [{ name: 'c', image: 'x', env: [{ value: 'v' }] }] } }, 'spec.containers[0].env[0].name', 'FieldValueRequired'],
    ['bad nodeSelector', { metadata: { name: 'a' }, spec: { nodeSelector: { 'a b': 'c' }, containers: [{ name: 'c', image: 'x' }] } }, 'spec.nodeSelector', 'FieldValueInvalid'],
  ];
  for (const [what, pod, field, reason] of cases) {
    it(what, async () => {
      const causes = await invalidCauses(pod);
      assert.ok(
        causes.some((c) => c.field === field && c.reason === reason),
        `expected a ${reason} cause at ${field}, got ${JSON.stringify(causes)}`,
      );
    });
  }

  it('names every problem of one pod, in the message too', async () => {
    const s = await expectApiError(
      h.core.createNamespacedPod({
        namespace: ns,
        body: { metadata: { name: 'x' }, spec: { containers: [{ name: 'c' }, { name: 'c', image: 'i' }] } } as V1Pod,
      }),
    );
    assert.equal(s.code, 422);
    assert.match(s.message!, /^Pod "x" is invalid: \[spec\.containers\[0\]\.image: Required value, spec\.containers\[1\]\.name: Duplicate value: "c"\]$/);
  });

  it('wrong JSON types are a 400 decoding error naming the field', async () => {
    const s = await expectApiError(
      h.core.createNamespacedPod({ namespace: ns, body: { metadata: { name: 'x' }, spec: { containers: [{ name: 3, image: 'i' }] } } as unknown as V1Pod }),
    );
    assert.equal(s.code, 400);
    assert.match(s.message!, /spec\.containers\[0\]\.name: expected string/);
  });
});

describe('updates, patches and preconditions', () => {
  it('merge patch and strategic merge patch change labels and annotations', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('patchme', ['true'], {}, { a: '1', b: '2' }) });
    const merged = await h.core.patchNamespacedPod(
      { name: 'patchme', namespace: ns, body: { metadata: { labels: { b: null, c: '3' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    assert.deepEqual(merged.metadata!.labels, { a: '1', c: '3' });
    const strategic = await h.core.patchNamespacedPod(
      { name: 'patchme', namespace: ns, body: { metadata: { annotations: { note: 'x' }, finalizers: ['example.com/keep'] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.deepEqual(strategic.metadata!.annotations, { note: 'x' });
    assert.deepEqual(strategic.metadata!.finalizers, ['example.com/keep']);
    const json = await h.core.patchNamespacedPod(
      { name: 'patchme', namespace: ns, body: [{ op: 'remove', path: '/metadata/finalizers' }, { op: 'add', path: '/metadata/labels/d', value: '4' }] },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    );
    assert.equal(json.metadata!.finalizers, undefined);
    assert.equal(json.metadata!.labels!.d, '4');
    assert.ok(Number(json.metadata!.resourceVersion) > Number(merged.metadata!.resourceVersion));
  });

  it('a stale resourceVersion on update is a Conflict (409)', async () => {
    const cur = await h.core.readNamespacedPod({ name: 'patchme', namespace: ns });
    const stale = structuredClone(cur);
    cur.metadata!.labels = { ...cur.metadata!.labels, fresh: 'yes' };
    await h.core.replaceNamespacedPod({ name: 'patchme', namespace: ns, body: cur });
    stale.metadata!.labels = { ...stale.metadata!.labels, stale: 'yes' };
    const s = await expectApiError(h.core.replaceNamespacedPod({ name: 'patchme', namespace: ns, body: stale }));
    assert.equal(s.code, 409);
    assert.equal(s.reason, 'Conflict');
    assert.match(s.message!, /the object has been modified; please apply your changes to the latest version/);
  });

  it('pod spec fields other than images are immutable (422 Forbidden)', async () => {
    const s = await expectApiError(
      h.core.patchNamespacedPod(
        { name: 'patchme', namespace: ns, body: { spec: { restartPolicy: 'Always' } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      ),
    );
    assert.equal(s.code, 422);
    assert.equal(s.details?.causes?.[0].field, 'spec');
    const image = await h.core.patchNamespacedPod(
      { name: 'patchme', namespace: ns, body: { spec: { containers: [{ name: 'base', image: 'busybox:1.37' }] } } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    );
    assert.equal(image.spec!.containers[0].image, 'busybox:1.37');
    assert.deepEqual(image.spec!.containers[0].command, ['true']);
  });

  it('fieldValidation=Strict rejects unknown fields; the default only warns', async () => {
    // Raw HTTP: the typed client drops unknown fields before sending.
    const body = JSON.stringify({ ...podSpec('strict', ['true']), spec: { ...podSpec('strict', ['true']).spec, bogus: 1 } });
    const post = (q: string) =>
      fetch(`${h.cluster.url}/api/v1/namespaces/${ns}/pods${q}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const strict = await post('?fieldValidation=Strict');
    assert.equal(strict.status, 400);
    assert.equal(((await strict.json()) as { message: string }).message, 'strict decoding error: unknown field "spec.bogus"');
    const warn = await post('');
    assert.equal(warn.status, 201);
    assert.equal(warn.headers.get('warning'), '299 - "unknown field \\"spec.bogus\\""');
  });

  it('dryRun=All validates without storing', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('dry', ['true']), dryRun: 'All' });
    await expectApiError(h.core.readNamespacedPod({ name: 'dry', namespace: ns }));
  });

  it('delete preconditions on uid are checked', async () => {
    const s = await expectApiError(h.core.deleteNamespacedPod({ name: 'patchme', namespace: ns, body: { preconditions: { uid: 'not-the-uid' } } }));
    assert.equal(s.code, 409);
    assert.match(s.message!, /Precondition failed: UID in precondition: not-the-uid/);
  });

  it('an unscheduled pod is deleted at once and the answer is the pod', async () => {
    const deleted = await h.core.deleteNamespacedPod({ name: 'patchme', namespace: ns });
    assert.equal((deleted as V1Pod).metadata?.name, 'patchme');
    await expectApiError(h.core.readNamespacedPod({ name: 'patchme', namespace: ns }));
  });

  it('finalizers hold a deletion until they are removed', async () => {
    await h.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'held', finalizers: ['example.com/hold'] }, data: { a: 'b' } } });
    await h.core.deleteNamespacedConfigMap({ name: 'held', namespace: ns });
    const held = await h.core.readNamespacedConfigMap({ name: 'held', namespace: ns });
    assert.ok(held.metadata!.deletionTimestamp);
    await h.core.patchNamespacedConfigMap(
      { name: 'held', namespace: ns, body: { metadata: { finalizers: null } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    await expectApiError(h.core.readNamespacedConfigMap({ name: 'held', namespace: ns }));
  });
});

describe('lists: selectors, pagination, resourceVersion', () => {
  before(async () => {
    await h.core.createNamespace({ body: { metadata: { name: 'lists' } } });
    const mk = (name: string, labels: Record<string, string>) =>
      h.core.createNamespacedPod({ namespace: 'lists', body: podSpec(name, ['true'], {}, labels) });
    await mk('p1', { app: 'a', tier: 'web' });
    await mk('p2', { app: 'a', tier: 'db' });
    await mk('p3', { app: 'b' });
    await mk('p4', { other: 'x' });
  });

  const names = (l: { items: { metadata?: { name?: string } }[] }) => l.items.map((p) => p.metadata!.name).sort();

  it('label selectors: =, !=, in, notin, exists, !exists', async () => {
    const q = async (labelSelector: string) => names(await h.core.listNamespacedPod({ namespace: 'lists', labelSelector }));
    assert.deepEqual(await q('app=a'), ['p1', 'p2']);
    assert.deepEqual(await q('app==a,tier=web'), ['p1']);
    assert.deepEqual(await q('app!=a'), ['p3', 'p4']);
    assert.deepEqual(await q('tier in (web,db)'), ['p1', 'p2']);
    assert.deepEqual(await q('app notin (a)'), ['p3', 'p4']);
    assert.deepEqual(await q('tier'), ['p1', 'p2']);
    assert.deepEqual(await q('!tier'), ['p3', 'p4']);
    assert.deepEqual(await q('app, !tier'), ['p3']);
  });

  it('field selectors: metadata.name, metadata.namespace, status.phase, spec.nodeName', async () => {
    const q = async (fieldSelector: string) => names(await h.core.listPodForAllNamespaces({ fieldSelector, labelSelector: 'app' }));
    assert.deepEqual(await q('metadata.name=p1'), ['p1']);
    assert.deepEqual(await q('metadata.namespace=lists,metadata.name!=p1'), ['p2', 'p3']);
    assert.deepEqual(await q('status.phase=Pending,metadata.namespace=lists'), ['p1', 'p2', 'p3']);
    assert.deepEqual(await q('status.phase=Running'), []);
    assert.deepEqual(await q('spec.nodeName=,metadata.namespace=lists'), ['p1', 'p2', 'p3']);
  });

  it('bad selectors are 400 BadRequest', async () => {
    const a = await expectApiError(h.core.listNamespacedPod({ namespace: 'lists', fieldSelector: 'spec.bogus=1' }));
    assert.equal(a.code, 400);
    assert.equal(a.message, 'field label not supported: spec.bogus');
    const b = await expectApiError(h.core.listNamespacedPod({ namespace: 'lists', labelSelector: 'a in (' }));
    assert.equal(b.code, 400);
    assert.match(b.message!, /unable to parse requirement/);
  });

  it('limit/continue pages one consistent snapshot', async () => {
    const first = await h.core.listNamespacedPod({ namespace: 'lists', limit: 3 });
    assert.equal(first.items.length, 3);
    assert.equal(first.metadata!.remainingItemCount, 1);
    assert.ok(first.metadata!._continue);
    // A pod created between pages is not in the snapshot.
    await h.core.createNamespacedPod({ namespace: 'lists', body: podSpec('p0', ['true']) });
    const second = await h.core.listNamespacedPod({ namespace: 'lists', limit: 3, _continue: first.metadata!._continue });
    assert.deepEqual(names(second), ['p4']);
    assert.equal(second.metadata!.resourceVersion, first.metadata!.resourceVersion);
    assert.equal(second.metadata!._continue, undefined);
    await h.core.deleteNamespacedPod({ name: 'p0', namespace: 'lists' });
  });

  it('resourceVersionMatch=Exact lists the past; too old is 410 Expired, too new is 504', async () => {
    const before = await h.core.listNamespacedPod({ namespace: 'lists' });
    await h.core.createNamespacedPod({ namespace: 'lists', body: podSpec('late', ['true']) });
    const exact = await h.core.listNamespacedPod({ namespace: 'lists', resourceVersion: before.metadata!.resourceVersion, resourceVersionMatch: 'Exact' });
    assert.deepEqual(names(exact), names(before));
    const now = await h.core.listNamespacedPod({ namespace: 'lists', resourceVersion: before.metadata!.resourceVersion });
    assert.ok(names(now).includes('late'));
    const tooNew = await expectApiError(h.core.listNamespacedPod({ namespace: 'lists', resourceVersion: '99999999' }));
    assert.equal(tooNew.code, 504);
    h.cluster.faults.compact();
    const gone = await expectApiError(h.core.listNamespacedPod({ namespace: 'lists', resourceVersion: before.metadata!.resourceVersion, resourceVersionMatch: 'Exact' }));
    assert.equal(gone.code, 410);
    assert.equal(gone.reason, 'Expired');
    const stale = await expectApiError(h.core.listNamespacedPod({ namespace: 'lists', limit: 1, _continue: Buffer.from(JSON.stringify({ rv: 1, start: '' })).toString('base64url') }));
    assert.equal(stale.code, 410);
    assert.match(stale.message!, /continue parameter is too old/);
  });

  it('list resourceVersion is the store revision, and increases with every write', async () => {
    const a = await h.core.listNamespacedConfigMap({ namespace: 'lists' });
    await h.core.createNamespacedConfigMap({ namespace: 'lists', body: { metadata: { name: 'rv' } } });
    const b = await h.core.listNamespacedConfigMap({ namespace: 'lists' });
    assert.ok(Number(b.metadata!.resourceVersion) > Number(a.metadata!.resourceVersion));
    assert.equal(Number(b.metadata!.resourceVersion), h.cluster.resourceVersion());
  });
});

describe('configmaps, secrets, namespaces', () => {
  it('configmaps: create, get, list, delete', async () => {
    await h.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm1', labels: { k: 'v' } }, data: { a: '1' } } });
    const got = await h.core.readNamespacedConfigMap({ name: 'cm1', namespace: ns });
    assert.deepEqual(got.data, { a: '1' });
    const list = await h.core.listNamespacedConfigMap({ namespace: ns, labelSelector: 'k=v' });
    assert.deepEqual(list.items.map((c) => c.metadata!.name), ['cm1']);
    const bad = await expectApiError(h.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'cm2' }, data: { 'bad key': 'x' } } }));
    assert.equal(bad.code, 422);
    assert.equal(bad.details?.causes?.[0].field, 'data[bad key]');
    await h.core.deleteNamespacedConfigMap({ name: 'cm1', namespace: ns });
    await expectApiError(h.core.readNamespacedConfigMap({ name: 'cm1', namespace: ns }));
  });

  it('secrets: stringData is folded into base64 data; type defaults to Opaque', async () => {
    const s = await h.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 's1' }, stringData: { pw: 'hunter2' }, data: { a: Buffer.from('b').toString('base64') } } });
    assert.equal(s.type, 'Opaque');
    assert.deepEqual(s.data, { a: 'Yg==', pw: Buffer.from('hunter2').toString('base64') });
    assert.equal(s.stringData, undefined);
    const list = await h.core.listNamespacedSecret({ namespace: ns, fieldSelector: 'type=Opaque' });
    assert.ok(list.items.some((x) => x.metadata!.name === 's1'));
  });

  it('namespaces: default ones exist; a terminating namespace refuses new content; deletion completes', async () => {
    const all = await h.core.listNamespace();
    for (const n of ['default', 'kube-system', 'kube-public']) assert.ok(all.items.some((x) => x.metadata!.name === n));
    const forbidden = await expectApiError(h.core.deleteNamespace({ name: 'default' }));
    assert.equal(forbidden.code, 403);
    await h.core.createNamespace({ body: { metadata: { name: 'doomed' } } });
    await h.core.createNamespacedConfigMap({ namespace: 'doomed', body: { metadata: { name: 'c' } } });
    await h.core.deleteNamespace({ name: 'doomed' });
    await expectApiError(h.core.readNamespace({ name: 'doomed' }));
  });
});

describe('HTTP details', () => {
  it('credentials other than the kubeconfig token are refused (401)', async () => {
    const res = await fetch(`${h.cluster.url}/api/v1/namespaces/default/pods`, { headers: { authorization: 'Bearer wrong' } });
    assert.equal(res.status, 401);
    const ok = await fetch(`${h.cluster.url}/api/v1/namespaces/default/pods`, { headers: { authorization: `Bearer ${h.cluster.token}` } });
    assert.equal(ok.status, 200);
  });

  it('serves meta.k8s.io Tables for kubectl get', async () => {
    const res = await fetch(`${h.cluster.url}/api/v1/namespaces/lists/pods?labelSelector=app%3Da`, {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' },
    });
    const t = (await res.json()) as { kind: string; columnDefinitions: { name: string }[]; rows: { cells: unknown[]; object: { metadata: { name: string } } }[] };
    assert.equal(t.kind, 'Table');
    assert.deepEqual(t.columnDefinitions.slice(0, 5).map((c) => c.name), ['Name', 'Ready', 'Status', 'Restarts', 'Age']);
    assert.deepEqual(t.rows.map((r) => r.cells.slice(0, 3)), [['p1', '0/1', 'Pending'], ['p2', '0/1', 'Pending']]);
    assert.equal(t.rows[0].object.metadata.name, 'p1');
  });

  it('unknown paths are NotFound Status objects; discovery lists pods with their subresources', async () => {
    const res = await fetch(`${h.cluster.url}/api/v1/widgets`);
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { kind: string }).kind, 'Status');
    const disc = (await (await fetch(`${h.cluster.url}/api/v1`)).json()) as { resources: { name: string }[] };
    const names = disc.resources.map((r) => r.name);
    for (const n of ['pods', 'pods/log', 'pods/status', 'events', 'namespaces', 'configmaps', 'secrets', 'nodes']) assert.ok(names.includes(n), n);
  });
});
