// podTask(): run any image as a task (Airflow's KubernetesPodOperator). The pod is built by Floe's pod
// pipeline — template, podOverride, the task's image/command/args/env, Floe's identity, the admin's hook — and
// followed by the try's runner, whatever executor runs the try.
import { callSite, currentDag, type TaskRef } from './dag.ts';
import type { TaskOptions } from './types.ts';

/** A value for a pod's args or env: text (a template like shell's: `{{ ds }}`), or another task's result. */
export type PodValue = string | TaskRef;

export interface PodTaskOptions extends TaskOptions {
  taskId: string;
  /** The container image of the task (the pod's `base` container). */
  image: string;
  /** Entrypoint (the image's when absent). Each item is a template. */
  command?: string[];
  /** Arguments: templates, or TaskRefs replaced by those tasks' results (a string as is, anything else as JSON). */
  args?: PodValue[];
  /** Environment variables of the base container, as templates or TaskRefs. */
  env?: Record<string, PodValue>;
  /** A pod template by name (`kubernetes.podTemplates`); default: the default template. */
  podTemplate?: string;
  /** A V1Pod (plain or @kubernetes/client-node model) merged onto the template by Floe's rules. */
  podOverride?: object;
  /** Namespace of the pod (default: the template's, else `kubernetes.namespace`). */
  namespace?: string;
  /**
   * Take the task's result (its XCom) from the container: its last stdout line that starts with
   * `::floe-xcom::` followed by JSON. Default true.
   */
  xcom?: boolean;
  /** What to do with the pod when the try ends: `delete` (default), `deleteSucceeded` (keep failed ones), `keep`. */
  onFinish?: 'delete' | 'deleteSucceeded' | 'keep';
  /** Seconds the pod may stay Pending (unschedulable, pulling) before the try fails. Default 120. */
  startupTimeout?: number;
}

/** The serializable part of a pod task: TaskRefs become `{ xcom: taskId, key }` markers. */
export type PodValueSpec = string | { xcom: string; key: string };
export interface PodTaskSpec {
  image: string;
  command: string[] | null;
  args: PodValueSpec[];
  env: Record<string, PodValueSpec>;
  podTemplate: string | null;
  podOverride: object | null;
  namespace: string | null;
  xcom: boolean;
  onFinish: 'delete' | 'deleteSucceeded' | 'keep';
  startupTimeout: number;
}

export const DEFAULT_POD_STARTUP_TIMEOUT = 120;

/** A task that runs `image` in a pod of its own. Its XCom is the JSON the container prints (see `xcom`). */
export function podTask<T = unknown>(opts: PodTaskOptions): TaskRef<T> {
  const { taskId, image, command, args, env, podTemplate, podOverride, namespace, xcom, onFinish, startupTimeout, ...options } = opts;
  const body = {
    kind: 'pod' as const,
    image,
    command: command ?? null,
    args: args ?? [],
    env: env ?? {},
    podTemplate: podTemplate ?? null,
    podOverride: podOverride ?? null,
    namespace: namespace ?? null,
    xcom: xcom ?? true,
    onFinish: onFinish ?? 'delete',
    startupTimeout: startupTimeout ?? DEFAULT_POD_STARTUP_TIMEOUT,
  };
  return currentDag().addTask(taskId, options, body, callSite(), false) as TaskRef<T>;
}
