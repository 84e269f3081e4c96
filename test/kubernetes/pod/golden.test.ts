// Golden tests: (template, override, legacy config, hook) → the exact pod, as YAML under test/fixtures/pods/golden/.
// Regenerate after an intended change with UPDATE_GOLDEN=1 and review the diff.
import { V1Container, V1EnvVar, V1ObjectMeta, V1Pod, V1PodSpec, V1ResourceRequirements, V1Toleration } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ExecutorConfig } from '../../../src/sdk/types.ts';
import {
  buildWorkerPod,
  loadMutationHook,
  loadPodTemplates,
  podToYaml,
  validatePod,
  type KubernetesPodConfig,
} from '../../../src/kubernetes/pod/index.ts';
import { CFG, FIXTURES, fixedRandom, task } from './helpers.ts';

interface Case {
  /** Golden file name (several cases may share one: same pod from different spellings). */
  golden: string;
  why: string;
  executorConfig?: ExecutorConfig | null;
  queue?: string;
  hook?: string;
  cfg?: Partial<KubernetesPodConfig>;
  dagId?: string;
  taskId?: string;
  runId?: string;
  tryNumber?: number;
  mapIndex?: number;
  schedulerId?: string;
  /** Warnings the build gives, each matched by a pattern (default: one deprecation for legacy keys, else none). */
  warnings?: RegExp[];
}

// The seed's example: add a label and an env var STATE=wa — as a plain object, a V1Pod, and via the alias.
const seedPlain = { metadata: { labels: { state: 'wa' } }, spec: { containers: [{ name: 'base', env: [{ name: 'STATE', value: 'wa' }] }] } };
function seedV1Pod(): V1Pod {
  const env = new V1EnvVar();
  env.name = 'STATE';
  env.value = 'wa';
  const base = new V1Container();
  base.name = 'base';
  base.env = [env];
  const meta = new V1ObjectMeta();
  meta.labels = { state: 'wa' };
  const spec = new V1PodSpec();
  spec.containers = [base];
  const pod = new V1Pod();
  pod.metadata = meta;
  pod.spec = spec;
  return pod;
}
function gpuV1Pod(): V1Pod {
  const res = new V1ResourceRequirements();
  res.limits = { 'nvidia.com/gpu': '2', memory: '8Gi' };
  const base = new V1Container();
  base.name = 'base';
  base.resources = res;
  const tol = new V1Toleration();
  tol.key = 'nvidia.com/gpu';
  tol.operator = 'Exists';
  tol.effect = 'NoSchedule';
  tol.tolerationSeconds = 60;
  const pod = new V1Pod();
  pod.spec = { containers: [base], tolerations: [tol] };
  return pod;
}

const CASES: Case[] = [
  { golden: 'default-template', why: 'no override: the default template with Floe identity (args cleared, command set, restartPolicy Never)' },
  { golden: 'builtin-default', why: 'no template configured: the built-in pod with one base container running workerImage', cfg: { podTemplateFile: null } },
  { golden: 'seed-example', why: "the seed's example: a label and env STATE=wa, as a plain object", executorConfig: { podOverride: seedPlain } },
  { golden: 'seed-example', why: 'the same override as a V1Pod instance gives the same pod', executorConfig: { podOverride: seedV1Pod() } },
  { golden: 'seed-example', why: 'the same override through the pod_override alias gives the same pod', executorConfig: { pod_override: seedPlain } },
  {
    golden: 'scalars-and-maps',
    why: 'scalars from the override win; labels, annotations, nodeSelector, resources merge key by key',
    executorConfig: {
      podOverride: {
        metadata: { labels: { tier: 'interactive', team: 'geo' }, annotations: { 'example.com/ticket': 'OPS-1' } },
        spec: {
          serviceAccountName: 'geo-worker',
          nodeSelector: { disk: 'nvme', zone: 'eu-west-1a' },
          containers: [{ name: 'base', image: 'geo:2.1', imagePullPolicy: 'Always', resources: { requests: { memory: '2Gi' }, limits: { memory: '4Gi' } } }],
        },
      },
    },
  },
  {
    golden: 'null-removes',
    why: 'an explicit null removes a field: a map key, a whole object, a scalar',
    executorConfig: {
      podOverride: {
        metadata: { labels: { tier: null }, annotations: null },
        spec: {
          securityContext: null,
          nodeSelector: { disk: null },
          containers: [{ name: 'base', imagePullPolicy: null, resources: { limits: { memory: null } } }],
        },
      },
    },
  },
  {
    golden: 'containers-by-name',
    why: 'containers match by name: base and log-shipper merge field by field, a new sidecar and init container are added, lists inside a container (args) are replaced',
    executorConfig: {
      podOverride: {
        spec: {
          containers: [
            { name: 'log-shipper', args: ['--config', '/etc/other.conf'], resources: { limits: { cpu: '100m' } } },
            { name: 'proxy', image: 'cloud-sql-proxy:2', args: ['--port', '5432'] },
            { name: 'base', workingDir: '/work' },
          ],
          initContainers: [
            { name: 'fetch-code', image: 'busybox:1.37' },
            { name: 'migrate', image: 'floe:test', command: ['floe', 'db', 'migrate'] },
          ],
        },
      },
    },
  },
  {
    golden: 'lists-by-identity',
    why: 'env by name (replaced whole: value→valueFrom), envFrom by source, volumeMounts by mountPath, volumes by name, ports by name, tolerations by what they tolerate, imagePullSecrets by name',
    executorConfig: {
      podOverride: {
        spec: {
          containers: [
            {
              name: 'base',
              env: [
                { name: 'LOG_LEVEL', valueFrom: { configMapKeyRef: { name: 'logging', key: 'level' } } },
                { name: 'STATE', value: 'wa' },
              ],
              envFrom: [{ configMapRef: { name: 'floe-settings', optional: true } }, { secretRef: { name: 'db-credentials' } }],
              volumeMounts: [
                { name: 'scratch', mountPath: '/scratch', subPath: 'tmp' },
                { name: 'data', mountPath: '/data' },
              ],
              ports: [{ name: 'metrics', containerPort: 9200 }],
            },
          ],
          volumes: [
            { name: 'scratch', ephemeral: { volumeClaimTemplate: { spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } } } } },
            { name: 'data', persistentVolumeClaim: { claimName: 'geo-data' } },
          ],
          tolerations: [
            { key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule', tolerationSeconds: 30 },
            { key: 'spot', operator: 'Exists' },
          ],
          imagePullSecrets: [{ name: 'registry' }, { name: 'registry-eu' }],
        },
      },
    },
  },
  {
    golden: 'atomic-lists',
    why: 'lists without an identity (hostAliases, dnsConfig.nameservers) are replaced whole; the object around them still merges',
    executorConfig: {
      podOverride: {
        spec: {
          hostAliases: [{ ip: '10.0.0.1', hostnames: ['db.internal'] }],
          dnsConfig: { nameservers: ['8.8.8.8'] },
        },
      },
    },
  },
  { golden: 'template-by-name', why: 'executorConfig.podTemplate picks a named template, the override merges onto it (V1Pod instance)', executorConfig: { podTemplate: 'gpu', podOverride: gpuV1Pod() } },
  { golden: 'template-by-queue', why: 'a task on queue gpu_queue gets the template kubernetes.queueTemplates maps it to', queue: 'gpu_queue' },
  { golden: 'template-by-file', why: "executorConfig.podTemplateFile names a file; its base has no image, so workerImage is used", executorConfig: { podTemplateFile: 'templates/minimal.yaml' } },
  {
    golden: 'legacy',
    why: 'Airflow 1.10 KubernetesExecutor keys become the equivalent podOverride',
    executorConfig: {
      KubernetesExecutor: {
        image: 'geo:legacy',
        image_pull_policy: 'Always',
        request_cpu: '500m',
        request_memory: '512Mi',
        limit_cpu: 2,
        limit_memory: '2Gi',
        limit_gpu: 1,
        node_selectors: { disk: 'hdd' },
        affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'zone', operator: 'In', values: ['a', 'b'] }] }] } } },
        tolerations: [{ key: 'legacy', operator: 'Exists' }],
        annotations: { 'example.com/legacy': 'yes' },
        labels: { migrated: 'false' },
        volumes: [{ name: 'legacy-data', hostPath: { path: '/mnt/data' } }],
        volume_mounts: [{ name: 'legacy-data', mountPath: '/legacy' }],
        service_account_name: 'legacy-sa',
        env: { STATE: 'wa', RETRIES: 3 },
        image_pull_secrets: 'registry, legacy-registry',
        security_context: null,
      },
    },
  },
  {
    golden: 'legacy-and-override',
    why: 'legacy keys apply first, then the podOverride (which wins)',
    executorConfig: { KubernetesExecutor: { request_memory: '1Gi', labels: { migrated: 'false' } }, podOverride: { metadata: { labels: { migrated: 'true' } } } },
  },
  { golden: 'namespace-from-override', why: 'a namespace set by the override is kept; name and generateName are always Floe\'s', executorConfig: { podOverride: { metadata: { namespace: 'geo', name: 'mine', generateName: 'x-' } } }, warnings: [/^executorConfig\.podOverride sets fields that Floe's identity replaces, so they have no effect: metadata\.name, metadata\.generateName /] },
  { golden: 'hook-in-place', why: 'a hook that mutates the pod in place (it receives V1Pod instances)', hook: 'add-label.ts', executorConfig: { podOverride: seedPlain } },
  { golden: 'hook-returns-pod', why: 'a hook that returns a replacement V1Pod', hook: 'return-new.ts' },
  {
    golden: 'long-ids',
    why: 'long ids: the pod name keeps a share of each id within 63 characters; long label values are cut with a hash',
    dagId: 'd'.repeat(120) + '_nightly',
    taskId: 'extract_' + 't'.repeat(100),
    runId: 'scheduled__2024-01-01T00:00:00.000Z_' + 'r'.repeat(40),
    mapIndex: 12,
    tryNumber: 3,
  },
  {
    golden: 'unicode-and-dots',
    why: 'unicode and dots: the pod name folds accents and turns dots into dashes; labels get a hash where changed',
    dagId: 'Café.Reports',
    taskId: 'Übersicht.load',
    runId: 'manual__Zürich run #1',
    schedulerId: 'scheduler@host-1:8793',
  },
  {
    golden: 'label-boundaries',
    why: 'a 63-character id is a valid label value and stays as it is; 64 characters get cut and hashed',
    dagId: 'a'.repeat(63),
    taskId: 'b'.repeat(64),
    runId: 'manual__2024-01-01',
  },
];

async function build(c: Case) {
  const cfg: KubernetesPodConfig = { ...CFG, ...c.cfg };
  const templates = await loadPodTemplates(cfg);
  const hook = c.hook ? await loadMutationHook(path.join(FIXTURES, 'hooks', c.hook)) : null;
  return buildWorkerPod({
    dagId: c.dagId ?? 'geo_reports',
    taskId: c.taskId ?? 'load_tiles',
    runId: c.runId ?? 'manual__2024-05-01T12:00:00.000Z',
    tryNumber: c.tryNumber ?? 1,
    mapIndex: c.mapIndex ?? -1,
    schedulerId: c.schedulerId ?? 'scheduler-1',
    task: task(c.taskId ?? 'load_tiles', c.executorConfig ?? null, c.queue),
    templates,
    cfg,
    hook,
    random: fixedRandom(),
  });
}

describe('golden pods', () => {
  for (const c of CASES) {
    it(`${c.golden}: ${c.why}`, async () => {
      const { pod, warnings } = await build(c);
      assert.deepEqual(validatePod(pod), [], 'every golden pod is valid');
      const text = podToYaml(pod);
      const file = path.join(FIXTURES, 'golden', `${c.golden}.yaml`);
      if (process.env.UPDATE_GOLDEN) writeFileSync(file, text);
      assert.ok(existsSync(file), `missing golden file ${file}; run with UPDATE_GOLDEN=1`);
      assert.equal(text, readFileSync(file, 'utf8'));
      const expected = c.warnings ?? (c.executorConfig && 'KubernetesExecutor' in c.executorConfig ? [/ is deprecated; write this instead: /] : []);
      assert.equal(warnings.length, expected.length, warnings.join('\n'));
      expected.forEach((re, i) => assert.match(warnings[i], re));
    });
  }
});
