// validatePod: the OpenAPI schema (kubernetes-models) plus the rules it does not state.
import { V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validatePod } from '../../../src/kubernetes/pod/index.ts';
import { parseQuantity } from '../../../src/kubernetes/pod/quantity.ts';

const pod = (spec: Record<string, unknown>, metadata: Record<string, unknown> = { name: 'p' }) => ({ apiVersion: 'v1', kind: 'Pod', metadata, spec });
const withBase = (fields: Record<string, unknown>, spec: Record<string, unknown> = {}) => pod({ containers: [{ name: 'base', image: 'i', ...fields }], ...spec });
const paths = (p: unknown) => validatePod(p).map((i) => `${i.path}: ${i.message}`);

describe('parseQuantity', () => {
  it('parses the Kubernetes grammar', () => {
    const cases: [string | number, number][] = [
      ['500m', 0.5],
      ['1', 1],
      ['1.5', 1.5],
      ['.5', 0.5],
      ['2Ki', 2048],
      ['1Gi', 2 ** 30],
      ['1G', 1e9],
      ['1k', 1000],
      ['1e3', 1000],
      ['1E', 1e18],
      ['1E3', 1000],
      ['100u', 1e-4],
      [2, 2],
    ];
    for (const [q, n] of cases) assert.ok(Math.abs(parseQuantity(q)! - n) <= n * 1e-12, `${q} → ${parseQuantity(q)}, expected ${n}`);
  });

  it('rejects what is not a quantity', () => {
    for (const q of ['', 'abc', '1 Gi', '1gi', '1GB', '1.2.3', 'm', '--1', '1Kib']) assert.equal(parseQuantity(q), null, q);
  });
});

describe('validatePod', () => {
  it('accepts a valid pod, as a plain object or a V1Pod', () => {
    assert.deepEqual(validatePod(withBase({})), []);
    const v = new V1Pod();
    v.metadata = { name: 'p' };
    v.spec = { containers: [{ name: 'base', image: 'i' }] };
    assert.deepEqual(validatePod(v), []);
  });

  it('reports schema types and required fields with name-based paths', () => {
    assert.deepEqual(paths(withBase({ ports: [{ name: 'web', containerPort: '80' }] })), ['spec.containers[name=base].ports[name=web].containerPort: expected integer, got "80"']);
    assert.deepEqual(paths(pod({ containers: [{ image: 'i' }] })), ['spec.containers[0].name: is required']);
    assert.deepEqual(paths({ metadata: { name: 'p' } }), ['spec: is required']);
  });

  it('reports int-or-string fields', () => {
    assert.deepEqual(paths(withBase({ livenessProbe: { httpGet: { port: true } } })), ['spec.containers[name=base].livenessProbe.httpGet.port: expected string or integer, got true']);
  });

  it('reports unknown fields (the client would drop them silently) with a suggestion', () => {
    assert.deepEqual(paths(withBase({}, { node_selector: { a: 'b' } })), ['spec.node_selector: unknown field; did you mean "nodeSelector"?']);
    assert.deepEqual(paths(withBase({ frobnicate: 1 })), ['spec.containers[name=base].frobnicate: unknown field']);
  });

  it('checks names are DNS-1123', () => {
    assert.deepEqual(paths({ ...withBase({}), metadata: { name: 'My_Pod' } }), [
      'metadata.name: must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit, got "My_Pod"',
    ]);
    assert.deepEqual(paths({ ...withBase({}), metadata: { name: 'p', namespace: 'a.b' } }), ['metadata.namespace: must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, got "a.b"']);
    assert.deepEqual(paths(withBase({}, { volumes: [{ name: 'x'.repeat(64), emptyDir: {} }] })), [`spec.volumes[name=${'x'.repeat(64)}].name: must be at most 63 characters (is 64), got "${'x'.repeat(64)}"`]);
  });

  it('checks label keys and values, and nodeSelector like labels', () => {
    assert.deepEqual(paths({ ...withBase({}), metadata: { name: 'p', labels: { 'Bad Key': 'v', 'example.com/ok': '-bad' } } }), [
      'metadata.labels["Bad Key"]: the name part must consist of letters, digits, "-", "_" or ".", starting and ending with a letter or digit',
      'metadata.labels["example.com/ok"]: a label value must be empty or consist of letters, digits, "-", "_" or ".", starting and ending with a letter or digit, got "-bad"',
    ]);
    assert.deepEqual(paths(withBase({}, { nodeSelector: { 'EXAMPLE.com/x': 'y' } })), ['spec.nodeSelector["EXAMPLE.com/x"]: prefix "EXAMPLE.com" must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit']);
  });

  it('checks quantities parse, are not negative, and requests do not exceed limits', () => {
    assert.deepEqual(paths(withBase({ resources: { limits: { cpu: '1 core' } } })), ['spec.containers[name=base].resources.limits.cpu: expected a quantity such as "500m", "2", "1.5Gi" or "512Mi", got "1 core"']);
    assert.deepEqual(paths(withBase({ resources: { requests: { memory: '-1Gi' } } })), ['spec.containers[name=base].resources.requests.memory: must not be negative, got "-1Gi"']);
    assert.deepEqual(paths(withBase({ resources: { requests: { cpu: '1500m' }, limits: { cpu: '1' } } })), ['spec.containers[name=base].resources.requests.cpu: request "1500m" exceeds the limit "1"']);
    assert.deepEqual(paths(withBase({ resources: { requests: { cpu: '1000m' }, limits: { cpu: 1 } } })), []);
  });

  it('checks names are unique: containers (all kinds), env, volumes, mount paths, ports', () => {
    assert.deepEqual(paths(pod({ containers: [{ name: 'a', image: 'i' }], initContainers: [{ name: 'a', image: 'i' }] })), [
      'spec.initContainers[name=a].name: duplicate container name "a" (names must be unique across containers, initContainers and ephemeralContainers)',
    ]);
    assert.deepEqual(paths(withBase({ env: [{ name: 'X', value: '1' }, { name: 'X', value: '2' }] })), ['spec.containers[name=base].env[name=X].name: duplicate environment variable "X"']);
    assert.deepEqual(paths(withBase({}, { volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }] })), ['spec.volumes[name=v].name: duplicate volume name "v"']);
    assert.deepEqual(paths(withBase({ volumeMounts: [{ name: 'v', mountPath: '/a' }, { name: 'v', mountPath: '/a' }] }, { volumes: [{ name: 'v', emptyDir: {} }] })), ['spec.containers[name=base].volumeMounts[mountPath=/a].mountPath: duplicate mountPath "/a"']);
    assert.deepEqual(paths(withBase({ ports: [{ name: 'web', containerPort: 80 }, { name: 'web', containerPort: 81 }] })), ['spec.containers[name=base].ports[name=web].name: duplicate port name "web"']);
  });

  it('checks mounts refer to volumes and volumes have exactly one source', () => {
    assert.deepEqual(paths(withBase({ volumeMounts: [{ name: 'nope', mountPath: '/a' }] })), ['spec.containers[name=base].volumeMounts[mountPath=/a].name: no volume named "nope" in spec.volumes']);
    assert.deepEqual(paths(withBase({}, { volumes: [{ name: 'v' }] })), ['spec.volumes[name=v]: a volume needs exactly one source (e.g. emptyDir, configMap, secret, persistentVolumeClaim)']);
    assert.deepEqual(paths(withBase({}, { volumes: [{ name: 'v', emptyDir: {}, configMap: { name: 'c' } }] })), ['spec.volumes[name=v]: a volume needs exactly one source, has 2: emptyDir, configMap']);
  });

  it('checks env names, port names and ranges, env value vs valueFrom, tolerations', () => {
    assert.deepEqual(paths(withBase({ env: [{ name: '1X', value: 'v' }] })), ['spec.containers[name=base].env[name=1X].name: an environment variable name must consist of letters, digits, "_", "-" or ".", and not start with a digit, got "1X"']);
    assert.deepEqual(paths(withBase({ env: [{ name: 'X', value: 'v', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }] })), ['spec.containers[name=base].env[name=X]: set either value or valueFrom, not both']);
    assert.deepEqual(paths(withBase({ ports: [{ name: 'a-very-long-port-name', containerPort: 0 }] })), [
      'spec.containers[name=base].ports[name=a-very-long-port-name].name: a port name must be at most 15 characters (is 21), got "a-very-long-port-name"',
      'spec.containers[name=base].ports[name=a-very-long-port-name].containerPort: must be between 1 and 65535, got 0',
    ]);
    assert.deepEqual(paths(withBase({}, { tolerations: [{ key: 'k', operator: 'Exists', value: 'v' }] })), ['spec.tolerations[0].value: must be empty when operator is "Exists"']);
  });

  it('requires an image except for the containers it is told may lack one', () => {
    const p = pod({ containers: [{ name: 'base' }, { name: 'side' }] });
    assert.deepEqual(paths(p), ['spec.containers[name=base].image: is required', 'spec.containers[name=side].image: is required']);
    assert.deepEqual(validatePod(p, { imageOptional: ['base'] }).map((i) => i.path), ['spec.containers[name=side].image']);
  });

  it('rejects what is not a pod at all', () => {
    assert.deepEqual(validatePod([1]), [{ path: '', message: 'expected a Pod object (a mapping with metadata and spec), got [1]' }]);
    assert.deepEqual(paths({ ...withBase({}), kind: 'Deployment' }), ['kind: expected one of "Pod", got "Deployment"']);
  });
});
