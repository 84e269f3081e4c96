// How long a pod takes to start, modelled on a real node: the scheduler's binding, the pod sandbox
// (network namespace, pause container), image pulls of images not yet on the node, and each container's
// create + start. And the one per-pod kubelet fault: a container that reports Running without its process.
import type { Pod } from './types.ts';

export interface StartupDelay {
  /** From a pod's arrival to its binding (the scheduler's queue and cycle). */
  schedulingMs: number;
  /** From binding to the first container start: sandbox and network set-up. */
  sandboxMs: number;
  /** An image pull (only for an image the node does not have yet, or pullPolicy Always). */
  pullMs: number;
  /** Create + start of each container (init containers too). */
  containerStartMs: number;
}

export const NO_STARTUP_DELAY: StartupDelay = { schedulingMs: 0, sandboxMs: 0, pullMs: 0, containerStartMs: 0 };

/**
 * `floe dev cluster`'s default, close to a real node with containerd starting a pod from a cached image:
 * about 1.3 s from creation to Running; a first pull of an image on a node adds 2.5 s.
 */
export const DEFAULT_STARTUP_DELAY: StartupDelay = { schedulingMs: 20, sandboxMs: 900, pullMs: 2500, containerStartMs: 400 };

const KEYS = Object.keys(NO_STARTUP_DELAY) as (keyof StartupDelay)[];

/** `0` turns every delay off; an object overrides some of the defaults. Throws an Error naming a bad value. */
export type StartupDelayOption = 0 | Partial<StartupDelay>;

export function resolveStartupDelay(opt: StartupDelayOption | undefined, where = 'startupDelay'): StartupDelay {
  if (opt === undefined) return { ...DEFAULT_STARTUP_DELAY };
  if (opt === 0) return { ...NO_STARTUP_DELAY };
  const out = { ...DEFAULT_STARTUP_DELAY };
  for (const [k, v] of Object.entries(opt)) {
    if (!KEYS.includes(k as keyof StartupDelay)) throw new Error(`${where}.${k}: unknown; expected one of ${KEYS.join(', ')}`);
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Error(`${where}.${k}: expected a non-negative number of milliseconds, got ${String(v)}`);
    out[k as keyof StartupDelay] = v;
  }
  return out;
}

/** Parses the CLI form: `0`, `default`, or `key=ms,...` over the defaults (`sandbox=500,pull=0`). */
export function parseStartupDelayFlag(text: string): StartupDelay {
  const t = text.trim();
  if (t === '0' || t === 'none') return resolveStartupDelay(0);
  if (t === 'default' || t === '') return resolveStartupDelay(undefined);
  const patch: Partial<StartupDelay> = {};
  for (const part of t.split(',')) {
    const m = /^\s*([a-zA-Z]+)\s*=\s*([0-9]+(?:\.[0-9]+)?)\s*$/.exec(part);
    const key = m && (KEYS.find((k) => k === m[1] || k === `${m[1]}Ms`) as keyof StartupDelay | undefined);
    if (!m || !key) throw new Error(`--startup-delay: expected 0, default or KEY=MS[,KEY=MS] with KEY one of scheduling, sandbox, pull, containerStart; got "${part}"`);
    patch[key] = Number(m[2]);
  }
  return resolveStartupDelay(patch, '--startup-delay');
}

/**
 * The annotation that makes the kubelet report containers Running while their processes never start (for
 * "stuck in queued" tests): a comma-separated list of container names, or `*` for every container.
 */
export const NEVER_START_ANNOTATION = 'dev.floe.io/never-start';

export function neverStartsProcess(pod: Pod, container: string): boolean {
  const v = pod.metadata.annotations?.[NEVER_START_ANNOTATION];
  if (v === undefined) return false;
  return v.split(',').some((x) => x.trim() === '*' || x.trim() === container);
}
