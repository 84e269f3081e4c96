// Stage 3: Floe's own fields, applied after the override so a user cannot break them.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { randomInt } from 'node:crypto';
import { PodPipelineError } from './errors.ts';
import { labelValue, podName, type RandomSource } from './names.ts';
import { keySeg } from './paths.ts';
import { clonePod, isObject, kindOf, type Obj } from './plain.ts';

/** Which try of which task a pod runs. */
export interface PodIdentity {
  dagId: string;
  taskId: string;
  runId: string;
  tryNumber: number;
  mapIndex: number;
  /** The scheduler launching the pod (adoption finds a dead scheduler's pods by it). */
  schedulerId: string;
  /** The launch of the try the pod runs (absent when only rendering): its runner claims exactly that launch. */
  launchId?: string | null;
}

export const BASE_CONTAINER = 'base';

export const FLOE_KEYS = {
  dagId: 'floe.dev/dag-id',
  taskId: 'floe.dev/task-id',
  runId: 'floe.dev/run-id',
  tryNumber: 'floe.dev/try-number',
  mapIndex: 'floe.dev/map-index',
  schedulerId: 'floe.dev/scheduler-id',
  launchId: 'floe.dev/launch-id',
  worker: 'floe.dev/worker',
  /**
   * Set (to the time, ISO 8601) on a pod kept under `deleteWorkerPods: never` after it failed to launch: it
   * stays Pending, but it is over for Floe — the orphan sweep keeps it, and cleanup-pods removes it like a
   * finished pod.
   */
  launchFailed: 'floe.dev/launch-failed',
} as const;

/** Label values (sanitised, see names.ts); build label selectors with these too. */
export function identityLabels(ti: PodIdentity): Record<string, string> {
  return {
    [FLOE_KEYS.dagId]: labelValue(ti.dagId),
    [FLOE_KEYS.taskId]: labelValue(ti.taskId),
    [FLOE_KEYS.runId]: labelValue(ti.runId),
    [FLOE_KEYS.tryNumber]: labelValue(String(ti.tryNumber)),
    // -1 ("not mapped") is not a valid label value; "none" cannot be mistaken for an index.
    [FLOE_KEYS.mapIndex]: ti.mapIndex < 0 ? 'none' : String(ti.mapIndex),
    [FLOE_KEYS.schedulerId]: labelValue(ti.schedulerId),
    [FLOE_KEYS.worker]: 'true',
  };
}

/** The exact ids, as annotations (labels may be sanitised). */
export function identityAnnotations(ti: PodIdentity): Record<string, string> {
  return {
    [FLOE_KEYS.dagId]: ti.dagId,
    [FLOE_KEYS.taskId]: ti.taskId,
    [FLOE_KEYS.runId]: ti.runId,
    [FLOE_KEYS.tryNumber]: String(ti.tryNumber),
    [FLOE_KEYS.mapIndex]: String(ti.mapIndex),
    [FLOE_KEYS.schedulerId]: ti.schedulerId,
    ...(ti.launchId ? { [FLOE_KEYS.launchId]: ti.launchId } : {}),
  };
}

export function workerCommand(ti: PodIdentity): string[] {
  const cmd = ['floe', 'tasks', 'run', ti.dagId, ti.taskId, ti.runId, '--try', String(ti.tryNumber), '--map-index', String(ti.mapIndex)];
  return ti.launchId ? [...cmd, '--launch', ti.launchId] : cmd;
}

export const cryptoRandom: RandomSource = () => randomInt(0, 1 << 30) / (1 << 30);

export interface IdentityOptions {
  /** Namespace for pods whose template and override set none. */
  namespace: string;
  /** Image of the base container when the template and override set none. */
  workerImage: string;
  /** A fixed pod name (else one is generated from the ids with `random`). */
  name?: string;
  random?: RandomSource;
}

export function findBase(pod: V1Pod): V1Container | undefined {
  const cs: unknown = isObject(pod.spec) ? pod.spec.containers : undefined;
  return Array.isArray(cs) ? (cs as V1Container[]).find((c) => isObject(c) && c.name === BASE_CONTAINER) : undefined;
}

/** The floe.dev/ keys applyIdentity sets, by metadata map (other floe.dev/ keys are left alone). */
const IDENTITY_KEYS = {
  labels: Object.values(FLOE_KEYS).filter((k) => k !== FLOE_KEYS.launchId) as string[],
  annotations: Object.values(FLOE_KEYS).filter((k) => k !== FLOE_KEYS.worker) as string[],
};

/**
 * The fields of an override (plain JSON) that applyIdentity replaces, as pod paths: setting them has no
 * effect, which users would otherwise only find out by reading the rendered pod.
 */
export function identityFieldsSet(override: Obj): string[] {
  const out: string[] = [];
  const meta = override.metadata;
  if (isObject(meta)) {
    for (const f of ['name', 'generateName'] as const) if (meta[f] !== undefined) out.push(`metadata.${f}`);
    for (const map of ['labels', 'annotations'] as const) {
      const m = meta[map];
      if (isObject(m)) for (const k of IDENTITY_KEYS[map]) if (m[k] !== undefined) out.push(`metadata.${map}${keySeg(k, false)}`);
    }
  }
  const spec = override.spec;
  if (isObject(spec)) {
    const base = Array.isArray(spec.containers) ? spec.containers.find((c): c is Obj => isObject(c) && c.name === BASE_CONTAINER) : undefined;
    if (base) for (const f of ['command', 'args'] as const) if (base[f] !== undefined) out.push(`spec.containers[name=${BASE_CONTAINER}].${f}`);
    if (spec.restartPolicy !== undefined) out.push('spec.restartPolicy');
  }
  return out;
}

/** The warning for an override (`where`) that sets identity fields, or null. */
export function identityFieldsWarning(override: Obj, where: string): string | null {
  const fields = identityFieldsSet(override);
  if (!fields.length) return null;
  return (
    `${where} sets ${fields.length === 1 ? 'a field' : 'fields'} that Floe's identity replaces, so ${fields.length === 1 ? 'it has' : 'they have'} no effect: ` +
    `${fields.join(', ')} (Floe owns the pod name, its floe.dev/ labels and annotations, the base command and args, and restartPolicy)`
  );
}

/** Stage 3 — returns a new pod with Floe's name, labels, annotations, command and restart policy. */
export function applyIdentity(pod: V1Pod, ti: PodIdentity, opts: IdentityOptions): V1Pod {
  const p = clonePod(pod);
  const base = findBase(p);
  if (!base) {
    throw new PodPipelineError({ stage: 'identity', path: 'spec.containers', message: `the pod has no container named "${BASE_CONTAINER}" (the worker container)` });
  }
  for (const field of ['labels', 'annotations'] as const) {
    const v: unknown = p.metadata?.[field];
    if (v !== undefined && !isObject(v)) throw new PodPipelineError({ stage: 'identity', path: `metadata.${field}`, message: `expected an object of key: value, got ${kindOf(v)}` });
  }
  // name, image and command first: what a reader of `floe kubernetes render` looks for.
  const { name: _name, image, command: _command, args: _args, ...baseRest } = base;
  const worker: V1Container = { name: BASE_CONTAINER, image: image || opts.workerImage, command: workerCommand(ti), ...baseRest };
  const spec = { ...p.spec!, containers: p.spec!.containers.map((c) => (c === base ? worker : c)), restartPolicy: 'Never' };
  // The name is Floe's; a generateName would be ignored by the API server anyway.
  const { name: _n, generateName: _g, namespace, labels, annotations, ...metaRest } = p.metadata ?? {};
  const out: V1Pod = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: opts.name ?? podName(ti.dagId, ti.taskId, opts.random ?? cryptoRandom),
      namespace: namespace || opts.namespace,
      ...metaRest,
      labels: { ...labels, ...identityLabels(ti) },
      annotations: { ...annotations, ...identityAnnotations(ti) },
    },
    spec,
  };
  // Keep anything else the pod carries (validation reports it) after the fields above.
  for (const [k, v] of Object.entries(p)) if (!(k in out)) (out as Record<string, unknown>)[k] = v;
  return out;
}
