// Whole-DAG uses of the pipeline: validation at parse time and `floe kubernetes render`.
import type { V1Pod } from '@kubernetes/client-node';
import path from 'node:path';
import { stringify } from 'yaml';
import type { SerializedDag, SerializedTask } from '../../dag/model.ts';
import { prepareWorkerPod, buildWorkerPod, taskOverrides } from './build.ts';
import type { KubernetesPodConfig } from './config.ts';
import { PodPipelineError } from './errors.ts';
import { loadMutationHook, type LoadedHook } from './hook.ts';
import type { RandomSource } from './names.ts';
import { buildOperatorPod, prepareOperatorPod } from './operator.ts';
import { loadPodTemplates, refreshPodTemplates, taskTemplateFile, type PodTemplates } from './templates.ts';
import type { PodValueSpec } from '../../sdk/pod-task.ts';

/** The run a pod is validated for at parse time (only its shape matters: ids feed names and labels). */
export const PLACEHOLDER_RUN_ID = 'manual__2000-01-01T00:00:00.000Z';
export const PLACEHOLDER_SCHEDULER_ID = 'dag-processor';

export interface DagPodErrors {
  errors: { taskId: string; path: string; message: string }[];
  warnings: { taskId: string; message: string }[];
}

function findTask(dag: SerializedDag, taskId: string): SerializedTask {
  const task = dag.tasks.find((t) => t.taskId === taskId);
  if (!task) {
    throw new PodPipelineError({ stage: 'template', path: '', message: `no task "${taskId}" in DAG "${dag.dagId}"; tasks: ${dag.tasks.map((t) => t.taskId).join(', ') || 'none'}` });
  }
  return task;
}

/**
 * Builds each listed (Kubernetes-bound) task's pod for a placeholder run — template, override, identity,
 * no hook — and validates it. Problems caused by a podOverride have paths starting
 * `executorConfig.podOverride.`; problems inside a template or hook name it in the message.
 * A task with legacy `KubernetesExecutor` keys gets one deprecation warning showing the podOverride to write;
 * one whose override sets fields Floe's identity replaces gets a warning naming them.
 */
export async function validateDagPods(dag: SerializedDag, tasks: string[], cfg: KubernetesPodConfig, templates: PodTemplates): Promise<DagPodErrors> {
  const out: DagPodErrors = { errors: [], warnings: [] };
  for (const taskId of tasks) {
    let task: SerializedTask;
    try {
      task = findTask(dag, taskId);
      const own = taskTemplateFile(task, templates);
      await refreshPodTemplates(templates, own ? [own] : []);
      for (const message of taskOverrides(task).warnings) out.warnings.push({ taskId, message });
      if (task.pod) prepareOperatorPod({ ...operatorArgs(task, dag.dagId, PLACEHOLDER_RUN_ID, 1, -1), templates, cfg, random: () => 0 });
      prepareWorkerPod({
        dagId: dag.dagId,
        taskId,
        runId: PLACEHOLDER_RUN_ID,
        tryNumber: 1,
        mapIndex: -1,
        schedulerId: PLACEHOLDER_SCHEDULER_ID,
        task,
        templates,
        cfg,
        random: () => 0,
      });
    } catch (e) {
      if (!(e instanceof PodPipelineError)) throw e;
      for (const i of e.issues) out.errors.push({ taskId, path: i.path, message: e.source ? `${e.source}: ${i.message}` : i.message });
    }
  }
  return out;
}

/**
 * A pod as YAML that YAML 1.1 readers (kubectl, sigs.k8s.io/yaml) read the same as YAML 1.2 ones:
 * strings like yes/no/on/off are quoted.
 */
export function podToYaml(pod: V1Pod): string {
  return stringify(pod, { version: '1.1', lineWidth: 0 });
}

export interface RenderOptions {
  cfg: KubernetesPodConfig;
  /** Only this task (default: every task of the DAG). */
  taskId?: string;
  /** Default: `manual__<now>`. */
  runId?: string;
  /** Render with this template instead of each task's own. */
  template?: string;
  /** Loaded from cfg when not given. */
  templates?: PodTemplates;
  /** Loaded from cfg.podMutationHook when undefined; null: no hook. */
  hook?: LoadedHook | null;
  random?: RandomSource;
  /** Default "render". */
  schedulerId?: string;
  tryNumber?: number;
  mapIndex?: number;
  now?: () => Date;
  /** Called with each task's warnings too (they are also YAML comments, which a redirect would hide). */
  onWarning?: (taskId: string, message: string) => void;
}

function withTask(e: PodPipelineError, dagId: string, taskId: string): PodPipelineError {
  return new PodPipelineError({
    stage: e.stage,
    source: [`task ${dagId}.${taskId}`, e.source].filter(Boolean).join(': '),
    path: e.path,
    message: e.detail,
    issues: e.issues,
  });
}

/** The exact pods the executor would create, as multi-document YAML (one document per task, hook included). */
export async function renderDagPods(dag: SerializedDag, opts: RenderOptions): Promise<string> {
  const tasks = opts.taskId ? [findTask(dag, opts.taskId)] : dag.tasks;
  const templates = opts.templates ?? (await loadPodTemplates(opts.cfg));
  const hook = opts.hook !== undefined ? opts.hook : opts.cfg.podMutationHook ? await loadMutationHook(path.resolve(opts.cfg.baseDir, opts.cfg.podMutationHook)) : null;
  const runId = opts.runId ?? `manual__${(opts.now ?? (() => new Date()))().toISOString()}`;
  const docs: string[] = [];
  for (const task of tasks) {
    let built;
    try {
      built = await buildWorkerPod({
        dagId: dag.dagId,
        taskId: task.taskId,
        runId,
        tryNumber: opts.tryNumber ?? 1,
        mapIndex: opts.mapIndex ?? -1,
        schedulerId: opts.schedulerId ?? 'render',
        task,
        templates,
        cfg: opts.cfg,
        hook,
        random: opts.random,
        template: opts.template,
      });
    } catch (e) {
      throw e instanceof PodPipelineError ? withTask(e, dag.dagId, task.taskId) : e;
    }
    for (const w of built.warnings) opts.onWarning?.(task.taskId, w);
    const head = [`# ${dag.dagId}.${task.taskId}`, ...built.warnings.map((w) => `# warning: ${w}`)].join('\n');
    docs.push(`${head}\n${podToYaml(built.pod)}`);
    if (task.pod) {
      let op: V1Pod;
      try {
        op = await buildOperatorPod({ ...operatorArgs(task, dag.dagId, runId, opts.tryNumber ?? 1, opts.mapIndex ?? -1), templates, cfg: opts.cfg, hook, random: opts.random });
      } catch (e) {
        throw e instanceof PodPipelineError ? withTask(e, dag.dagId, task.taskId) : e;
      }
      docs.push(`# ${dag.dagId}.${task.taskId}: the task's own pod (podTask; args and env shown as written)\n${podToYaml(op)}`);
    }
  }
  return docs.join('---\n');
}

/** A pod task's pod inputs before a run: templates as written, upstream results as `{{ xcom TASK }}`. */
function operatorArgs(task: SerializedTask, dagId: string, runId: string, tryNumber: number, mapIndex: number) {
  const shown = (v: PodValueSpec) => (typeof v === 'string' ? v : `{{ xcom ${v.xcom}${v.key === 'return_value' ? '' : ` ${v.key}`} }}`);
  const pod = task.pod!;
  return {
    dagId,
    taskId: task.taskId,
    runId,
    tryNumber,
    mapIndex,
    task: { ...task, pod },
    args: pod.args.map(shown),
    env: Object.fromEntries(Object.entries(pod.env).map(([k, v]) => [k, shown(v)])),
    command: pod.command,
  };
}
