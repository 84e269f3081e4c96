// Shared helpers for the dev cluster tests: a cluster plus official-client handles, and polling.
import { CoreV1Api, KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { startDevCluster, type DevCluster, type DevClusterOptions } from '../../src/devcluster/index.ts';

export interface Harness {
  cluster: DevCluster;
  kc: KubeConfig;
  core: CoreV1Api;
}

export async function startHarness(opts: DevClusterOptions = {}): Promise<Harness> {
  // Pods start at once unless a test asks for the modelled start (startupDelay).
  const cluster = await startDevCluster({ bookmarkIntervalMs: 200, restartBackoffMs: 200, imagePullBackoffMs: 200, configRetryMs: 200, startupDelay: 0, ...opts });
  const kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  return { cluster, kc, core: kc.makeApiClient(CoreV1Api) };
}

/** Polls `fn` until it returns a value that is not undefined/false; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function podSpec(name: string, command: string[], extra: Partial<V1Pod['spec']> = {}, labels: Record<string, string> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'busybox:1.36', command }], ...extra },
  };
}

export async function waitPhase(core: CoreV1Api, name: string, phases: string[], namespace = 'default', timeoutMs = 20_000): Promise<V1Pod> {
  return waitFor(`pod ${namespace}/${name} to reach ${phases.join('/')}`, async () => {
    const p = await core.readNamespacedPod({ name, namespace });
    return phases.includes(p.status?.phase ?? '') ? p : undefined;
  }, timeoutMs);
}

/** The Status body of a failed client call. */
export function statusOf(e: unknown): { code: number; reason?: string; message?: string; details?: { causes?: { field?: string; reason?: string; message?: string }[] } } {
  const err = e as { code?: number; body?: unknown };
  const body = typeof err.body === 'string' ? (JSON.parse(err.body) as Record<string, unknown>) : (err.body as Record<string, unknown>);
  return { ...(body as object), code: err.code ?? 0 } as ReturnType<typeof statusOf>;
}

export async function expectApiError(p: Promise<unknown>): Promise<ReturnType<typeof statusOf>> {
  try {
    await p;
  } catch (e) {
    return statusOf(e);
  }
  throw new Error('expected the API call to fail');
}
