// The pod pipeline: pod templates → podOverride → Floe identity → podMutationHook (docs/kubernetes.md).
export { kubernetesBoundTasks, kubernetesPodConfig, type KubernetesPodConfig } from './config.ts';
export { PodPipelineError, type PodStage } from './errors.ts';
export {
  DEFAULT_TEMPLATE,
  builtinTemplate,
  loadPodTemplates,
  parsePodTemplate,
  refreshPodTemplates,
  selectTemplate,
  type LoadedTemplate,
  type PodTemplates,
} from './templates.ts';
export { applyOverride, LIST_RULES } from './merge.ts';
export { legacyToOverride, LEGACY_KEYS } from './legacy.ts';
export {
  applyIdentity,
  BASE_CONTAINER,
  FLOE_KEYS,
  identityAnnotations,
  identityLabels,
  workerCommand,
  type IdentityOptions,
  type PodIdentity,
} from './identity.ts';
export { applyMutationHook, applyMutationHookToPod, loadMutationHook, type LoadedHook, type PodMutationHook } from './hook.ts';
export { buildWorkerPod, prepareWorkerPod, taskOverrides, WorkerPodCache, type BuildWorkerPodArgs } from './build.ts';
export { validatePod, validatePodMetadata, type PodIssue, type ValidatePodOptions } from './validate.ts';
export { podToYaml, renderDagPods, validateDagPods, PLACEHOLDER_RUN_ID, type DagPodErrors, type RenderOptions } from './dag-pods.ts';
export { labelValue, podName, type RandomSource } from './names.ts';
export { buildOperatorPod, prepareOperatorPod, OPERATOR_LABEL, operatorSelector } from './operator.ts';
