// One test per merge rule of docs/kubernetes.md ("Merge rules").
import { V1Container, V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { applyOverride, PodPipelineError } from '../../../src/kubernetes/pod/index.ts';

const template = (): V1Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { labels: { app: 'w', tier: 'batch' }, annotations: { a: '1' } },
  spec: {
    serviceAccountName: 'sa',
    nodeSelector: { pool: 'batch', disk: 'ssd' },
    tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
    imagePullSecrets: [{ name: 'registry' }],
    initContainers: [{ name: 'init', image: 'busybox', command: ['true'] }],
    containers: [
      {
        name: 'base',
        image: 'floe:1',
        args: ['a', 'b'],
        env: [
          { name: 'A', value: '1' },
          { name: 'B', value: '2' },
        ],
        envFrom: [{ configMapRef: { name: 'cm' } }],
        ports: [{ name: 'metrics', containerPort: 9100 }],
        resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '1Gi' } },
        volumeMounts: [{ name: 'code', mountPath: '/code', readOnly: true }],
      },
      { name: 'sidecar', image: 'side:1' },
    ],
    volumes: [{ name: 'code', emptyDir: {} }],
  },
});

const base = (p: V1Pod) => p.spec!.containers.find((c) => c.name === 'base')!;
const names = (xs: { name?: string }[] | undefined) => (xs ?? []).map((x) => x.name);

describe('applyOverride merge rules', () => {
  it('scalars: the override wins', () => {
    const p = applyOverride(template(), { spec: { serviceAccountName: 'other', containers: [{ name: 'base', image: 'floe:2' }] } });
    assert.equal(p.spec!.serviceAccountName, 'other');
    assert.equal(base(p).image, 'floe:2');
  });

  it('explicit null removes a field, a map key or a whole object', () => {
    const p = applyOverride(template(), {
      metadata: { labels: { tier: null }, annotations: null },
      spec: { serviceAccountName: null, containers: [{ name: 'base', resources: { limits: null } }] },
    });
    assert.deepEqual(p.metadata!.labels, { app: 'w' });
    assert.equal(p.metadata!.annotations, undefined);
    assert.equal('serviceAccountName' in p.spec!, false);
    assert.deepEqual(base(p).resources, { requests: { cpu: '250m', memory: '256Mi' } });
  });

  it('labels, annotations and nodeSelector merge key by key', () => {
    const p = applyOverride(template(), { metadata: { labels: { team: 'geo', tier: 'fast' }, annotations: { b: '2' } }, spec: { nodeSelector: { disk: 'nvme' } } });
    assert.deepEqual(p.metadata!.labels, { app: 'w', tier: 'fast', team: 'geo' });
    assert.deepEqual(p.metadata!.annotations, { a: '1', b: '2' });
    assert.deepEqual(p.spec!.nodeSelector, { pool: 'batch', disk: 'nvme' });
  });

  it('resources.requests and limits merge key by key', () => {
    const p = applyOverride(template(), { spec: { containers: [{ name: 'base', resources: { limits: { memory: '4Gi', 'nvidia.com/gpu': '1' } } }] } });
    assert.deepEqual(base(p).resources, { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '4Gi', 'nvidia.com/gpu': '1' } });
  });

  it('containers match by name: a named container merges field by field, wherever it is in the list', () => {
    // Airflow would merge the first override container onto the first template container (base) here.
    const p = applyOverride(template(), { spec: { containers: [{ name: 'sidecar', image: 'side:2' }] } });
    assert.deepEqual(names(p.spec!.containers), ['base', 'sidecar']);
    assert.equal(base(p).image, 'floe:1');
    assert.equal(p.spec!.containers[1].image, 'side:2');
  });

  it('containers with a new name are added after the template\'s', () => {
    const p = applyOverride(template(), { spec: { containers: [{ name: 'proxy', image: 'proxy:1' }] } });
    assert.deepEqual(names(p.spec!.containers), ['base', 'sidecar', 'proxy']);
  });

  it('initContainers match by name too', () => {
    const p = applyOverride(template(), { spec: { initContainers: [{ name: 'init', image: 'busybox:2' }, { name: 'migrate', image: 'm' }] } });
    assert.deepEqual(names(p.spec!.initContainers), ['init', 'migrate']);
    assert.deepEqual(p.spec!.initContainers![0], { name: 'init', image: 'busybox:2', command: ['true'] });
  });

  it('env merges by name; a matched entry is replaced whole (value and valueFrom never both)', () => {
    const p = applyOverride(template(), { spec: { containers: [{ name: 'base', env: [{ name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }, { name: 'C', value: '3' }] }] } });
    assert.deepEqual(base(p).env, [
      { name: 'A', value: '1' },
      { name: 'B', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } },
      { name: 'C', value: '3' },
    ]);
  });

  it('envFrom merges by the ConfigMap/Secret it refers to', () => {
    const p = applyOverride(template(), { spec: { containers: [{ name: 'base', envFrom: [{ configMapRef: { name: 'cm' }, prefix: 'X_' }, { secretRef: { name: 'cm' } }] }] } });
    assert.deepEqual(base(p).envFrom, [{ configMapRef: { name: 'cm' }, prefix: 'X_' }, { secretRef: { name: 'cm' } }]);
  });

  it('volumeMounts merge by mountPath (one volume may be mounted at several paths)', () => {
    const p = applyOverride(template(), {
      spec: { containers: [{ name: 'base', volumeMounts: [{ name: 'code', mountPath: '/code' }, { name: 'code', mountPath: '/code2', subPath: 'x' }] }] },
    });
    assert.deepEqual(base(p).volumeMounts, [
      { name: 'code', mountPath: '/code' },
      { name: 'code', mountPath: '/code2', subPath: 'x' },
    ]);
  });

  it('volumes merge by name; a matched volume is replaced whole (one source per volume)', () => {
    const p = applyOverride(template(), { spec: { volumes: [{ name: 'code', configMap: { name: 'code' } }, { name: 'data', emptyDir: {} }] } });
    assert.deepEqual(p.spec!.volumes, [
      { name: 'code', configMap: { name: 'code' } },
      { name: 'data', emptyDir: {} },
    ]);
  });

  it('ports merge by name, or by port and protocol when unnamed', () => {
    const byName = applyOverride(template(), { spec: { containers: [{ name: 'base', ports: [{ name: 'metrics', containerPort: 9200 }] }] } });
    assert.deepEqual(base(byName).ports, [{ name: 'metrics', containerPort: 9200 }]);
    const byNumber = applyOverride(template(), { spec: { containers: [{ name: 'base', ports: [{ containerPort: 9100, hostPort: 9100 }, { containerPort: 9100, protocol: 'UDP' }] }] } });
    assert.deepEqual(base(byNumber).ports, [{ containerPort: 9100, hostPort: 9100 }, { containerPort: 9100, protocol: 'UDP' }]);
  });

  it('tolerations merge by what they tolerate (key, operator, value, effect); tolerationSeconds is a setting', () => {
    const p = applyOverride(template(), {
      spec: {
        tolerations: [
          { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule', tolerationSeconds: 5 },
          { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoExecute' },
        ],
      },
    });
    assert.deepEqual(p.spec!.tolerations, [
      { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule', tolerationSeconds: 5 },
      { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoExecute' },
    ]);
  });

  it('imagePullSecrets merge by name', () => {
    const p = applyOverride(template(), { spec: { imagePullSecrets: [{ name: 'registry' }, { name: 'other' }] } });
    assert.deepEqual(p.spec!.imagePullSecrets, [{ name: 'registry' }, { name: 'other' }]);
  });

  it('other lists (command, args, hostAliases, …) are replaced whole', () => {
    const p = applyOverride(template(), { spec: { containers: [{ name: 'base', args: ['c'] }], initContainers: [{ name: 'init', command: ['sh', '-c', 'x'] }] } });
    assert.deepEqual(base(p).args, ['c']);
    assert.deepEqual(p.spec!.initContainers![0].command, ['sh', '-c', 'x']);
  });

  it('a value of another type than the template\'s is the override\'s (validation judges it)', () => {
    const p = applyOverride(template(), { spec: { nodeSelector: 'x' } });
    assert.equal(p.spec!.nodeSelector as unknown, 'x');
  });

  it('a V1Pod instance merges like the equivalent plain object; its unset fields remove nothing', () => {
    const c = new V1Container();
    c.name = 'base';
    c.image = 'floe:2';
    const pod = new V1Pod();
    pod.spec = { containers: [c] };
    const fromInstance = applyOverride(template(), pod);
    assert.deepEqual(fromInstance, applyOverride(template(), { spec: { containers: [{ name: 'base', image: 'floe:2' }] } }));
    assert.deepEqual(base(fromInstance).env, base(template()).env);
  });

  it('leaves its inputs untouched', () => {
    const t = template();
    const o = { spec: { containers: [{ name: 'base', env: [{ name: 'Z', value: 'z' }] }] } };
    const before = [JSON.stringify(t), JSON.stringify(o)];
    applyOverride(t, o);
    assert.deepEqual([JSON.stringify(t), JSON.stringify(o)], before);
  });

  it('nulls inside new entries mean "absent", never null values in the pod', () => {
    const p = applyOverride(template(), { spec: { containers: [{ name: 'proxy', image: 'p', args: null }], volumes: [{ name: 'v', emptyDir: { medium: null } }] } });
    assert.deepEqual(p.spec!.containers[2], { name: 'proxy', image: 'p' });
    assert.deepEqual(p.spec!.volumes![1], { name: 'v', emptyDir: {} });
  });

  it('status cannot be overridden, except the empty status kubectl writes', () => {
    assert.deepEqual(applyOverride(template(), { status: {} }), template());
    assert.throws(() => applyOverride(template(), { status: { phase: 'Running' } }), /executorConfig\.podOverride\.status: a pod status is set by Kubernetes/);
  });

  it('two entries with the same identity in one override are an error', () => {
    assert.throws(
      () => applyOverride(template(), { spec: { containers: [{ name: 'x', image: 'a' }, { name: 'x', image: 'b' }] } }),
      (e: unknown) => e instanceof PodPipelineError && e.path === 'executorConfig.podOverride.spec.containers[name=x]' && /entries 0 and 1/.test(e.message),
    );
  });

  it('never produces two entries with the same name, whatever the mix of template and override', () => {
    // The template's lists already hold A, B / code / metrics; overrides repeat, add and reorder them.
    const overrides = [
      { env: [{ name: 'B', value: 'x' }, { name: 'A', value: 'y' }, { name: 'D', value: 'z' }] },
      { ports: [{ name: 'web', containerPort: 9100 }, { name: 'metrics', containerPort: 1 }] },
      { volumeMounts: [{ name: 'code', mountPath: '/code' }, { name: 'code', mountPath: '/other' }] },
    ];
    for (const fields of overrides) {
      const p = applyOverride(template(), { spec: { containers: [{ name: 'base', ...fields }, { name: 'base2', image: 'x' }], volumes: [{ name: 'code', emptyDir: {} }] } });
      for (const list of [p.spec!.containers, p.spec!.volumes, base(p).env, base(p).ports]) {
        const ns = names(list);
        assert.equal(new Set(ns).size, ns.length, `duplicate in ${JSON.stringify(ns)}`);
      }
      const mounts = (base(p).volumeMounts ?? []).map((m) => m.mountPath);
      assert.equal(new Set(mounts).size, mounts.length);
    }
  });
});
