// The whole pipeline for one worker pod: template → (legacy →) podOverride → identity → validation → hook.
import type { V1Pod } from '@kubernetes/client-node';
import type { SerializedTask } from '../../dag/model.ts';
import type { KubernetesPodConfig } from './config.ts';
import { PodPipelineError } from './errors.ts';
import { type LoadedHook, applyMutationHook } from './hook.ts';
import { applyIdentity, cryptoRandom, identityFieldsWarning, type IdentityOptions, type PodIdentity } from './identity.ts';
import { LEGACY_KEYS, LEGACY_WHERE, legacyToOverride } from './legacy.ts';
import { applyOverride, overrideToPlain } from './merge.ts';
import { podName, type RandomSource } from './names.ts';
import { joinPath, pathWithin, valueAt, type PathSeg } from './paths.ts';
import type { Obj } from './plain.ts';
import { refreshPodTemplates, selectTemplate, taskTemplateFile, type LoadedTemplate, type PodTemplates } from './templates.ts';
import { validatePod, validatePodMetadata, type PodIssue, type ResourceConflict } from './validate.ts';

/** A task's override inputs, read from its executorConfig. */
export interface TaskOverrides {
  /** The legacy `KubernetesExecutor` block converted to an override, or null. */
  legacy: Obj | null;
  /** The raw legacy block (to name its keys in errors). */
  legacyRaw: Obj | null;
  /** podOverride (or its alias pod_override) as plain JSON, or null. */
  override: Obj | null;
  /** `executorConfig.podOverride` or `executorConfig.pod_override`, as the task spelled it. */
  where: string;
  /** The deprecation warning for legacy keys (with the podOverride to write instead), or null. */
  deprecation: string | null;
  /** Every warning: the deprecation, then identity fields the legacy block or the override set in vain. */
  warnings: string[];
}

/** Reads podOverride / pod_override / KubernetesExecutor from a task's executorConfig. */
export function taskOverrides(task: Pick<SerializedTask, 'executorConfig'>): TaskOverrides {
  const ec = task.executorConfig ?? {};
  const hasCamel = ec.podOverride !== undefined && ec.podOverride !== null;
  const hasSnake = ec.pod_override !== undefined && ec.pod_override !== null;
  if (hasCamel && hasSnake) {
    throw new PodPipelineError({ stage: 'override', path: 'executorConfig.pod_override', message: 'set either podOverride or its alias pod_override, not both' });
  }
  const where = hasSnake ? 'executorConfig.pod_override' : 'executorConfig.podOverride';
  const override = hasCamel || hasSnake ? overrideToPlain(hasSnake ? ec.pod_override : ec.podOverride, where) : null;
  const overrideWarning = override && identityFieldsWarning(override, where);
  const rawLegacy: unknown = ec.KubernetesExecutor;
  if (rawLegacy === undefined || rawLegacy === null) {
    return { legacy: null, legacyRaw: null, override, where, deprecation: null, warnings: overrideWarning ? [overrideWarning] : [] };
  }
  const legacy = legacyToOverride(rawLegacy);
  const combined = override ? applyOverride(legacy, override, where) : legacy;
  const deprecation =
    `${LEGACY_WHERE} (Airflow 1.10 style) is deprecated; write this instead: ` +
    `executorConfig: { podOverride: ${JSON.stringify(combined)} }`;
  const legacyWarning = identityFieldsWarning(legacy, LEGACY_WHERE);
  const warnings = [deprecation, legacyWarning, overrideWarning].filter((w): w is string => w !== null);
  return { legacy, legacyRaw: rawLegacy as Obj, override, where, deprecation, warnings };
}

interface Parts {
  template: LoadedTemplate;
  legacy: Obj | null;
  override: Obj | null;
  where: string;
  ti: PodIdentity;
  identity: IdentityOptions & { name: string };
}

/** Template + overrides + identity; an identity failure the overrides caused is reported as theirs. */
function assemble(p: Parts): V1Pod {
  let pod = p.template.pod;
  if (p.legacy) pod = applyOverride(pod, p.legacy, LEGACY_WHERE);
  if (p.override) pod = applyOverride(pod, p.override, p.where);
  try {
    return applyIdentity(pod, p.ti, p.identity);
  } catch (e) {
    if (!(e instanceof PodPipelineError) || (!p.legacy && !p.override)) throw e;
    const withoutOverride = p.override ? tryAssemble({ ...p, override: null }) : null;
    if (p.override && withoutOverride) throw new PodPipelineError({ stage: 'override', path: joinPath(p.where, e.path), message: e.detail });
    if (p.legacy && tryAssemble({ ...p, legacy: null, override: null })) throw new PodPipelineError({ stage: 'legacy', path: LEGACY_WHERE, message: `${e.path}: ${e.detail}` });
    throw e;
  }
}

function tryAssemble(p: Parts): V1Pod | null {
  try {
    return assemble(p);
  } catch {
    return null;
  }
}

const issueKey = (i: PodIssue) => `${i.path}\0${i.message}`;

/** The pod assembled from `p` (null when it cannot be) and the keys of its validation issues. */
function assembledIssues(p: Parts): { pod: V1Pod | null; keys: Set<string> } {
  const pod = tryAssemble(p);
  return { pod, keys: new Set(pod ? validatePod(pod).map(issueKey) : []) };
}

/** The legacy key whose target holds `path` (or lies inside it). */
function legacyKeyFor(path: string, raw: Obj): string | null {
  for (const key of Object.keys(raw)) {
    const t = LEGACY_KEYS[key]?.target;
    if (t && (pathWithin(path, t) || pathWithin(t, path))) return key;
  }
  return null;
}

/**
 * A request above its limit, when the blamed input changed only one of the two: the issue moves to the
 * field that input set, and names who set the other one (`setter`) — a user who lowered a limit never
 * wrote the request the plain issue points at. Null when both changed, or it is not such an issue.
 */
function conflictIssue(i: PodIssue, before: V1Pod | null, where: string, setter: (segs: PathSeg[]) => string): PodIssue | null {
  const c = i.conflict;
  if (!c || !before) return null;
  // Template containers keep their list positions through the merge, so the same segments find them.
  const kept = (end: ResourceConflict['request']) => valueAt(before, end.segs) === end.value;
  const q = (v: unknown) => JSON.stringify(v);
  if (kept(c.request) && !kept(c.limit)) {
    return {
      path: joinPath(where, c.limit.path),
      message: `limit ${q(c.limit.value)} is below the request ${q(c.request.value)} that ${setter(c.request.segs)} sets (${c.request.path}); raise the limit, or set a lower request too`,
    };
  }
  if (kept(c.limit) && !kept(c.request)) {
    return {
      path: joinPath(where, c.request.path),
      message: `request ${q(c.request.value)} exceeds the limit ${q(c.limit.value)} that ${setter(c.limit.segs)} sets (${c.limit.path}); lower the request, or set a higher limit too`,
    };
  }
  return null;
}

/**
 * Validates an assembled pod and throws every problem, each blamed on what caused it: an issue absent
 * without the podOverride is the override's (path prefixed `executorConfig.podOverride.`), one absent
 * without the legacy block is that block's (path names the legacy key), the rest the template's.
 */
function validateAssembled(pod: V1Pod, p: Parts, legacyRaw: Obj | null): void {
  const issues = validatePod(pod);
  if (!issues.length) return;
  const beforeOverride = p.override ? assembledIssues({ ...p, override: null }) : null;
  const beforeLegacy = p.legacy ? assembledIssues({ ...p, legacy: null, override: null }) : null;
  const templateName = `pod template ${p.template.file ?? '(built-in)'}`;
  const templateOnly = p.legacy ? (beforeLegacy?.pod ?? null) : (beforeOverride?.pod ?? null);
  // Who set a value the override left alone: the template, unless the legacy block changed it.
  const setterBeforeOverride = (segs: PathSeg[]) => (!p.legacy || (templateOnly && valueAt(templateOnly, segs) === valueAt(pod, segs)) ? templateName : LEGACY_WHERE);
  let stage: PodPipelineError['stage'] | null = null;
  const blamed = issues.map((i): PodIssue => {
    const k = issueKey(i);
    if (beforeOverride && !beforeOverride.keys.has(k)) {
      stage ??= 'override';
      return conflictIssue(i, beforeOverride.pod, p.where, setterBeforeOverride) ?? { path: joinPath(p.where, i.path), message: i.message };
    }
    if (beforeLegacy && legacyRaw && !beforeLegacy.keys.has(k)) {
      stage ??= 'legacy';
      const c = conflictIssue(i, beforeLegacy.pod, '', () => templateName) ?? i;
      const key = legacyKeyFor(c.path, legacyRaw);
      return { path: key ? `${LEGACY_WHERE}.${key}` : LEGACY_WHERE, message: `${c.message} (at ${c.path})` };
    }
    stage ??= 'validate';
    return { path: i.path, message: i.message };
  });
  const source = stage === 'validate' ? templateName : undefined;
  throw new PodPipelineError({ stage: stage ?? 'validate', source, path: blamed[0].path, message: blamed[0].message, issues: blamed });
}

/**
 * What a task's pod is before Floe's identity, by (queue, executorConfig): the selected template with the
 * legacy block and podOverride merged, known to validate. Every try of a task — and every task with the same
 * queue and executorConfig — gets its pod from it with the identity applied and only the identity-dependent
 * metadata checked again, instead of re-merging and re-validating the whole pod. An entry is used only while
 * its template is the one loaded (a template file that changed is a miss).
 */
export class WorkerPodCache {
  private readonly entries = new Map<string, { file: string | null; source: unknown; pre: V1Pod; warnings: string[] }>();
  constructor(private readonly maxEntries = 1000) {}

  get(key: string, template: LoadedTemplate, templates: PodTemplates): { pre: V1Pod; warnings: string[] } | null {
    const e = this.entries.get(key);
    return e && e.file === template.file && e.source === templateSource(template, templates) ? e : null;
  }

  set(key: string, template: LoadedTemplate, templates: PodTemplates, pre: V1Pod, warnings: string[]): void {
    // Bounded: DAGs with many distinct executorConfigs just start over.
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(key, { file: template.file, source: templateSource(template, templates), pre, warnings });
  }

  get size(): number {
    return this.entries.size;
  }
}

/** The loaded object a template was cloned from: replaced when its file is re-read. */
function templateSource(template: LoadedTemplate, templates: PodTemplates): unknown {
  return template.file === null ? templates.builtin : templates.files.get(template.file);
}

export interface BuildWorkerPodArgs extends PodIdentity {
  task: SerializedTask;
  templates: PodTemplates;
  cfg: KubernetesPodConfig;
  hook?: LoadedHook | null;
  /** Random source for the pod name suffix (tests inject a fixed one). */
  random?: RandomSource;
  /** Use this template instead of the task's (render --template). */
  template?: string;
  /** Reuse the template+override part of similar tasks' pods (the executor keeps one). */
  cache?: WorkerPodCache;
}

/** Stages 1–3 and validation, without I/O: templates must be fresh (see refreshPodTemplates). */
export function prepareWorkerPod(args: BuildWorkerPodArgs): { pod: V1Pod; warnings: string[] } {
  const template = selectTemplate(args.task, args.templates, { template: args.template });
  const ti: PodIdentity = {
    dagId: args.dagId,
    taskId: args.taskId,
    runId: args.runId,
    tryNumber: args.tryNumber,
    mapIndex: args.mapIndex,
    schedulerId: args.schedulerId,
    launchId: args.launchId,
  };
  const identity = { namespace: args.cfg.namespace, workerImage: args.cfg.workerImage, name: podName(ti.dagId, ti.taskId, args.random ?? cryptoRandom) };
  const cache = args.template ? undefined : args.cache;
  const key = cache ? JSON.stringify([args.task.queue, args.task.executorConfig ?? null]) : '';
  const hit = cache?.get(key, template, args.templates);
  if (hit) {
    const pod = applyIdentity(hit.pre, ti, identity);
    // Anything else found falls through to the full pipeline, which blames it on its cause.
    if (!validatePodMetadata(pod).length) return { pod, warnings: hit.warnings };
  }
  const o = taskOverrides(args.task);
  const parts: Parts = { template, legacy: o.legacy, override: o.override, where: o.where, ti, identity };
  const pod = assemble(parts);
  validateAssembled(pod, parts, o.legacyRaw);
  const warnings = o.warnings;
  if (cache) cache.set(key, template, args.templates, merged(parts), warnings);
  return { pod, warnings };
}

/** Template + legacy + override, before identity (what assemble() starts from). */
function merged(p: Parts): V1Pod {
  let pod = p.template.pod;
  if (p.legacy) pod = applyOverride(pod, p.legacy, LEGACY_WHERE);
  if (p.override) pod = applyOverride(pod, p.override, p.where);
  // A new object either way: applyOverride returns one, and selectTemplate cloned the template.
  return pod;
}

/**
 * The pod that runs one try of a task: template → podOverride (legacy keys converted first) → Floe
 * identity → podMutationHook, validated. Re-reads templates whose file changed. Throws `PodPipelineError`.
 */
export async function buildWorkerPod(args: BuildWorkerPodArgs): Promise<{ pod: V1Pod; warnings: string[] }> {
  const own = taskTemplateFile(args.task, args.templates);
  await refreshPodTemplates(args.templates, own ? [own] : []);
  const { pod, warnings } = prepareWorkerPod(args);
  return { pod: await applyMutationHook(pod, args.hook), warnings };
}
