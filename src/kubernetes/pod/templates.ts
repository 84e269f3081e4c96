// Stage 1: pod templates — YAML files holding one Pod — loaded, validated, cached by mtime, and selected.
import type { V1Pod } from '@kubernetes/client-node';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SerializedTask } from '../../dag/model.ts';
import type { KubernetesPodConfig } from './config.ts';
import { PodPipelineError } from './errors.ts';
import { BASE_CONTAINER, findBase } from './identity.ts';
import { clonePod, isEmptyObject, isObject, kindOf, stripNulls } from './plain.ts';
import { validatePod } from './validate.ts';

export const DEFAULT_TEMPLATE = 'default';

export interface LoadedTemplate {
  /** Template name (`default` for `kubernetes.podTemplateFile`), or the file for a task's own podTemplateFile. */
  name: string;
  /** Absolute path; null for the built-in default. */
  file: string | null;
  pod: V1Pod;
}

type FileState = { mtimeMs: number; size: number } & ({ pod: V1Pod; error?: undefined } | { pod?: undefined; error: PodPipelineError });

/** Every configured template, parsed and validated; `refreshPodTemplates` re-reads files that changed. */
export interface PodTemplates {
  readonly baseDir: string;
  /** Absolute path of `kubernetes.podTemplateFile`, or null for the built-in pod. */
  readonly defaultFile: string | null;
  readonly builtin: V1Pod;
  /** Template name → absolute file. */
  readonly named: Readonly<Record<string, string>>;
  /** Queue → template name. */
  readonly queues: Readonly<Record<string, string>>;
  /** Absolute file → its last parse (keyed by mtime and size). */
  readonly files: Map<string, FileState>;
}

/** The pod used when no template file is configured. */
export function builtinTemplate(workerImage: string): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {},
    spec: { containers: [{ name: BASE_CONTAINER, image: workerImage }], restartPolicy: 'Never' },
  };
}

function templateError(file: string, path: string, message: string, issues?: { path: string; message: string }[]): PodPipelineError {
  return new PodPipelineError({ stage: 'template', source: `pod template ${file}`, path, message, issues });
}

/** Parses and validates one template's text. Throws `PodPipelineError` naming the file and field. */
export function parsePodTemplate(text: string, file: string): V1Pod {
  const docs = parseAllDocuments(text, { prettyErrors: true });
  if (!Array.isArray(docs)) throw templateError(file, '', 'expected one YAML document holding a Pod, found none');
  const real = docs.filter((d) => d.contents !== null || d.errors.length);
  if (real.length !== 1) throw templateError(file, '', `expected one YAML document holding a Pod, found ${real.length}`);
  const doc = real[0];
  // prettyErrors appends a source excerpt after the first line; the line and column are enough here.
  if (doc.errors.length) throw templateError(file, '', `invalid YAML: ${doc.errors[0].message.split('\n')[0].replace(/:$/, '')}`);
  // Nulls mean "absent" to Kubernetes (`kubectl … -o yaml` writes `creationTimestamp: null`).
  const pod = stripNulls(doc.toJS());
  if (!isObject(pod)) throw templateError(file, '', `expected a Pod (a mapping with apiVersion, kind, metadata, spec), got ${kindOf(pod)}`);
  if (pod.status !== undefined && !isEmptyObject(pod.status)) throw templateError(file, 'status', 'a pod status is set by Kubernetes; remove it from the template');
  delete pod.status;
  const issues = validatePod(pod, { imageOptional: [BASE_CONTAINER] });
  if (issues.length) throw templateError(file, issues[0].path, issues[0].message, issues);
  if (!findBase(pod as V1Pod)) {
    throw templateError(file, 'spec.containers', `no container named "${BASE_CONTAINER}": the worker runs in the container named "${BASE_CONTAINER}", add one`);
  }
  return pod as V1Pod;
}

async function refreshFile(t: PodTemplates, file: string): Promise<FileState> {
  let st;
  try {
    st = await stat(file);
  } catch (e) {
    const state: FileState = { mtimeMs: -1, size: -1, error: templateError(file, '', `cannot read the file (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`) };
    t.files.set(file, state);
    return state;
  }
  const cached = t.files.get(file);
  if (cached && cached.mtimeMs === st.mtimeMs && cached.size === st.size) return cached;
  let state: FileState;
  try {
    state = { mtimeMs: st.mtimeMs, size: st.size, pod: parsePodTemplate(await readFile(file, 'utf8'), file) };
  } catch (e) {
    if (!(e instanceof PodPipelineError)) throw e;
    state = { mtimeMs: st.mtimeMs, size: st.size, error: e };
  }
  t.files.set(file, state);
  return state;
}

/** Re-reads every configured template (and `extraFiles`) whose mtime or size changed: one stat per file. */
export async function refreshPodTemplates(t: PodTemplates, extraFiles: readonly string[] = []): Promise<void> {
  const files = new Set([...(t.defaultFile ? [t.defaultFile] : []), ...Object.values(t.named), ...extraFiles.map((f) => path.resolve(t.baseDir, f))]);
  await Promise.all([...files].map((f) => refreshFile(t, f)));
}

/**
 * Loads and validates every configured template. Throws `PodPipelineError` (stage "template") for the first
 * invalid one, naming the file and field, and for a queue mapped to an unknown template.
 */
export async function loadPodTemplates(cfg: KubernetesPodConfig): Promise<PodTemplates> {
  const named: Record<string, string> = {};
  for (const [name, file] of Object.entries(cfg.podTemplates ?? {})) {
    if (name === DEFAULT_TEMPLATE) {
      throw new PodPipelineError({ stage: 'template', path: `kubernetes.podTemplates.${name}`, message: `"${DEFAULT_TEMPLATE}" names kubernetes.podTemplateFile; give this template another name` });
    }
    named[name] = path.resolve(cfg.baseDir, file);
  }
  const queues = { ...(cfg.queueTemplates ?? {}) };
  for (const [queue, name] of Object.entries(queues)) {
    if (name !== DEFAULT_TEMPLATE && !(name in named)) {
      throw new PodPipelineError({ stage: 'template', path: `kubernetes.queueTemplates.${queue}`, message: `no template named "${name}"; known: ${[DEFAULT_TEMPLATE, ...Object.keys(named)].join(', ')}` });
    }
  }
  const t: PodTemplates = {
    baseDir: cfg.baseDir,
    defaultFile: cfg.podTemplateFile ? path.resolve(cfg.baseDir, cfg.podTemplateFile) : null,
    builtin: builtinTemplate(cfg.workerImage),
    named,
    queues,
    files: new Map(),
  };
  await refreshPodTemplates(t);
  for (const state of t.files.values()) if (state.error) throw state.error;
  return t;
}

function fromFile(t: PodTemplates, name: string, file: string): LoadedTemplate {
  const state = t.files.get(file);
  if (!state) throw new PodPipelineError({ stage: 'template', source: `pod template ${file}`, path: '', message: 'not loaded; call refreshPodTemplates first' });
  if (state.error) throw state.error;
  return { name, file, pod: clonePod(state.pod) };
}

function byName(t: PodTemplates, name: string, where: string): LoadedTemplate {
  if (name === DEFAULT_TEMPLATE) return t.defaultFile ? fromFile(t, DEFAULT_TEMPLATE, t.defaultFile) : { name, file: null, pod: clonePod(t.builtin) };
  const file = t.named[name];
  if (!file) throw new PodPipelineError({ stage: 'template', path: where, message: `no template named "${name}"; known: ${[DEFAULT_TEMPLATE, ...Object.keys(t.named)].join(', ')}` });
  return fromFile(t, name, file);
}

/** The template file a task names itself (executorConfig.podTemplateFile), resolved; null if none. */
export function taskTemplateFile(task: Pick<SerializedTask, 'executorConfig'>, t: PodTemplates): string | null {
  const f = task.executorConfig?.podTemplateFile;
  return typeof f === 'string' && f !== '' ? path.resolve(t.baseDir, f) : null;
}

/**
 * Stage 1 — the template a task runs with: `template` (forced, e.g. render --template), else the task's
 * executorConfig.podTemplateFile, else executorConfig.podTemplate, else the template of its queue, else
 * the default. Pure: reads only what `refreshPodTemplates` loaded.
 */
export function selectTemplate(task: Pick<SerializedTask, 'executorConfig' | 'queue'>, t: PodTemplates, opts: { template?: string } = {}): LoadedTemplate {
  if (opts.template) return byName(t, opts.template, '--template');
  const ec = task.executorConfig ?? {};
  const { podTemplate, podTemplateFile } = ec;
  if (podTemplate !== undefined && typeof podTemplate !== 'string') throw new PodPipelineError({ stage: 'template', path: 'executorConfig.podTemplate', message: `expected a template name, got ${kindOf(podTemplate)}` });
  if (podTemplateFile !== undefined && typeof podTemplateFile !== 'string') throw new PodPipelineError({ stage: 'template', path: 'executorConfig.podTemplateFile', message: `expected a file path, got ${kindOf(podTemplateFile)}` });
  if (podTemplate && podTemplateFile) throw new PodPipelineError({ stage: 'template', path: 'executorConfig.podTemplateFile', message: 'set either podTemplate or podTemplateFile, not both' });
  const file = taskTemplateFile(task, t);
  if (file) return fromFile(t, file, file);
  if (podTemplate) return byName(t, podTemplate, 'executorConfig.podTemplate');
  const queued = t.queues[task.queue];
  if (queued) return byName(t, queued, `kubernetes.queueTemplates.${task.queue}`);
  return byName(t, DEFAULT_TEMPLATE, 'kubernetes.podTemplateFile');
}
