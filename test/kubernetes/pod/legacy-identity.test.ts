// Legacy KubernetesExecutor keys → podOverride, and Floe's identity stage.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import {
  applyIdentity,
  identityLabels,
  legacyToOverride,
  LEGACY_KEYS,
  PodPipelineError,
  taskOverrides,
  workerCommand,
  type PodIdentity,
} from '../../../src/kubernetes/pod/index.ts';
import { fixedRandom, task } from './helpers.ts';

describe('legacyToOverride', () => {
  it('maps resources, image and scheduling keys onto the base container and pod spec', () => {
    assert.deepEqual(
      legacyToOverride({
        image: 'img:1',
        request_cpu: '1',
        limit_memory: 512,
        limit_gpu: 1,
        request_ephemeral_storage: '1Gi',
        node_selectors: { a: 'b' },
        service_account_name: 'sa',
        hostnetwork: true,
        dnspolicy: 'ClusterFirst',
        priority_class_name: 'low',
        schedulername: 'custom',
        namespace: 'ns',
        configmaps: ['cm1'],
      }),
      {
        metadata: { namespace: 'ns' },
        spec: {
          containers: [
            {
              name: 'base',
              image: 'img:1',
              resources: { requests: { cpu: '1', 'ephemeral-storage': '1Gi' }, limits: { memory: '512', 'nvidia.com/gpu': '1' } },
              envFrom: [{ configMapRef: { name: 'cm1' } }],
            },
          ],
          nodeSelector: { a: 'b' },
          serviceAccountName: 'sa',
          hostNetwork: true,
          dnsPolicy: 'ClusterFirst',
          priorityClassName: 'low',
          schedulerName: 'custom',
        },
      },
    );
  });

  it('accepts env as a map or a list, resources nested under "resources", pull secrets as a comma list or a list', () => {
    assert.deepEqual(legacyToOverride({ envs: { A: 'x', N: 2 } }).spec, { containers: [{ name: 'base', env: [{ name: 'A', value: 'x' }, { name: 'N', value: '2' }] }] });
    assert.deepEqual(legacyToOverride({ env: [{ name: 'A', value: 'x' }] }).spec, { containers: [{ name: 'base', env: [{ name: 'A', value: 'x' }] }] });
    assert.deepEqual(legacyToOverride({ resources: { request_memory: '1Gi', limit_cpu: null } }).spec, { containers: [{ name: 'base', resources: { requests: { memory: '1Gi' } } }] });
    assert.deepEqual(legacyToOverride({ image_pull_secrets: 'a, b' }).spec, { imagePullSecrets: [{ name: 'a' }, { name: 'b' }] });
    assert.deepEqual(legacyToOverride({ image_pull_secrets: ['a', { name: 'b' }] }).spec, { imagePullSecrets: [{ name: 'a' }, { name: 'b' }] });
  });

  it('treats null (Python None) as not set and an empty block as no override', () => {
    assert.deepEqual(legacyToOverride({ image: null, labels: null }), {});
  });

  it('lists the known keys when a key is unknown', () => {
    assert.throws(
      () => legacyToOverride({ imagee: 'x' }),
      (e: unknown) => e instanceof PodPipelineError && e.stage === 'legacy' && e.path === 'executorConfig.KubernetesExecutor.imagee' && e.message.includes(Object.keys(LEGACY_KEYS).join(', ')),
    );
    assert.throws(() => legacyToOverride({ resources: { limit_cpus: '1' } }), /executorConfig\.KubernetesExecutor\.resources\.limit_cpus: unknown key; known keys: request_memory, request_cpu/);
  });

  it('warns once per task with the podOverride to write instead (legacy and podOverride combined)', () => {
    const o = taskOverrides(task('t', { KubernetesExecutor: { limit_cpu: '1', labels: { a: 'b' } }, podOverride: { metadata: { labels: { c: 'd' } } } }));
    const expected = { metadata: { labels: { a: 'b', c: 'd' } }, spec: { containers: [{ name: 'base', resources: { limits: { cpu: '1' } } }] } };
    assert.equal(o.deprecation, `executorConfig.KubernetesExecutor (Airflow 1.10 style) is deprecated; write this instead: executorConfig: { podOverride: ${JSON.stringify(expected)} }`);
    assert.equal(taskOverrides(task('t', { podOverride: {} })).deprecation, null);
  });
});

const TI: PodIdentity = { dagId: 'etl', taskId: 'load', runId: 'manual__2024-01-01T00:00:00.000Z', tryNumber: 2, mapIndex: 4, schedulerId: 'sched-a' };
const OPTS = { namespace: 'ns', workerImage: 'floe:w', random: fixedRandom() };

function userPod(): V1Pod {
  return {
    metadata: { name: 'user-name', generateName: 'user-', labels: { 'floe.dev/dag-id': 'forged', 'floe.dev/worker': 'false', team: 'geo' }, annotations: { 'floe.dev/run-id': 'forged', note: 'n' } },
    spec: { restartPolicy: 'Always', containers: [{ name: 'side', image: 's' }, { name: 'base', command: ['bash'], args: ['-c', 'x'] }] },
  };
}

describe('applyIdentity', () => {
  it('sets the base command exactly, clears args, fills the image and forces restartPolicy Never', () => {
    const p = applyIdentity(userPod(), TI, OPTS);
    const base = p.spec!.containers.find((c) => c.name === 'base')!;
    assert.deepEqual(base.command, ['floe', 'tasks', 'run', 'etl', 'load', 'manual__2024-01-01T00:00:00.000Z', '--try', '2', '--map-index', '4']);
    assert.deepEqual(base.command, workerCommand(TI));
    assert.equal(base.args, undefined);
    assert.equal(base.image, 'floe:w');
    assert.equal(p.spec!.restartPolicy, 'Never');
    assert.deepEqual(p.spec!.containers.map((c) => c.name), ['side', 'base']);
  });

  it('owns the name and floe.dev labels and annotations; other labels stay', () => {
    const p = applyIdentity(userPod(), TI, OPTS);
    assert.match(p.metadata!.name!, /^etl-load-[a-z0-9]{8}$/);
    assert.equal(p.metadata!.generateName, undefined);
    assert.equal(p.metadata!.namespace, 'ns');
    assert.deepEqual(p.metadata!.labels, {
      team: 'geo',
      'floe.dev/dag-id': 'etl',
      'floe.dev/task-id': 'load',
      'floe.dev/run-id': identityLabels(TI)['floe.dev/run-id'],
      'floe.dev/try-number': '2',
      'floe.dev/map-index': '4',
      'floe.dev/scheduler-id': 'sched-a',
      'floe.dev/worker': 'true',
    });
    assert.deepEqual(p.metadata!.annotations, {
      note: 'n',
      'floe.dev/dag-id': 'etl',
      'floe.dev/task-id': 'load',
      'floe.dev/run-id': 'manual__2024-01-01T00:00:00.000Z',
      'floe.dev/try-number': '2',
      'floe.dev/map-index': '4',
      'floe.dev/scheduler-id': 'sched-a',
    });
  });

  it('labels an unmapped task map-index "none" (-1 is not a valid label value); the annotation keeps -1', () => {
    const p = applyIdentity(userPod(), { ...TI, mapIndex: -1 }, OPTS);
    assert.equal(p.metadata!.labels!['floe.dev/map-index'], 'none');
    assert.equal(p.metadata!.annotations!['floe.dev/map-index'], '-1');
  });

  it('fails without a base container', () => {
    assert.throws(() => applyIdentity({ spec: { containers: [{ name: 'worker', image: 'x' }] } }, TI, OPTS), /spec\.containers: the pod has no container named "base"/);
  });

  it('leaves its input untouched', () => {
    const u = userPod();
    const before = JSON.stringify(u);
    applyIdentity(u, TI, OPTS);
    assert.equal(JSON.stringify(u), before);
  });
});
