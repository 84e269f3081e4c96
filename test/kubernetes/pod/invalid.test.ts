// At least 20 invalid inputs, each with the exact error: stage, path and message.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import type { ExecutorConfig } from '../../../src/sdk/types.ts';
import {
  buildWorkerPod,
  loadMutationHook,
  loadPodTemplates,
  PodPipelineError,
  type KubernetesPodConfig,
} from '../../../src/kubernetes/pod/index.ts';
import { CFG, FIXTURES, fixedRandom, task } from './helpers.ts';

interface Expected {
  stage: PodPipelineError['stage'];
  path: string;
  /** The whole error message (source, path and detail). */
  message: string;
}

interface Case {
  why: string;
  /** A template file under fixtures/pods/templates/invalid/ used as the default template. */
  template?: string;
  executorConfig?: ExecutorConfig;
  hook?: string;
  cfg?: Partial<KubernetesPodConfig>;
  expected: Expected;
}

const T = (f: string) => path.join(FIXTURES, 'templates', 'invalid', f);
const H = (f: string) => path.join(FIXTURES, 'hooks', f);
const DEFAULT = path.join(FIXTURES, 'templates', 'default.yaml');
const override = (spec: Record<string, unknown>, metadata?: Record<string, unknown>): ExecutorConfig => ({ podOverride: { ...(metadata ? { metadata } : {}), spec } });
const base = (fields: Record<string, unknown>) => override({ containers: [{ name: 'base', ...fields }] });

const CASES: Case[] = [
  // Templates
  {
    why: 'template without a base container',
    template: 'no-base.yaml',
    expected: { stage: 'template', path: 'spec.containers', message: `pod template ${T('no-base.yaml')}: spec.containers: no container named "base": the worker runs in the container named "base", add one` },
  },
  {
    why: 'template that is not YAML',
    template: 'bad-yaml.yaml',
    expected: { stage: 'template', path: '', message: `pod template ${T('bad-yaml.yaml')}: invalid YAML: Flow sequence in block collection must be sufficiently indented and end with a ] at line 7, column 1` },
  },
  {
    why: 'template with two documents',
    template: 'two-docs.yaml',
    expected: { stage: 'template', path: '', message: `pod template ${T('two-docs.yaml')}: expected one YAML document holding a Pod, found 2` },
  },
  {
    why: 'template holding a list',
    template: 'list.yaml',
    expected: { stage: 'template', path: '', message: `pod template ${T('list.yaml')}: expected a Pod (a mapping with apiVersion, kind, metadata, spec), got a list` },
  },
  {
    why: 'empty template',
    template: 'empty.yaml',
    expected: { stage: 'template', path: '', message: `pod template ${T('empty.yaml')}: expected one YAML document holding a Pod, found 0` },
  },
  {
    why: 'template of another kind',
    template: 'kind-job.yaml',
    expected: { stage: 'template', path: 'apiVersion', message: `pod template ${T('kind-job.yaml')}: apiVersion: expected one of "v1", got "batch/v1"\n  kind: expected one of "Pod", got "Job"` },
  },
  {
    why: 'template with a misspelt field',
    template: 'unknown-field.yaml',
    expected: { stage: 'template', path: 'spec.containers[name=base].resouces', message: `pod template ${T('unknown-field.yaml')}: spec.containers[name=base].resouces: unknown field; did you mean "resources"?` },
  },
  {
    why: 'template with a bad quantity',
    template: 'bad-quantity.yaml',
    expected: { stage: 'template', path: 'spec.containers[name=base].resources.limits.memory', message: `pod template ${T('bad-quantity.yaml')}: spec.containers[name=base].resources.limits.memory: expected a quantity such as "500m", "2", "1.5Gi" or "512Mi", got "2 gigabytes"` },
  },
  {
    why: 'template with a status',
    template: 'status.yaml',
    expected: { stage: 'template', path: 'status', message: `pod template ${T('status.yaml')}: status: a pod status is set by Kubernetes; remove it from the template` },
  },
  {
    why: 'template with a container name used twice',
    template: 'duplicate-container.yaml',
    expected: { stage: 'template', path: 'spec.initContainers[name=sidecar].name', message: `pod template ${T('duplicate-container.yaml')}: spec.initContainers[name=sidecar].name: duplicate container name "sidecar" (names must be unique across containers, initContainers and ephemeralContainers)` },
  },
  {
    why: 'template file that does not exist',
    template: 'missing.yaml',
    expected: { stage: 'template', path: '', message: `pod template ${T('missing.yaml')}: cannot read the file (ENOENT)` },
  },
  // Template selection
  { why: 'unknown template name', executorConfig: { podTemplate: 'gpu2' }, expected: { stage: 'template', path: 'executorConfig.podTemplate', message: 'executorConfig.podTemplate: no template named "gpu2"; known: default, gpu, minimal' } },
  { why: 'podTemplate and podTemplateFile both', executorConfig: { podTemplate: 'gpu', podTemplateFile: 'templates/gpu.yaml' }, expected: { stage: 'template', path: 'executorConfig.podTemplateFile', message: 'executorConfig.podTemplateFile: set either podTemplate or podTemplateFile, not both' } },
  { why: 'podTemplate not a string', executorConfig: { podTemplate: 3 as unknown as string }, expected: { stage: 'template', path: 'executorConfig.podTemplate', message: 'executorConfig.podTemplate: expected a template name, got number 3' } },
  { why: 'queue mapped to an unknown template', cfg: { queueTemplates: { gpu_queue: 'tpu' } }, expected: { stage: 'template', path: 'kubernetes.queueTemplates.gpu_queue', message: 'kubernetes.queueTemplates.gpu_queue: no template named "tpu"; known: default, gpu, minimal' } },
  // podOverride
  { why: 'podOverride and pod_override both', executorConfig: { podOverride: {}, pod_override: {} }, expected: { stage: 'override', path: 'executorConfig.pod_override', message: 'executorConfig.pod_override: set either podOverride or its alias pod_override, not both' } },
  { why: 'podOverride that is a string', executorConfig: { podOverride: 'spec: {}' as unknown as object }, expected: { stage: 'override', path: 'executorConfig.podOverride', message: 'executorConfig.podOverride: expected a pod (an object or a V1Pod), got string "spec: {}"' } },
  { why: 'override container without a name', executorConfig: override({ containers: [{ image: 'x' }] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[0].name', message: 'executorConfig.podOverride.spec.containers[0].name: containers are matched by name, so every container in an override needs a "name"' } },
  { why: 'override with a status', executorConfig: { podOverride: { status: { phase: 'Running' } } }, expected: { stage: 'override', path: 'executorConfig.podOverride.status', message: 'executorConfig.podOverride.status: a pod status is set by Kubernetes; remove it from the override' } },
  { why: 'override cpu limit that is not a quantity', executorConfig: base({ resources: { limits: { cpu: 'two' } } }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu', message: 'executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu: expected a quantity such as "500m", "2", "1.5Gi" or "512Mi", got "two"' } },
  { why: 'override with a misspelt field', executorConfig: base({ envv: [] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=base].envv', message: 'executorConfig.podOverride.spec.containers[name=base].envv: unknown field; did you mean "env"?' } },
  { why: 'override listing an env var twice', executorConfig: base({ env: [{ name: 'A', value: '1' }, { name: 'A', value: '2' }] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=base].env[name=A]', message: 'executorConfig.podOverride.spec.containers[name=base].env[name=A]: two entries with the same name (name=A): entries 0 and 1 of the list' } },
  { why: 'override mounting a volume that does not exist', executorConfig: base({ volumeMounts: [{ name: 'data', mountPath: '/data' }] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=base].volumeMounts[mountPath=/data].name', message: 'executorConfig.podOverride.spec.containers[name=base].volumeMounts[mountPath=/data].name: no volume named "data" in spec.volumes (volumes: code, scratch)' } },
  { why: 'override label value with spaces', executorConfig: override({}, { labels: { team: 'geo team' } }), expected: { stage: 'override', path: 'executorConfig.podOverride.metadata.labels.team', message: 'executorConfig.podOverride.metadata.labels.team: a label value must be empty or consist of letters, digits, "-", "_" or ".", starting and ending with a letter or digit, got "geo team"' } },
  {
    why: 'override request above the template\'s limit',
    executorConfig: base({ resources: { requests: { memory: '2Gi' } } }),
    expected: {
      stage: 'override',
      path: 'executorConfig.podOverride.spec.containers[name=base].resources.requests.memory',
      message: `executorConfig.podOverride.spec.containers[name=base].resources.requests.memory: request "2Gi" exceeds the limit "1Gi" that pod template ${DEFAULT} sets (spec.containers[name=base].resources.limits.memory); lower the request, or set a higher limit too`,
    },
  },
  {
    why: 'override limit below the template\'s request: named at the limit the user set',
    executorConfig: base({ resources: { limits: { cpu: '100m' } } }),
    expected: {
      stage: 'override',
      path: 'executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu',
      message: `executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu: limit "100m" is below the request "250m" that pod template ${DEFAULT} sets (spec.containers[name=base].resources.requests.cpu); raise the limit, or set a lower request too`,
    },
  },
  {
    why: 'override setting both a request and a lower limit',
    executorConfig: base({ resources: { requests: { cpu: '2' }, limits: { cpu: '500m' } } }),
    expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=base].resources.requests.cpu', message: 'executorConfig.podOverride.spec.containers[name=base].resources.requests.cpu: request "2" exceeds the limit "500m"' },
  },
  {
    why: 'override limit below a request the legacy block set',
    executorConfig: { KubernetesExecutor: { request_cpu: '750m' }, podOverride: { spec: { containers: [{ name: 'base', resources: { limits: { cpu: '500m' } } }] } } },
    expected: {
      stage: 'override',
      path: 'executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu',
      message: 'executorConfig.podOverride.spec.containers[name=base].resources.limits.cpu: limit "500m" is below the request "750m" that executorConfig.KubernetesExecutor sets (spec.containers[name=base].resources.requests.cpu); raise the limit, or set a lower request too',
    },
  },
  {
    why: 'legacy limit below the template\'s request: named at the legacy key',
    executorConfig: { KubernetesExecutor: { limit_cpu: '100m' } },
    expected: {
      stage: 'legacy',
      path: 'executorConfig.KubernetesExecutor.limit_cpu',
      message: `executorConfig.KubernetesExecutor.limit_cpu: limit "100m" is below the request "250m" that pod template ${DEFAULT} sets (spec.containers[name=base].resources.requests.cpu); raise the limit, or set a lower request too (at spec.containers[name=base].resources.limits.cpu)`,
    },
  },
  { why: 'override removing all containers', executorConfig: override({ containers: null }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers', message: 'executorConfig.podOverride.spec.containers: the pod has no container named "base" (the worker container)' } },
  { why: 'override port out of range', executorConfig: base({ ports: [{ name: 'web', containerPort: 70000 }] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=base].ports[name=web].containerPort', message: 'executorConfig.podOverride.spec.containers[name=base].ports[name=web].containerPort: must be between 1 and 65535, got 70000' } },
  { why: 'override container name not DNS-1123', executorConfig: override({ containers: [{ name: 'Side_Car', image: 'x' }] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=Side_Car].name', message: 'executorConfig.podOverride.spec.containers[name=Side_Car].name: must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit, got "Side_Car"' } },
  { why: 'override env value that is a number', executorConfig: base({ env: [{ name: 'RETRIES', value: 3 }] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=base].env[name=RETRIES].value', message: 'executorConfig.podOverride.spec.containers[name=base].env[name=RETRIES].value: expected string, got 3' } },
  { why: 'override labels that are not a map', executorConfig: { podOverride: { metadata: { labels: 'team=geo' } } }, expected: { stage: 'override', path: 'executorConfig.podOverride.metadata.labels', message: 'executorConfig.podOverride.metadata.labels: expected an object of key: value, got string "team=geo"' } },
  { why: 'override container without an image', executorConfig: override({ containers: [{ name: 'sidecar' }] }), expected: { stage: 'override', path: 'executorConfig.podOverride.spec.containers[name=sidecar].image', message: 'executorConfig.podOverride.spec.containers[name=sidecar].image: is required' } },
  { why: 'override with the alias spelling names the alias', executorConfig: { pod_override: { spec: { containers: [{ name: 'base', resources: { limits: { memory: '1 GB' } } }] } } }, expected: { stage: 'override', path: 'executorConfig.pod_override.spec.containers[name=base].resources.limits.memory', message: 'executorConfig.pod_override.spec.containers[name=base].resources.limits.memory: expected a quantity such as "500m", "2", "1.5Gi" or "512Mi", got "1 GB"' } },
  // Legacy
  { why: 'legacy unknown key', executorConfig: { KubernetesExecutor: { gcp_service_account_key: '/key.json' } }, expected: { stage: 'legacy', path: 'executorConfig.KubernetesExecutor.gcp_service_account_key', message: 'executorConfig.KubernetesExecutor.gcp_service_account_key: unknown key; known keys: image, image_pull_policy, request_memory, request_cpu, request_ephemeral_storage, limit_memory, limit_cpu, limit_gpu, limit_ephemeral_storage, resources, env, envs, volume_mounts, configmaps, node_selectors, affinity, tolerations, volumes, security_context, service_account_name, image_pull_secrets, hostnetwork, dnspolicy, priority_class_name, schedulername, namespace, annotations, labels' } },
  { why: 'legacy value of the wrong type', executorConfig: { KubernetesExecutor: { limit_cpu: { cores: 2 } } }, expected: { stage: 'legacy', path: 'executorConfig.KubernetesExecutor.limit_cpu', message: 'executorConfig.KubernetesExecutor.limit_cpu: expected a quantity such as "500m" or "1Gi", got an object' } },
  { why: 'legacy bad quantity', executorConfig: { KubernetesExecutor: { limit_memory: '2 GB' } }, expected: { stage: 'legacy', path: 'executorConfig.KubernetesExecutor.limit_memory', message: 'executorConfig.KubernetesExecutor.limit_memory: expected a quantity such as "500m", "2", "1.5Gi" or "512Mi", got "2 GB" (at spec.containers[name=base].resources.limits.memory)' } },
  { why: 'legacy block not an object', executorConfig: { KubernetesExecutor: 'image=x' as unknown as Record<string, unknown> }, expected: { stage: 'legacy', path: 'executorConfig.KubernetesExecutor', message: 'executorConfig.KubernetesExecutor: expected an object of Airflow 1.10 settings, got string "image=x"' } },
  // Hooks
  { why: 'hook that throws', hook: 'throws.ts', expected: { stage: 'hook', path: '', message: `podMutationHook in ${H('throws.ts')}: threw: quota service unreachable` } },
  { why: 'hook leaving an invalid pod', hook: 'invalid.ts', expected: { stage: 'hook', path: 'spec.containers[name=base].resources.limits.cpu', message: `podMutationHook in ${H('invalid.ts')} left an invalid pod: spec.containers[name=base].resources.limits.cpu: expected a quantity such as "500m", "2", "1.5Gi" or "512Mi", got "two"` } },
  { why: 'hook changing an identity label', hook: 'breaks-identity.ts', expected: { stage: 'hook', path: 'metadata.labels["floe.dev/dag-id"]', message: `podMutationHook in ${H('breaks-identity.ts')}: metadata.labels["floe.dev/dag-id"]: the hook changed a Floe identity field ("geo" → "someone-else"); hooks may change anything but the pod name, floe.dev/ labels and annotations, the base command and args, and restartPolicy` } },
  { why: 'hook returning a number', hook: 'returns-number.ts', expected: { stage: 'hook', path: '', message: `podMutationHook in ${H('returns-number.ts')}: returned number 42; return nothing (after changing the pod) or a V1Pod` } },
  { why: 'hook module without podMutationHook', hook: 'no-export.ts', expected: { stage: 'hook', path: '', message: `podMutationHook in ${H('no-export.ts')}: the module must export a function named podMutationHook (it exports mutate, version)` } },
  { why: 'hook module that does not exist', hook: 'missing.ts', expected: { stage: 'hook', path: '', message: `podMutationHook in ${H('missing.ts')}: cannot load the module: no such file` } },
];

async function run(c: Case): Promise<unknown> {
  const cfg: KubernetesPodConfig = { ...CFG, ...(c.template ? { podTemplateFile: T(c.template) } : {}), ...c.cfg };
  try {
    const templates = await loadPodTemplates(cfg);
    const hook = c.hook ? await loadMutationHook(H(c.hook)) : null;
    await buildWorkerPod({
      dagId: 'geo',
      taskId: 'load',
      runId: 'manual__2024-05-01T12:00:00.000Z',
      tryNumber: 1,
      mapIndex: -1,
      schedulerId: 's1',
      task: task('load', c.executorConfig ?? null),
      templates,
      cfg,
      hook,
      random: fixedRandom(),
    });
  } catch (e) {
    return e;
  }
  return null;
}

describe('invalid inputs give precise errors', () => {
  assert.ok(CASES.length >= 20);
  for (const c of CASES) {
    it(c.why, async () => {
      const e = await run(c);
      if (process.env.SHOW) console.log(JSON.stringify({ why: c.why, stage: (e as PodPipelineError).stage, path: (e as PodPipelineError).path, message: (e as Error).message }));
      assert.ok(e instanceof PodPipelineError, `expected a PodPipelineError, got ${String(e)}`);
      assert.deepEqual({ stage: e.stage, path: e.path, message: e.message }, c.expected);
    });
  }
});
