// The pipeline for a pod task's pod (podTask, Airflow's KubernetesPodOperator): the same stages as a worker
// pod — template → podOverride → identity → podMutationHook — except that the base container runs the task's
// image, command, args and env instead of Floe's task runner, and the pod is labelled as an operator pod
// (floe.dev/operator), so the Kubernetes executor never takes it for a worker pod of its own.
import type { V1Container, V1EnvVar, V1Pod } from '@kubernetes/client-node';
import type { SerializedTask } from '../../dag/model.ts';
import type { PodTaskSpec } from '../../sdk/pod-task.ts';
import type { KubernetesPodConfig } from './config.ts';
import { PodPipelineError } from './errors.ts';
import { applyMutationHookToPod, type LoadedHook } from './hook.ts';
import { BASE_CONTAINER, cryptoRandom, findBase, type PodIdentity } from './identity.ts';
import { applyOverride } from './merge.ts';
import { labelValue, podName, type RandomSource } from './names.ts';
import { clonePod } from './plain.ts';
import { refreshPodTemplates, selectTemplate, type PodTemplates } from './templates.ts';
import { validatePod } from './validate.ts';

export const OPERATOR_LABEL = 'floe.dev/operator';
/** Set on an operator pod once a try has taken its outcome: a later try never re-attaches to it. */
export const OPERATOR_DONE = 'floe.dev/operator-done';
const KEYS = {
  dagId: 'floe.dev/dag-id',
  taskId: 'floe.dev/task-id',
  runId: 'floe.dev/run-id',
  mapIndex: 'floe.dev/map-index',
  tryNumber: 'floe.dev/try-number',
} as const;

/** The task instance an operator pod belongs to, as labels (every try of it: re-attaching looks across tries). */
export function operatorSelector(ti: Omit<PodIdentity, 'schedulerId' | 'tryNumber'>): string {
  return [
    `${OPERATOR_LABEL}=true`,
    `${KEYS.dagId}=${labelValue(ti.dagId)}`,
    `${KEYS.taskId}=${labelValue(ti.taskId)}`,
    `${KEYS.runId}=${labelValue(ti.runId)}`,
    `${KEYS.mapIndex}=${ti.mapIndex < 0 ? 'none' : String(ti.mapIndex)}`,
  ].join(',');
}

/** The try an operator pod was created (or last re-attached) for, from its exact-id annotations. */
export function operatorPodTry(pod: V1Pod): number | null {
  const n = Number(pod.metadata?.annotations?.[KEYS.tryNumber]);
  return Number.isInteger(n) ? n : null;
}

/** Labels and annotations that say which try of which task an operator pod is (labels cleaned as Kubernetes requires). */
export function operatorIdentity(ti: Omit<PodIdentity, 'schedulerId'>): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: {
      [KEYS.dagId]: labelValue(ti.dagId),
      [KEYS.taskId]: labelValue(ti.taskId),
      [KEYS.runId]: labelValue(ti.runId),
      [KEYS.tryNumber]: labelValue(String(ti.tryNumber)),
      [KEYS.mapIndex]: ti.mapIndex < 0 ? 'none' : String(ti.mapIndex),
      [OPERATOR_LABEL]: 'true',
    },
    annotations: { [KEYS.dagId]: ti.dagId, [KEYS.taskId]: ti.taskId, [KEYS.runId]: ti.runId, [KEYS.tryNumber]: String(ti.tryNumber), [KEYS.mapIndex]: String(ti.mapIndex) },
  };
}

export interface OperatorPodArgs extends Omit<PodIdentity, 'schedulerId'> {
  task: Pick<SerializedTask, 'executorConfig' | 'queue'> & { pod: PodTaskSpec };
  /** args and env with templates rendered and results filled in (render and validation use the raw templates). */
  args: string[];
  env: Record<string, string>;
  command: string[] | null;
  templates: PodTemplates;
  cfg: KubernetesPodConfig;
  hook?: LoadedHook | null;
  random?: RandomSource;
}

const WHERE = 'podOverride';

/** Template, override, the task's container, identity; validated. No hook, no I/O (templates must be fresh). */
export function prepareOperatorPod(a: OperatorPodArgs): V1Pod {
  const spec = a.task.pod;
  // The task's own template choice (podTemplate) stands where a worker pod's executorConfig.podTemplate would.
  const template = selectTemplate({ queue: a.task.queue, executorConfig: spec.podTemplate ? { podTemplate: spec.podTemplate } : null }, a.templates);
  let pod = spec.podOverride ? applyOverride(template.pod, spec.podOverride, WHERE) : clonePod(template.pod);
  const base = findBase(pod);
  if (!base) throw new PodPipelineError({ stage: 'identity', path: 'spec.containers', message: `the pod has no container named "${BASE_CONTAINER}" (the task's container)` });
  const env: V1EnvVar[] = [...(base.env ?? []).filter((e) => !(e.name in a.env)), ...Object.entries(a.env).map(([name, value]) => ({ name, value }))];
  const { name: _name, command: _c, args: _a, image: _i, env: _e, ...rest } = base;
  const container: V1Container = { name: BASE_CONTAINER, image: spec.image, ...(a.command ? { command: a.command } : {}), ...(a.args.length ? { args: a.args } : {}), ...(env.length ? { env } : {}), ...rest };
  pod = { ...pod, spec: { ...pod.spec!, containers: pod.spec!.containers.map((c) => (c === base ? container : c)), restartPolicy: 'Never' } };
  const id = operatorIdentity(a);
  const { name: _n, generateName: _g, namespace, labels, annotations, ...metaRest } = pod.metadata ?? {};
  const out: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(a.dagId, a.taskId, a.random ?? cryptoRandom),
      namespace: spec.namespace || namespace || a.cfg.namespace,
      ...metaRest,
      labels: { ...labels, ...id.labels },
      annotations: { ...annotations, ...id.annotations },
    },
    spec: pod.spec,
  };
  const issues = validatePod(out);
  if (issues.length) throw new PodPipelineError({ stage: 'override', source: `pod of task ${a.taskId}`, path: issues[0].path, message: issues[0].message, issues });
  return out;
}

/** The pod a pod task's try creates: prepareOperatorPod, then the admin's podMutationHook (it may not change the identity). */
export async function buildOperatorPod(a: OperatorPodArgs): Promise<V1Pod> {
  await refreshPodTemplates(a.templates);
  const pod = prepareOperatorPod(a);
  if (!a.hook) return pod;
  const out = await applyMutationHookToPod(pod, a.hook);
  const before = operatorIdentity(a);
  for (const [map, want] of [['labels', before.labels], ['annotations', before.annotations]] as const)
    for (const [k, v] of Object.entries(want))
      if (out.metadata?.[map]?.[k] !== v)
        throw new PodPipelineError({ stage: 'hook', source: `podMutationHook in ${a.hook.path}`, path: `metadata.${map}.${k}`, message: `the hook changed a Floe identity field (${JSON.stringify(v)} → ${JSON.stringify(out.metadata?.[map]?.[k])}); hooks may change anything but the floe.dev/ labels and annotations` });
  if (out.metadata?.name !== pod.metadata?.name) throw new PodPipelineError({ stage: 'hook', source: `podMutationHook in ${a.hook.path}`, path: 'metadata.name', message: 'the hook changed the pod name' });
  return out;
}
