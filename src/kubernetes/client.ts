// The Kubernetes API as Floe uses it: the official client, a client-side rate limit (client-node has none),
// and classification of errors into retry / give up, honouring Retry-After.
import { ApiException, CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import type { LoadedConfig } from '../config/load.ts';

export interface KubeConnection {
  kubeconfig: string | null;
  context: string | null;
  inCluster: boolean;
}

export function makeKubeConfig(o: KubeConnection): KubeConfig {
  const kc = new KubeConfig();
  if (o.inCluster) kc.loadFromCluster();
  else if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
  else kc.loadFromDefault();
  if (o.context) {
    if (!kc.getContexts().some((c) => c.name === o.context))
      throw new Error(`kubernetes.context: no context "${o.context}" in the kubeconfig (has: ${kc.getContexts().map((c) => c.name).join(', ') || 'none'})`);
    kc.setCurrentContext(o.context);
  }
  if (!kc.getCurrentCluster()) throw new Error('kubernetes: the kubeconfig has no current cluster (set kubernetes.kubeconfig / kubernetes.context)');
  return kc;
}

/** Token bucket: `qps` tokens a second, at most `burst` saved up (client-go's defaults are 5 / 10). */
export class TokenBucket {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();
  constructor(
    private readonly qps: number,
    private readonly burst: number,
  ) {
    this.tokens = burst;
  }
  take(): Promise<void> {
    // Chained so waiters are served in order.
    const next = this.queue.then(async () => {
      for (;;) {
        const now = Date.now();
        this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
        this.last = now;
        if (this.tokens >= 1) {
          this.tokens -= 1;
          return;
        }
        await new Promise((r) => setTimeout(r, Math.ceil(((1 - this.tokens) / this.qps) * 1000)));
      }
    });
    this.queue = next.catch(() => {});
    return next;
  }
}

export type ErrorClass =
  | { kind: 'conflict' } // 409: name taken
  | { kind: 'retry'; afterMs: number | null } // 429, 5xx, network
  | { kind: 'quota'; message: string } // 403 exceeded quota: wait, keep the task queued
  | { kind: 'fatal'; message: string };

export function statusCode(e: unknown): number | null {
  return e instanceof ApiException ? e.code : typeof (e as { code?: unknown })?.code === 'number' ? ((e as { code: number }).code ?? null) : null;
}

/** Kubernetes' own message from a Status body, else the error's. */
export function apiMessage(e: unknown): string {
  if (e instanceof ApiException) {
    const body = e.body as unknown;
    let parsed: { message?: string } | null = null;
    if (typeof body === 'string') {
      try {
        parsed = JSON.parse(body) as { message?: string };
      } catch {
        parsed = null;
      }
    } else if (body && typeof body === 'object') parsed = body as { message?: string };
    return `HTTP ${e.code}: ${parsed?.message ?? (typeof body === 'string' ? body.slice(0, 300) : e.message)}`;
  }
  return (e as Error)?.message ?? String(e);
}

export function classifyError(e: unknown): ErrorClass {
  const code = statusCode(e);
  if (code === 409) return { kind: 'conflict' };
  if (code === 429 || (code !== null && code >= 500)) {
    const h = e instanceof ApiException ? e.headers : {};
    const ra = Number(h?.['retry-after'] ?? h?.['Retry-After']);
    return { kind: 'retry', afterMs: Number.isFinite(ra) && ra >= 0 ? ra * 1000 : null };
  }
  if (code === 403 && /exceeded quota|forbidden: exceeded/i.test(apiMessage(e))) return { kind: 'quota', message: apiMessage(e) };
  if (code === null) return { kind: 'retry', afterMs: null }; // network error
  return { kind: 'fatal', message: apiMessage(e) };
}

/** Full-jitter exponential backoff: random in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, baseMs = 200, capMs = 10_000): number {
  return Math.random() * Math.min(capMs, baseMs * 2 ** attempt);
}

/**
 * client-node builds a new http(s).Agent for every request (KubeConfig.createAgent, called per request), so
 * each request opens its own TCP (and TLS) connection. This makes the KubeConfig hand out one keep-alive agent
 * per distinct set of agent options instead (same TLS material, proxy and server ⇒ same agent), so requests —
 * API calls, watches and log streams alike — reuse connections. A client-node without that method keeps its
 * per-request agents.
 */
export function useKeepAliveAgents(kc: KubeConfig): void {
  type CreateAgent = (cluster: unknown, opts: Record<string, unknown>) => unknown;
  const target = kc as unknown as { createAgent?: CreateAgent; floeKeepAlive?: true };
  const original = target.createAgent;
  if (typeof original !== 'function' || target.floeKeepAlive) return;
  const agents = new Map<string, unknown>();
  const text = (v: unknown): unknown => (Buffer.isBuffer(v) ? v.toString('base64') : Array.isArray(v) ? v.map(text) : v);
  target.floeKeepAlive = true;
  let last: { cluster: unknown; opts: [string, unknown][]; agent: unknown } | null = null;
  target.createAgent = (cluster, opts) => {
    // Fast path: the same cluster object and option values (===) as the previous request.
    const entries = Object.entries(opts);
    if (last && last.cluster === cluster && last.opts.length === entries.length && entries.every(([k, v], i) => last!.opts[i][0] === k && last!.opts[i][1] === v)) return last.agent;
    const c = (cluster ?? {}) as { server?: string; proxyUrl?: string; skipTLSVerify?: boolean };
    // Everything the agent is built from: a rotated certificate or CA file gives a new agent.
    const key = JSON.stringify([c.server, c.proxyUrl, c.skipTLSVerify, entries.map(([k, v]) => [k, text(v)])]);
    let agent = agents.get(key);
    if (!agent) {
      agent = original.call(kc, cluster, { ...opts, keepAlive: true });
      agents.set(key, agent);
    }
    last = { cluster, opts: entries, agent };
    return agent;
  };
}

export class KubeApi {
  readonly core: CoreV1Api;
  private readonly bucket: TokenBucket;
  constructor(
    readonly kc: KubeConfig,
    limits: { qps: number; burst: number },
    private readonly timeoutMs = 30_000,
  ) {
    useKeepAliveAgents(kc);
    this.core = kc.makeApiClient(CoreV1Api);
    this.bucket = new TokenBucket(limits.qps, limits.burst);
  }
  /**
   * Every request goes through the rate limit, and none may hang forever: past `timeoutMs` it fails like a
   * network error (retryable), so a stuck connection cannot stall launching, adoption or the sweep.
   */
  async call<T>(fn: (core: CoreV1Api) => Promise<T>, timeoutMs = this.timeoutMs): Promise<T> {
    await this.bucket.take();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Kubernetes API request timed out after ${timeoutMs / 1000}s`)), timeoutMs);
    });
    try {
      return await Promise.race([fn(this.core), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** The Kubernetes API as configured (kubernetes.kubeconfig / context / inCluster, apiQps / apiBurst). */
export function kubeApiFromConfig(cfg: Pick<LoadedConfig, 'kubernetes'>): KubeApi {
  const k = cfg.kubernetes;
  return new KubeApi(makeKubeConfig({ kubeconfig: k.kubeconfig, context: k.context, inCluster: k.inCluster }), { qps: k.apiQps, burst: k.apiBurst });
}
