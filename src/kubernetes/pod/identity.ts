// Stage 3: Floe's own fields, applied after the override so a user cannot break them.
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { randomInt } from 'node:crypto';
import { PodPipelineError } from './errors.ts';
import { labelValue, podName, type RandomSource } from './names.ts';
import { clonePod, isObject, kindOf } from './plain.ts';

/** Which try of which task a pod runs. */
export interface PodIdentity {
  dagId: string;
  taskId: string;
  runId: string;
  tryNumber: number;
  mapIndex: number;
  /** The scheduler launching the pod (adoption finds a dead scheduler's pods by it). */
  schedulerId: string;
}

export const BASE_CONTAINER = 'base';

export const FLOE_KEYS = {
  dagId: 'floe.dev/dag-id',
  taskId: 'floe.dev/task-id',
  runId: 'floe.dev/run-id',
  tryNumber: 'floe.dev/try-number',
  mapIndex: 'floe.dev/map-index',
  schedulerId: 'floe.dev/scheduler-id',
  worker: 'floe.dev/worker',
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
  };
}

export function workerCommand(ti: PodIdentity): string[] {
  return ['floe', 'tasks', 'run', ti.dagId, ti.taskId, ti.runId, '--try', String(ti.tryNumber), '--map-index', String(ti.mapIndex)];
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
