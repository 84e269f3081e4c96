// `floe dev cluster`, programmatically: a Kubernetes-API test server (core/v1 over HTTP on 127.0.0.1) with a
// process kubelet that runs pods' containers as local processes. For tests and local trials, not production.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo, Socket } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_COMPACTION_INTERVAL_MS, startCompactor } from './compactor.ts';
import { EventRecorder } from './events.ts';
import { DEFAULT_EVENT_WINDOW, Faults, parseFaultPatch, type FaultConfig, type FaultPatch } from './faults.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { ProcessKubelet } from './kubelet.ts';
import { LocalKubeletHost } from './kubelet-host.ts';
import { DEFAULT_LOG_BYTES, LogStore } from './logs.ts';
import { buildNode, type NodeOptions } from './nodes.ts';
import { requireQuantity } from './quantity.ts';
import { Registry, type PodCreation } from './registry.ts';
import { NAMESPACE_RESOURCE, NODE_RESOURCE } from './resources.ts';
import { Scheduler } from './scheduler.ts';
import { loadSchemas } from './schema-check.ts';
import { createApiServer } from './server.ts';
import { resolveStartupDelay, type StartupDelayOption } from './startup.ts';
import { Store } from './store.ts';
import type { KObject } from './types.ts';

export type { FaultConfig, FaultPatch } from './faults.ts';
export type { NodeOptions } from './nodes.ts';
export type { PodCreation } from './registry.ts';
export type { StartupDelay, StartupDelayOption } from './startup.ts';
export { DEFAULT_STARTUP_DELAY, NEVER_START_ANNOTATION } from './startup.ts';
export { kubeconfigYaml, writeKubeconfig } from './kubeconfig.ts';

export interface DevClusterOptions {
  /** TCP port on 127.0.0.1 (default: a free random port). */
  port?: number;
  /** Number of identical nodes (default 1), or one entry per node. */
  nodes?: number | NodeOptions[];
  /** Per-node CPU capacity (default "4"). */
  cpu?: string;
  /** Per-node memory capacity (default "8Gi"). */
  memory?: string;
  /** Where to write the kubeconfig (default: a file in a temporary directory removed on stop). */
  kubeconfigPath?: string;
  /** Bearer token clients must send (default: random). */
  token?: string;
  /** Which images "exist"; others give ErrImagePull/ImagePullBackOff (default: every image). */
  imageRule?: (image: string) => boolean;
  /** Extra environment for every container. */
  env?: Record<string, string>;
  /** Directories put in front of PATH for every container. */
  pathPrepend?: string[];
  /** Give containers the whole host environment instead of a minimal one (PATH, HOME, USER, LANG, ...). */
  inheritEnv?: boolean;
  /** Directory for pod sandboxes (default: a temporary directory removed on stop). */
  workDir?: string;
  /** Initial faults. */
  faults?: FaultPatch;
  /** BOOKMARK interval on watches that allow them (default 5000 ms; the real server sends about one a minute). */
  bookmarkIntervalMs?: number;
  /** First crash-loop back-off (default 10000 ms, as the kubelet), doubling to maxBackoffMs (default 300000). */
  restartBackoffMs?: number;
  maxBackoffMs?: number;
  /** First image-pull back-off (default 10000 ms). */
  imagePullBackoffMs?: number;
  /** Retry interval for CreateContainerConfigError (default 2000 ms). */
  configRetryMs?: number;
  /** Memory-limit sampling interval (default 200 ms). */
  oomPollMs?: number;
  /** Log bytes kept per container instance (default 16 MiB). */
  logBytesPerContainer?: number;
  /**
   * How long pods take to start (scheduling, sandbox, image pull, container start): default
   * DEFAULT_STARTUP_DELAY (about 1.3 s to Running from a cached image); `0` starts pods at once (tests).
   */
  startupDelay?: StartupDelayOption;
  /** Compacts old resourceVersions every this many ms, as kube-apiserver does etcd's (default 300000; 0 = never). */
  compactionIntervalMs?: number;
}

export interface DevClusterFaults {
  get(): FaultConfig;
  /** Changes some fault settings; throws an Error naming any bad field. */
  set(patch: FaultPatch): FaultConfig;
  /** Removes every fault (the kubelet resumes, the event window returns to its default). */
  clear(): FaultConfig;
  /** Ends every open watch stream now; returns how many were open. */
  closeWatches(): number;
  /** Drops every retained watch event: any resourceVersion older than now answers 410 Gone. */
  compact(): void;
}

export interface DevCluster {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  port: number;
  kubeconfigPath: string;
  token: string;
  faults: DevClusterFaults;
  kubelet: { pause(): void; resume(): void; readonly paused: boolean };
  /** Every pod create the API server accepted, in order. */
  podCreationLog: readonly PodCreation[];
  /** Current resourceVersion of the store (for tests about watch resume). */
  resourceVersion(): number;
  /** Stops the server and kills every process the kubelet started. */
  stop(): Promise<void>;
}

function nodeList(opts: DevClusterOptions): NodeOptions[] {
  const n = opts.nodes ?? 1;
  if (typeof n === 'number') {
    if (!Number.isInteger(n) || n < 1 || n > 250) throw new Error(`nodes: expected an integer from 1 to 250, got ${n}`);
    return Array.from({ length: n }, () => ({}));
  }
  if (!Array.isArray(n) || n.length === 0) throw new Error('nodes: expected a number or a non-empty list of node options');
  return n;
}

function positive(v: number | undefined, dflt: number, what: string): number {
  if (v === undefined) return dflt;
  if (!Number.isFinite(v) || v < 0) throw new Error(`${what}: expected a non-negative number of milliseconds, got ${v}`);
  return v;
}

export async function startDevCluster(opts: DevClusterOptions = {}): Promise<DevCluster> {
  const cpu = opts.cpu ?? '4';
  const memory = opts.memory ?? '8Gi';
  requireQuantity(cpu, 'cpu');
  requireQuantity(memory, 'memory');
  if (opts.port !== undefined && (!Number.isInteger(opts.port) || opts.port < 0 || opts.port > 65535)) {
    throw new Error(`port: expected an integer from 0 to 65535, got ${opts.port}`);
  }
  const nodes = nodeList(opts).map((n, i) => buildNode(i, n, { cpu, memory }));
  const names = new Set(nodes.map((n) => n.metadata.name!));
  if (names.size !== nodes.length) throw new Error('nodes: node names must be unique');
  const initialFaults = parseFaultPatch(opts.faults ?? {}, 'faults');
  const startupDelay = resolveStartupDelay(opts.startupDelay);
  const compactionIntervalMs = positive(opts.compactionIntervalMs, DEFAULT_COMPACTION_INTERVAL_MS, 'compactionIntervalMs');
  await loadSchemas();

  const tmp = mkdtempSync(path.join(os.tmpdir(), 'floe-devcluster-'));
  const token = opts.token ?? randomBytes(24).toString('hex');
  const faults = new Faults(initialFaults);
  const store = new Store(faults.config.eventWindow ?? DEFAULT_EVENT_WINDOW);
  const registry = new Registry(store, faults);
  const logs = new LogStore(opts.logBytesPerContainer ?? DEFAULT_LOG_BYTES);
  const recorder = new EventRecorder(registry);

  for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    const obj: KObject = {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'kubernetes.io/metadata.name': ns } },
      spec: { finalizers: ['kubernetes'] },
      status: { phase: 'Active' },
    };
    registry.internalCreate(NAMESPACE_RESOURCE, obj);
  }
  for (const n of nodes) registry.internalCreate(NODE_RESOURCE, n);

  let port = 0;
  const server = createApiServer({
    registry,
    store,
    faults,
    logs,
    token,
    bookmarkIntervalMs: positive(opts.bookmarkIntervalMs, 5000, 'bookmarkIntervalMs'),
    address: () => `127.0.0.1:${port}`,
  });
  const kubelet = new ProcessKubelet(new LocalKubeletHost(registry, recorder, () => port, names), logs, {
    imageRule: opts.imageRule ?? (() => true),
    env: opts.env ?? {},
    pathPrepend: opts.pathPrepend ?? [],
    inheritEnv: opts.inheritEnv ?? false,
    sandboxRoot: opts.workDir ?? path.join(tmp, 'pods'),
    restartBackoffMs: positive(opts.restartBackoffMs, 10_000, 'restartBackoffMs'),
    maxBackoffMs: positive(opts.maxBackoffMs, 300_000, 'maxBackoffMs'),
    imagePullBackoffMs: positive(opts.imagePullBackoffMs, 10_000, 'imagePullBackoffMs'),
    configRetryMs: positive(opts.configRetryMs, 2000, 'configRetryMs'),
    oomPollMs: Math.max(10, positive(opts.oomPollMs, 200, 'oomPollMs')),
    startupDelay,
    paused: () => faults.config.kubeletPaused,
  });
  const scheduler = new Scheduler(registry, recorder, faults, startupDelay.schedulingMs);

  let lastPaused = faults.config.kubeletPaused;
  const offFaults = faults.onChange((cfg) => {
    store.setWindowSize(cfg.eventWindow);
    if (lastPaused && !cfg.kubeletPaused) {
      scheduler.markDirty();
      kubelet.resyncAll();
    }
    lastPaused = cfg.kubeletPaused;
  });

  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(new Error(e.code === 'EADDRINUSE' ? `port ${opts.port}: already in use on 127.0.0.1` : `could not listen: ${e.message}`)),
    );
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${port}`;
  const kubeconfigPath = opts.kubeconfigPath ?? path.join(tmp, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, { server: url, token });
  scheduler.start();
  kubelet.start();
  const stopCompactor = startCompactor(store, compactionIntervalMs);

  let stopped = false;
  return {
    url,
    port,
    kubeconfigPath,
    token,
    faults: {
      get: () => faults.get(),
      set: (p) => faults.set(p),
      clear: () => faults.clear(),
      closeWatches: () => faults.closeWatches(),
      compact: () => store.compactAll(),
    },
    kubelet: {
      pause: () => void faults.set({ kubeletPaused: true }),
      resume: () => void faults.set({ kubeletPaused: false }),
      get paused() {
        return faults.config.kubeletPaused;
      },
    },
    podCreationLog: registry.podCreations,
    resourceVersion: () => store.currentRv,
    async stop() {
      if (stopped) return;
      stopped = true;
      offFaults();
      stopCompactor();
      scheduler.stop();
      faults.closeWatches();
      await kubelet.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      });
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
