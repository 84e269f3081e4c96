// A real kube-apiserver (scripts/kube-apiserver.sh: v1.20.2 from Debian's source, on etcd 3.4) with
// `floe dev kubelet` attached, for the conformance suite. Each test file gets its own server (own state
// directory, free port), stopped with it.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startDevKubelet, type DevKubelet, type DevKubeletOptions } from '../../src/devcluster/dev-kubelet.ts';
import type { PodCreation } from '../../src/devcluster/index.ts';
import { RawClient } from '../../src/devcluster/raw-client.ts';
import { Reflector } from '../../src/devcluster/reflector.ts';
import type { Pod } from '../../src/devcluster/types.ts';
import { KubeConfig } from '@kubernetes/client-node';

const run = promisify(execFile);
export const SCRIPT = fileURLToPath(new URL('../../scripts/kube-apiserver.sh', import.meta.url));

/** The cached kube-apiserver binary, or undefined when it was never built on this machine. */
export async function cachedApiServer(): Promise<string | undefined> {
  try {
    const { stdout } = await run('bash', [SCRIPT, 'cached']);
    return stdout.trim() || undefined;
  } catch {
    return undefined;
  }
}

export const NOT_BUILT =
  'kube-apiserver v1.20.2 is not built on this machine: run `scripts/kube-apiserver.sh build` (20-40 minutes, Debian packages only) and then `npm run test:conformance`';

export interface RealServer {
  kubeconfigPath: string;
  /** Restarts kube-apiserver (etcd and its data stay), as a control-plane upgrade or crash does. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts etcd + kube-apiserver; fails (never skips) when the binary is cached but the server does not start. */
export async function startRealServer(extraEnv: Record<string, string> = {}): Promise<RealServer> {
  if (!(await cachedApiServer())) throw new Error(NOT_BUILT);
  const state = mkdtempSync(path.join(os.tmpdir(), 'floe-kube-'));
  const env = { ...process.env, ...extraEnv, FLOE_KUBE_STATE: state, FLOE_KUBE_PORT: '0' };
  try {
    const { stdout } = await run('bash', [SCRIPT, 'start'], { env, timeout: 180_000 });
    const kubeconfigPath = stdout.trim().split('\n').pop()!;
    return {
      kubeconfigPath,
      restart: async () => void (await run('bash', [SCRIPT, 'restart'], { env, timeout: 180_000 })),
      stop: async () => {
        await run('bash', [SCRIPT, 'stop'], { env }).catch(() => {});
        rmSync(state, { recursive: true, force: true });
      },
    };
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    await run('bash', [SCRIPT, 'stop'], { env }).catch(() => {});
    throw new Error(`the cached kube-apiserver did not start: ${err.stderr || err.message}`);
  }
}

/** Every pod the server accepted from now on, as the dev cluster's podCreationLog (from a pod watch). */
export function podCreationWatch(kubeconfigPath: string): { log: PodCreation[]; ready: Promise<void>; stop(): void } {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const log: PodCreation[] = [];
  const seen = new Set<string>();
  let initial = true;
  const r = new Reflector<Pod>(new RawClient(kc, 'floe-conformance'), '/api/v1/pods', {}, (type, p) => {
    const uid = p.metadata.uid!;
    if (type !== 'ADDED' || seen.has(uid)) return;
    seen.add(uid);
    if (initial) return;
    log.push({ namespace: p.metadata.namespace!, name: p.metadata.name!, uid, resourceVersion: p.metadata.resourceVersion!, time: new Date().toISOString() });
  });
  r.start();
  return { log, ready: r.ready.then(() => void (initial = false)), stop: () => r.stop() };
}

export interface RealCluster {
  server: RealServer;
  kubelet: DevKubelet;
  kubeconfigPath: string;
  podCreationLog: readonly PodCreation[];
  stop(): Promise<void>;
}

/** A real API server with one `floe dev kubelet` node (`node`) attached. */
export async function startRealCluster(kubelet: Omit<DevKubeletOptions, 'kubeconfigPath'>): Promise<RealCluster> {
  const server = await startRealServer();
  try {
    const k = await startDevKubelet({ nodeName: 'floe-conformance-1', startupDelay: 0, warn: () => {}, ...kubelet, kubeconfigPath: server.kubeconfigPath });
    const creations = podCreationWatch(server.kubeconfigPath);
    await creations.ready;
    return {
      server,
      kubelet: k,
      kubeconfigPath: server.kubeconfigPath,
      podCreationLog: creations.log,
      async stop() {
        creations.stop();
        await k.stop();
        await server.stop();
      },
    };
  } catch (e) {
    await server.stop();
    throw e;
  }
}
