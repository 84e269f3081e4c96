// Pure pieces of the dev cluster: quantities, names, selectors, patches, phases, scheduling, env
// resolution, the store's history, protobuf decoding, fault decisions, tables, kubeconfig.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { containerArgv, expandVars, resolveContainerEnv, type EnvRuntime } from '../../src/devcluster/container-env.ts';
import { defaultFaults, decideInjectedError, parseFaultPatch, seededRandom } from '../../src/devcluster/faults.ts';
import { formatFieldError, invalid, notSupported, required } from '../../src/devcluster/field-errors.ts';
import { kubeconfigYaml } from '../../src/devcluster/kubeconfig.ts';
import { ContainerLog, selectEntries } from '../../src/devcluster/logs.ts';
import { generatedName, isDns1123Label, isDns1123Subdomain, isQualifiedName, isValidLabelValue } from '../../src/devcluster/names.ts';
import { jsonPatch, mergePatch, mergeStrategic, PatchError, POD_PATCH_SCHEMA } from '../../src/devcluster/patch.ts';
import { computePhase } from '../../src/devcluster/pod-status.ts';
import { decodeK8sProtobuf } from '../../src/devcluster/protobuf.ts';
import { parseQuantity } from '../../src/devcluster/quantity.ts';
import { chooseNode, podRequests, tolerates, type NodeUsage } from '../../src/devcluster/scheduling.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector } from '../../src/devcluster/selectors.ts';
import { Store } from '../../src/devcluster/store.ts';
import { humanDuration } from '../../src/devcluster/tables.ts';
import type { ContainerStatus, KObject, NodeObject, Pod } from '../../src/devcluster/types.ts';
import { buildNode } from '../../src/devcluster/nodes.ts';

describe('quantities', () => {
  it('parses the Kubernetes forms and rejects the rest', () => {
    const cases: [string, number | null][] = [
      ['500m', 0.5], ['1.5', 1.5], ['2', 2], ['8Gi', 8 * 2 ** 30], ['128Mi', 128 * 2 ** 20], ['1k', 1000], ['1e3', 1000],
      ['1E-3', 0.001], ['.5', 0.5], ['12XB', null], ['.', null], ['', null], ['1 Gi', null], ['Gi', null], ['-1', -1],
    ];
    for (const [text, want] of cases) assert.equal(parseQuantity(text), want, text);
  });
});

describe('names and labels', () => {
  it('DNS-1123 labels and subdomains', () => {
    assert.deepEqual(isDns1123Label('my-name'), []);
    assert.equal(isDns1123Label('My-Name').length, 1);
    assert.equal(isDns1123Label('a'.repeat(64))[0], 'must be no more than 63 characters');
    assert.deepEqual(isDns1123Subdomain('a.b-c.d'), []);
    assert.equal(isDns1123Subdomain('-a').length, 1);
  });
  it('qualified names (label keys) and label values', () => {
    assert.deepEqual(isQualifiedName('example.com/My_Key.1'), []);
    assert.ok(isQualifiedName('Example.com/key')[0].startsWith('prefix part'));
    assert.ok(isQualifiedName('a/b/c')[0].startsWith('a qualified name must consist'));
    assert.equal(isQualifiedName('/x')[0], 'prefix part must be non-empty');
    assert.deepEqual(isValidLabelValue(''), []);
    assert.equal(isValidLabelValue('_x').length, 1);
  });
  it('generateName appends 5 characters and keeps the name within 63', () => {
    assert.match(generatedName('job-'), /^job-[a-z0-9]{5}$/);
    assert.equal(generatedName('x'.repeat(80)).length, 63);
  });
  it('field errors print as apimachinery prints them', () => {
    assert.equal(formatFieldError(required('spec.containers')), 'spec.containers: Required value');
    assert.equal(formatFieldError(invalid('metadata.name', 'A', 'bad')), 'metadata.name: Invalid value: "A": bad');
    assert.equal(formatFieldError(notSupported('spec.restartPolicy', 'X', ['Always', 'Never'])), 'spec.restartPolicy: Unsupported value: "X": supported values: "Always", "Never"');
  });
});

describe('selectors', () => {
  const m = (sel: string, labels: Record<string, string>) => matchesLabels(parseLabelSelector(sel), labels);
  it('label operators', () => {
    assert.ok(m('', {}));
    assert.ok(m('a==', { a: '' }), 'an empty value is a valid label value');
    assert.ok(m('a=1', { a: '1' }));
    assert.ok(!m('a=1', {}));
    assert.ok(m('a!=1', {}));
    assert.ok(m('a in (1, 2)', { a: '2' }));
    assert.ok(m('a notin (1,2)', {}));
    assert.ok(!m('a notin (1,2)', { a: '1' }));
    assert.ok(m('a', { a: '' }));
    assert.ok(m('!a', { b: '1' }));
    assert.ok(m('n>3,n<10', { n: '5' }));
    assert.ok(!m('n>3', { n: 'x' }));
    assert.ok(m('example.com/k=v', { 'example.com/k': 'v' }));
  });
  it('rejects malformed label selectors', () => {
    for (const bad of ['a in ()', 'a=b=c', ',', 'a b', 'n>x', 'bad key=1']) {
      assert.throws(() => parseLabelSelector(bad), /unable to parse requirement/, bad);
    }
  });
  it('field selectors: =, ==, !=, escapes, unsupported fields', () => {
    const sup = new Set(['metadata.name', 'status.phase']);
    const sel = parseFieldSelector('metadata.name==a\\,b,status.phase!=Failed', sup);
    assert.deepEqual(sel, [{ field: 'metadata.name', op: 'eq', value: 'a,b' }, { field: 'status.phase', op: 'neq', value: 'Failed' }]);
    assert.ok(matchesFields(sel, { 'metadata.name': 'a,b', 'status.phase': 'Running' }));
    assert.ok(!matchesFields(sel, { 'metadata.name': 'a,b', 'status.phase': 'Failed' }));
    assert.throws(() => parseFieldSelector('spec.x=1', sup), /field label not supported: spec.x/);
  });
});

describe('patches', () => {
  it('JSON merge patch: objects merge, null deletes, lists replace', () => {
    assert.deepEqual(mergePatch({ a: { b: 1, c: 2 }, l: [1, 2] }, { a: { b: null, d: 3 }, l: [3] }), { a: { c: 2, d: 3 }, l: [3] });
  });
  it('JSON patch: add/remove/replace/move/copy/test, errors', () => {
    const doc = { a: [1, 2], b: { c: 1 } };
    assert.deepEqual(
      jsonPatch(doc, [
        { op: 'add', path: '/a/-', value: 3 },
        { op: 'replace', path: '/b/c', value: 2 },
        { op: 'copy', from: '/b', path: '/d' },
        { op: 'move', from: '/a/0', path: '/e' },
        { op: 'remove', path: '/b' },
        { op: 'test', path: '/d/c', value: 2 },
        { op: 'add', path: '/x~1y', value: true },
      ]),
      { a: [2, 3], d: { c: 2 }, e: 1, 'x/y': true },
    );
    assert.deepEqual(doc, { a: [1, 2], b: { c: 1 } }, 'input untouched');
    assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/b/c', value: 9 }]), PatchError);
    assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/zz' }]), PatchError);
  });
  it('strategic merge patch: containers and env merge by name; directives', () => {
    const pod = {
      metadata: { finalizers: ['a'], labels: { x: '1' } },
      spec: {
        containers: [
          { name: 'base', image: 'i:1', env: [{ name: 'A', value: '1' }, { name: 'B', value: '2' }] },
          { name: 'side', image: 's:1' },
        ],
        tolerations: [{ key: 't1' }],
      },
    };
    const out = mergeStrategic(
      pod,
      {
        metadata: { finalizers: ['b', 'a'], labels: { x: null, y: '2' } },
        spec: {
          containers: [{ name: 'base', image: 'i:2', env: [{ name: 'B', value: '3' }, { name: 'C', value: '4' }] }, { name: 'side', $patch: 'delete' }, { name: 'new', image: 'n' }],
          tolerations: [{ key: 't2' }],
          '$setElementOrder/containers': [{ name: 'new' }, { name: 'base' }],
        },
      },
      POD_PATCH_SCHEMA,
    ) as typeof pod;
    assert.deepEqual(out.metadata, { finalizers: ['a', 'b'], labels: { y: '2' } });
    assert.deepEqual(out.spec.containers.map((c) => c.name), ['new', 'base']);
    assert.equal(out.spec.containers[1].image, 'i:2');
    assert.deepEqual(out.spec.containers[1].env, [{ name: 'A', value: '1' }, { name: 'B', value: '3' }, { name: 'C', value: '4' }]);
    assert.deepEqual(out.spec.tolerations, [{ key: 't2' }], 'lists without a merge key are replaced');
    const replaced = mergeStrategic(pod, { spec: { $patch: 'replace', containers: [{ name: 'only', image: 'o' }] } }, POD_PATCH_SCHEMA) as typeof pod;
    assert.deepEqual(Object.keys(replaced.spec), ['containers']);
    const removed = mergeStrategic(pod, { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } }, POD_PATCH_SCHEMA) as typeof pod;
    assert.deepEqual(removed.metadata.finalizers, []);
    const retained = mergeStrategic({ a: 1, b: 2 }, { $retainKeys: ['b', 'c'], c: 3 }, undefined);
    assert.deepEqual(retained, { b: 2, c: 3 });
  });
});

describe('pod phase (kubelet getPhase)', () => {
  const st = (state: ContainerStatus['state'], last: ContainerStatus['lastState'] = {}): ContainerStatus => ({
    name: 'c', state, lastState: last, ready: false, restartCount: 0, image: 'i', imageID: '',
  });
  const running = st({ running: {} });
  const ok = st({ terminated: { exitCode: 0 } });
  const bad = st({ terminated: { exitCode: 1 } });
  const waiting = st({ waiting: { reason: 'ContainerCreating' } });
  const backoff = st({ waiting: { reason: 'CrashLoopBackOff' } }, { terminated: { exitCode: 1 } });
  it('covers the kubelet cases', () => {
    assert.equal(computePhase('Never', [], [waiting]), 'Pending');
    assert.equal(computePhase('Never', [], [running, ok]), 'Running');
    assert.equal(computePhase('Never', [], [ok, ok]), 'Succeeded');
    assert.equal(computePhase('Never', [], [ok, bad]), 'Failed');
    assert.equal(computePhase('OnFailure', [], [ok, bad]), 'Running');
    assert.equal(computePhase('OnFailure', [], [backoff]), 'Running');
    assert.equal(computePhase('Always', [], [ok]), 'Running');
    assert.equal(computePhase('Never', [running], [waiting]), 'Pending');
    assert.equal(computePhase('Never', [bad], [waiting]), 'Failed');
    assert.equal(computePhase('OnFailure', [bad], [waiting]), 'Pending');
    assert.equal(computePhase('Never', [ok], [running]), 'Running');
  });
});

describe('scheduling decisions', () => {
  const node = (name: string, cpu: string, extra: { labels?: Record<string, string>; taints?: NodeObject['spec']['taints'] } = {}) =>
    buildNode(0, { name, cpu, memory: '1Gi', labels: extra.labels, taints: extra.taints }, { cpu: '1', memory: '1Gi' });
  const pod = (cpu: string, spec: Partial<Pod['spec']> = {}): Pod => ({
    metadata: { name: 'p' },
    spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }], ...spec },
  });
  it('requests: sum of containers vs largest init container', () => {
    const p = pod('1');
    p.spec.containers.push({ name: 'd', resources: { requests: { cpu: '500m', memory: '1Mi' } } });
    p.spec.initContainers = [{ name: 'i', resources: { requests: { cpu: '2' } } }];
    assert.deepEqual(podRequests(p), { cpu: 2, memory: 2 ** 20 });
  });
  it('picks the least allocated fitting node, or explains', () => {
    const nodes = [node('a', '2'), node('b', '2')];
    const usage = new Map<string, NodeUsage>([['a', { cpu: 1, memory: 0, pods: 1 }]]);
    assert.deepEqual(chooseNode(pod('1'), nodes, usage), { node: 'b' });
    usage.set('b', { cpu: 1.5, memory: 0, pods: 1 });
    assert.deepEqual(chooseNode(pod('1'), nodes, usage), { node: 'a' });
    const none = chooseNode(pod('3'), nodes, usage);
    assert.ok('message' in none && none.message.startsWith('0/2 nodes are available: 2 Insufficient cpu.'));
  });
  it('nodeSelector, taints and tolerations', () => {
    const tainted = node('t', '8', { labels: { gpu: 'yes' }, taints: [{ key: 'gpu', value: 'yes', effect: 'NoSchedule' }] });
    const plain = node('p', '8');
    const sel = pod('1', { nodeSelector: { gpu: 'yes' } });
    const d = chooseNode(sel, [tainted, plain], new Map());
    assert.ok('message' in d && d.message.includes("1 node(s) didn't match Pod's node affinity/selector") && d.message.includes('1 node(s) had untolerated taint {gpu: yes}'));
    sel.spec.tolerations = [{ key: 'gpu', operator: 'Exists' }];
    assert.deepEqual(chooseNode(sel, [tainted, plain], new Map()), { node: 't' });
    assert.ok(tolerates([{ operator: 'Exists' }], { key: 'k', effect: 'NoSchedule' }));
    assert.ok(!tolerates([{ key: 'k', value: 'a', effect: 'NoExecute' }], { key: 'k', value: 'a', effect: 'NoSchedule' }));
  });
});

describe('container environment', () => {
  const rt: EnvRuntime = { podIP: '127.1.0.9', hostIP: '127.0.0.1', nodeName: 'n1', nodeCpu: 4, nodeMemory: 2 ** 30 };
  const pod: Pod = { metadata: { name: 'p', namespace: 'ns', uid: 'u', labels: { b: '2', a: '1' } }, spec: { containers: [] } };
  const lookups = {
    configMap: (_ns: string, name: string) => (name === 'cm' ? { metadata: { name }, data: { K: 'from-cm', SHARED: 'cm' } } : undefined),
    secret: (_ns: string, name: string) => (name === 's' ? { metadata: { name }, data: { pw: Buffer.from('secret').toString('base64') } } : undefined),
  };
  it('envFrom first, env entries override, $(VAR) expands, fieldRefs resolve', () => {
    const r = resolveContainerEnv(pod, {
      name: 'c',
      envFrom: [{ configMapRef: { name: 'cm' } }, { prefix: 'S_', secretRef: { name: 's' } }],
      env: [
        { name: 'SHARED', value: 'env' },
        { name: 'X', value: '$(K)-$$(K)-$(NOPE)' },
        { name: 'IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'LABELS', valueFrom: { fieldRef: { fieldPath: 'metadata.labels' } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
      ],
    }, lookups, rt);
    assert.ok(r.ok);
    assert.deepEqual(r.env, { K: 'from-cm', SHARED: 'env', S_pw: 'secret', X: 'from-cm-$(K)-$(NOPE)', IP: '127.1.0.9', LABELS: 'a="1"\nb="2"', MEM: '1024' });
    assert.deepEqual(containerArgv({ name: 'c', command: ['echo', '$(K)'], args: ['$$(K)'] }, r.env), ['echo', 'from-cm', '$(K)']);
    assert.equal(expandVars('$$$(A)', { A: 'x' }), '$x');
  });
  it('missing sources and keys are config errors unless optional', () => {
    const err = (c: Parameters<typeof resolveContainerEnv>[1]) => {
      const r = resolveContainerEnv(pod, c, lookups, rt);
      return r.ok ? 'ok' : r.message;
    };
    assert.equal(err({ name: 'c', envFrom: [{ configMapRef: { name: 'nope' } }] }), 'configmap "nope" not found');
    assert.equal(err({ name: 'c', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 's', key: 'nokey' } } }] }), "couldn't find key nokey in Secret ns/s");
    assert.equal(err({ name: 'c', env: [{ name: 'A', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } }] }), 'ok');
  });
});

describe('store history', () => {
  const cm = (name: string, v: string): KObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'ns' }, data: { v } });
  it('lists the past inside the window, replays events after a version, compacts old ones', () => {
    const s = new Store(100);
    s.create('configmaps', cm('a', '1'));
    const rv1 = s.currentRv;
    s.update('configmaps', cm('a', '2'));
    s.create('configmaps', cm('b', '1'));
    s.remove('configmaps', 'ns', 'a');
    assert.deepEqual(s.listAt('configmaps', 'ns', rv1).map((o) => [o.metadata.name, (o.data as { v: string }).v]), [['a', '1']]);
    assert.deepEqual(s.list('configmaps').map((o) => o.metadata.name), ['b']);
    assert.deepEqual(s.eventsAfter(rv1).map((e) => [e.type, e.object.metadata.name]), [['MODIFIED', 'a'], ['ADDED', 'b'], ['DELETED', 'a']]);
    assert.ok(Number(s.eventsAfter(rv1).at(-1)!.object.metadata.resourceVersion) === s.currentRv, 'a deletion gets its own resourceVersion');
    s.setWindowSize(2);
    assert.equal(s.compactedRv, rv1 + 1);
    assert.throws(() => s.listAt('configmaps', 'ns', rv1));
  });
});

describe('protobuf request bodies', () => {
  const varint = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return Buffer.from(out);
  };
  const field = (num: number, value: Buffer | string) => {
    const b = typeof value === 'string' ? Buffer.from(value) : value;
    return Buffer.concat([varint((num << 3) | 2), varint(b.length), b]);
  };
  const entry = (k: string, v: string) => Buffer.concat([field(1, k), field(2, v)]);
  it('decodes a ConfigMap as kubectl create configmap sends it', () => {
    const meta = Buffer.concat([field(1, 'settings'), field(3, 'team'), field(11, entry('app', 'x'))]);
    const cm = Buffer.concat([field(1, meta), field(2, entry('mode', 'fast'))]);
    const typeMeta = Buffer.concat([field(1, 'v1'), field(2, 'ConfigMap')]);
    const body = Buffer.concat([Buffer.from('k8s\0', 'binary'), field(1, typeMeta), field(2, cm)]);
    assert.deepEqual(decodeK8sProtobuf(body), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings', namespace: 'team', labels: { app: 'x' } }, data: { mode: 'fast' } });
    const pod = Buffer.concat([Buffer.from('k8s\0', 'binary'), field(1, Buffer.concat([field(1, 'v1'), field(2, 'Pod')]))]);
    assert.throws(() => decodeK8sProtobuf(pod), (e: { code?: number }) => e.code === 415);
  });
});

describe('faults, logs, tables, kubeconfig', () => {
  it('injected-error decisions honour methods, paths, failNext and the seeded rate', () => {
    const cfg = { ...defaultFaults(), errorCodes: [503], failNext: 1, errorMethods: ['POST'], errorPathPattern: '/pods' };
    const state = { failNext: 1 };
    const r = seededRandom(1);
    assert.equal(decideInjectedError(cfg, state, 'GET', '/api/v1/pods', r), null);
    assert.equal(decideInjectedError(cfg, state, 'POST', '/api/v1/configmaps', r), null);
    assert.equal(decideInjectedError(cfg, state, 'POST', '/api/v1/pods', r), 503);
    assert.equal(decideInjectedError(cfg, state, 'POST', '/api/v1/pods', r), null);
    assert.throws(() => parseFaultPatch({ errorRate: 'x' }, 'test'), /test: invalid fault settings: errorRate/);
  });
  it('logs keep partial lines per stream and tail whole lines', () => {
    const log = new ContainerLog();
    log.append('a\nb', 'stdout');
    log.append('err\n', 'stderr');
    log.append('c\n', 'stdout');
    log.close();
    assert.deepEqual(log.entries.map((e) => e.text), ['a', 'err', 'bc']);
    assert.deepEqual(selectEntries(log, { tailLines: 2 }).map((e) => e.text), ['err', 'bc']);
  });
  it('humanDuration follows kubectl', () => {
    assert.deepEqual([5e3, 119e3, 125e3, 600e3, 3 * 3600e3 + 60e3, 49 * 3600e3].map(humanDuration), ['5s', '119s', '2m5s', '10m', '3h1m', '2d1h']);
  });
  it('the kubeconfig has a cluster, a user with the token and a current context', () => {
    const cfg = parseYaml(kubeconfigYaml({ server: 'http://127.0.0.1:1', token: 't' })) as Record<string, unknown>;
    assert.equal(cfg['current-context'], 'floe-dev');
    assert.deepEqual(cfg.users, [{ name: 'floe-dev', user: { token: 't' } }]);
    // client-node 1.x only talks plain HTTP to a cluster marked insecure-skip-tls-verify.
    assert.deepEqual(cfg.clusters, [{ name: 'floe-dev', cluster: { server: 'http://127.0.0.1:1', 'insecure-skip-tls-verify': true } }]);
  });
  it('node options are checked with the option named', () => {
    assert.throws(() => buildNode(1, { cpu: 'lots' }, { cpu: '1', memory: '1Gi' }), /nodes\[1\]\.cpu: "lots" is not a valid Kubernetes quantity/);
    assert.throws(() => buildNode(0, { taints: [{ key: 'k', effect: 'Sometimes' }] }, { cpu: '1', memory: '1Gi' }), /nodes\[0\]\.taints\[0\]\.effect/);
  });
});
