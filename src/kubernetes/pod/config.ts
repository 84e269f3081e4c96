// The slice of Floe's configuration the pod pipeline reads (`kubernetes.*` in floe.yaml).
import path from 'node:path';
import type { LoadedConfig } from '../../config/load.ts';
import type { SerializedDag } from '../../dag/model.ts';
import { POD_SETTING_KEYS } from '../../sdk/types.ts';

export interface KubernetesPodConfig {
  /** Namespace of worker pods whose template and override set none. */
  namespace: string;
  /** The default template (`kubernetes.podTemplateFile`); null: a built-in pod with one `base` container. */
  podTemplateFile?: string | null;
  /** Named templates: NAME → YAML file, chosen by `executorConfig.podTemplate: NAME`. */
  podTemplates?: Record<string, string>;
  /** Task queue → template name, so a queue picks a template. */
  queueTemplates?: Record<string, string>;
  /** Module exporting `podMutationHook(pod)`. */
  podMutationHook?: string | null;
  /** Image of the base container when the template sets none. */
  workerImage: string;
  /** Relative paths (templates, hook, a task's podTemplateFile) resolve against this folder. */
  baseDir: string;
}

/** The pod pipeline's configuration from floe.yaml; relative paths resolve against the config file's folder. */
export function kubernetesPodConfig(cfg: LoadedConfig): KubernetesPodConfig {
  const k = cfg.kubernetes;
  return {
    namespace: k.namespace,
    podTemplateFile: k.podTemplateFile,
    podTemplates: k.podTemplates,
    queueTemplates: k.queueTemplates,
    podMutationHook: k.podMutationHook,
    workerImage: k.workerImage,
    baseDir: cfg.configFile ? path.dirname(cfg.configFile) : process.cwd(),
  };
}

/** Tasks whose pods the DAG processor builds and validates: every task that will run in a pod, and any task that sets pod settings. */
export function kubernetesBoundTasks(cfg: LoadedConfig, dag: SerializedDag): string[] {
  const executor = cfg.core.executor;
  return dag.tasks
    .filter((t) => {
      // A pod task's own pod is built and validated whatever runs its try.
      if (executor === 'kubernetes' || t.kind === 'pod') return true;
      if (executor === 'hybrid' && t.queue === cfg.hybrid.kubernetesQueue) return true;
      const ec = t.executorConfig ?? {};
      return POD_SETTING_KEYS.some((key) => ec[key] != null);
    })
    .map((t) => t.taskId);
}
