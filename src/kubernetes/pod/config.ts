// The slice of Floe's configuration the pod pipeline reads (`kubernetes.*` in floe.yaml).

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
