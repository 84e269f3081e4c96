// Faults on demand: injected error answers (500/503/429/504, with Retry-After), latency, early-closed watch
// streams, forced 410 Gone, a shrunken event window and a paused kubelet. Settable at start, at run time
// through DevCluster.faults, and over HTTP at /_floe/faults.
import { z } from 'zod';

export interface FaultConfig {
  /** Fraction (0..1) of matching API requests answered with an injected error. */
  errorRate: number;
  /** Status codes injected errors are drawn from (500, 503, 429, 504). */
  errorCodes: number[];
  /** Sent as Retry-After (and details.retryAfterSeconds) with 429 and 503. */
  retryAfterSeconds: number;
  /** Only requests with these HTTP methods get injected errors; empty = every method. */
  errorMethods: string[];
  /** Only request paths matching this regular expression get injected errors; empty = every path. */
  errorPathPattern: string;
  /** Deterministic: answer the next N matching requests with an error (before errorRate applies). */
  failNext: number;
  /**
   * The next N matching requests other than GET are carried out, then answered with an error
   * (errorCodes[0]): a response lost after the API server stored the change, as a timeout or proxy error.
   */
  failAfterWriteNext: number;
  /** Added to every API request, in milliseconds. */
  latencyMs: number;
  /** End each watch stream this long after it started (0 = never). */
  closeWatchAfterMs: number;
  /** End each watch stream after it has sent this many events (0 = never). */
  closeWatchAfterEvents: number;
  /** The next N list or watch requests answer 410 Gone (Expired). */
  goneNext: number;
  /** How many change events the store retains for watch resume (older resourceVersions get 410). */
  eventWindow: number;
  /** A paused kubelet neither schedules, starts, stops nor reports pods until resumed. */
  kubeletPaused: boolean;
  /** Seed of the random draws for errorRate, so a faulty run can be repeated. */
  seed: number;
}

export const DEFAULT_EVENT_WINDOW = 10_000;

export function defaultFaults(): FaultConfig {
  return {
    errorRate: 0,
    errorCodes: [500, 503, 429],
    retryAfterSeconds: 1,
    errorMethods: [],
    errorPathPattern: '',
    failNext: 0,
    failAfterWriteNext: 0,
    latencyMs: 0,
    closeWatchAfterMs: 0,
    closeWatchAfterEvents: 0,
    goneNext: 0,
    eventWindow: DEFAULT_EVENT_WINDOW,
    kubeletPaused: false,
    seed: 1,
  };
}

const nonNegInt = z.number().int().min(0);

/** Validates a partial fault update (from code or the admin endpoint); unknown keys are errors. */
export const faultPatchSchema = z
  .object({
    errorRate: z.number().min(0).max(1),
    errorCodes: z.array(z.union([z.literal(500), z.literal(503), z.literal(429), z.literal(504)])).min(1),
    retryAfterSeconds: nonNegInt,
    errorMethods: z.array(z.string().regex(/^[A-Z]+$/, 'expected an upper-case HTTP method')),
    errorPathPattern: z.string().refine((s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    }, 'expected a valid regular expression'),
    failNext: nonNegInt,
    failAfterWriteNext: nonNegInt,
    latencyMs: nonNegInt,
    closeWatchAfterMs: nonNegInt,
    closeWatchAfterEvents: nonNegInt,
    goneNext: nonNegInt,
    eventWindow: nonNegInt,
    kubeletPaused: z.boolean(),
    seed: z.number().int(),
  })
  .partial()
  .strict();

export type FaultPatch = z.infer<typeof faultPatchSchema>;

/** Parses a fault update, throwing an Error that names each bad field and what was expected. */
export function parseFaultPatch(input: unknown, source: string): FaultPatch {
  const r = faultPatchSchema.safeParse(input);
  if (!r.success) {
    const msgs = r.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`);
    throw new Error(`${source}: invalid fault settings: ${msgs.join('; ')}`);
  }
  return r.data;
}

/** mulberry32: small, fast, seedable. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface ErrorDecisionState {
  failNext: number;
}

/**
 * Decides whether this request gets an injected error and which code; pure apart from consuming one
 * `failNext` from `state` and one draw from `rand`.
 */
export function decideInjectedError(
  cfg: FaultConfig,
  state: ErrorDecisionState,
  method: string,
  path: string,
  rand: () => number,
): number | null {
  if (cfg.errorMethods.length && !cfg.errorMethods.includes(method)) return null;
  if (cfg.errorPathPattern && !new RegExp(cfg.errorPathPattern).test(path)) return null;
  if (state.failNext > 0) {
    state.failNext -= 1;
    return cfg.errorCodes[0];
  }
  if (cfg.errorRate <= 0) return null;
  if (rand() >= cfg.errorRate) return null;
  return cfg.errorCodes[Math.floor(rand() * cfg.errorCodes.length)];
}

/** The live fault settings; components read `config` and listen for changes. */
export class Faults {
  private cfg: FaultConfig;
  private rand: () => number;
  private readonly listeners = new Set<(cfg: FaultConfig) => void>();
  private watchClosers = new Set<() => void>();

  constructor(initial: FaultPatch = {}) {
    this.cfg = { ...defaultFaults(), ...initial };
    this.rand = seededRandom(this.cfg.seed);
  }

  get config(): Readonly<FaultConfig> {
    return this.cfg;
  }

  get(): FaultConfig {
    return structuredClone(this.cfg);
  }

  set(patch: FaultPatch): FaultConfig {
    const p = parseFaultPatch(patch, 'faults.set');
    this.cfg = { ...this.cfg, ...p };
    if (p.seed !== undefined) this.rand = seededRandom(p.seed);
    for (const fn of this.listeners) fn(this.cfg);
    return this.get();
  }

  /** Back to no faults (the event window returns to its default size, the kubelet resumes). */
  clear(): FaultConfig {
    this.cfg = defaultFaults();
    this.rand = seededRandom(this.cfg.seed);
    for (const fn of this.listeners) fn(this.cfg);
    return this.get();
  }

  onChange(fn: (cfg: FaultConfig) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** The injected error code for this request, if any. */
  injectedError(method: string, path: string): number | null {
    const state = { failNext: this.cfg.failNext };
    const code = decideInjectedError(this.cfg, state, method, path, this.rand);
    this.cfg.failNext = state.failNext;
    return code;
  }

  /** Whether this (non-GET) request is carried out and then answered with an error; consumes one failAfterWriteNext. */
  failAfterWrite(method: string, path: string): number | null {
    if (method === 'GET' || this.cfg.failAfterWriteNext <= 0) return null;
    if (this.cfg.errorMethods.length && !this.cfg.errorMethods.includes(method)) return null;
    if (this.cfg.errorPathPattern && !new RegExp(this.cfg.errorPathPattern).test(path)) return null;
    this.cfg.failAfterWriteNext -= 1;
    return this.cfg.errorCodes[0];
  }

  /** Consumes one forced 410 if any is pending. */
  takeGone(): boolean {
    if (this.cfg.goneNext > 0) {
      this.cfg.goneNext -= 1;
      return true;
    }
    return false;
  }

  /** Watch streams register a closer so that closeWatches() can end them all. */
  registerWatch(close: () => void): () => void {
    this.watchClosers.add(close);
    return () => this.watchClosers.delete(close);
  }

  /** Ends every open watch stream now; returns how many were closed. */
  closeWatches(): number {
    const closers = [...this.watchClosers];
    this.watchClosers.clear();
    for (const c of closers) c();
    return closers.length;
  }
}
