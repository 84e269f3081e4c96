// `floe dev kubelet`: the dev cluster's process kubelet attached to any Kubernetes API server. It registers a
// node (127.0.0.1, its HTTPS port as the kubelet endpoint so pods/log reaches it), binds pending pods that fit
// (there may be no kube-scheduler: see binder.ts), runs their containers as local processes, and reports
// through pods/status, Events and the final DELETE, as a kubelet does.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { Binder } from './binder.ts';
import { ProcessKubelet } from './kubelet.ts';
import { startKubeletServer } from './kubelet-server.ts';
import { DEFAULT_LOG_BYTES, LogStore } from './logs.ts';
import { buildNode, type NodeOptions } from './nodes.ts';
import { ApiCallError, RawClient } from './raw-client.ts';
import { RemoteKubeletHost } from './remote-host.ts';
import { resolveStartupDelay, type StartupDelayOption } from './startup.ts';
import type { NodeObject } from './types.ts';

export interface DevKubeletOptions {
  /** Path of the kubeconfig of the API server to attach to. */
  kubeconfigPath: string;
  /** Node name (default floe-dev-kubelet). */
  nodeName?: string;
  cpu?: string;
  memory?: string;
  pods?: number;
  labels?: Record<string, string>;
  /** Bind pending pods that fit this node (default true: a server without kube-scheduler needs it). */
  bindPods?: boolean;
  imageRule?: (image: string) => boolean;
  env?: Record<string, string>;
  pathPrepend?: string[];
  inheritEnv?: boolean;
  workDir?: string;
  startupDelay?: StartupDelayOption;
  restartBackoffMs?: number;
  maxBackoffMs?: number;
  imagePullBackoffMs?: number;
  configRetryMs?: number;
  /** Port of the kubelet's HTTPS endpoint on 127.0.0.1 (default: a free one). */
  port?: number;
  /** Where warnings go (default: process.emitWarning). */
  warn?: (msg: string) => void;
}

export interface DevKubelet {
  nodeName: string;
  /** The kubelet endpoint's port on 127.0.0.1. */
  port: number;
  /** Stops the kubelet and kills its pods' processes; the Node stays registered, as a stopped kubelet's. */
  stop(): Promise<void>;
}

/** The Node this kubelet registers: the dev cluster's node shape, reachable at 127.0.0.1:port. */
export function kubeletNode(o: NodeOptions & { name: string }, port: number): NodeObject {
  const node = buildNode(0, o, { cpu: o.cpu ?? '4', memory: o.memory ?? '8Gi' });
  node.status.addresses = [
    { type: 'InternalIP', address: '127.0.0.1' },
    { type: 'Hostname', address: o.name },
  ];
  node.status.daemonEndpoints = { kubeletEndpoint: { Port: port } };
  const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  node.status.conditions = (node.status.conditions as Record<string, unknown>[]).map((c) => ({ ...c, lastHeartbeatTime: now, lastTransitionTime: now }));
  return node;
}

/** Taints the node lifecycle controller removes once a node is Ready; a server without a controller-manager keeps them. */
const CONDITION_TAINTS = new Set(['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']);

async function registerNode(client: RawClient, node: NodeObject): Promise<NodeObject> {
  const name = encodeURIComponent(node.metadata.name!);
  const r = await client.request('POST', '/api/v1/nodes', node);
  if (r.status === 409) {
    // Registered before (a restarted kubelet): take it over with this run's labels.
    await client.must('PATCH', `/api/v1/nodes/${name}`, { metadata: { labels: node.metadata.labels }, spec: { unschedulable: null } }, 'application/merge-patch+json');
  } else if (r.status !== 201) throw new ApiCallError('POST', '/api/v1/nodes', r);
  // Some servers drop status on create, and a re-registration needs this run's endpoint and capacity.
  let stored = (await client.must('PATCH', `/api/v1/nodes/${name}/status`, { status: node.status }, 'application/merge-patch+json')) as NodeObject;
  // The TaintNodesByCondition admission plugin adds not-ready on create; with no node lifecycle controller
  // (no controller-manager) nothing would lift it once the node is Ready: the kubelet does.
  const taints = stored.spec.taints ?? [];
  const kept = taints.filter((t) => !CONDITION_TAINTS.has(t.key));
  if (kept.length !== taints.length) {
    stored = (await client.must('PATCH', `/api/v1/nodes/${name}`, { spec: { taints: kept.length ? kept : null } }, 'application/merge-patch+json')) as NodeObject;
  }
  return stored;
}

export async function startDevKubelet(opts: DevKubeletOptions): Promise<DevKubelet> {
  const warn = opts.warn ?? ((m: string) => process.emitWarning(`floe dev kubelet: ${m}`));
  const kc = new KubeConfig();
  kc.loadFromFile(opts.kubeconfigPath);
  const client = new RawClient(kc);
  const nodeName = opts.nodeName ?? 'floe-dev-kubelet';
  const startupDelay = resolveStartupDelay(opts.startupDelay);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'floe-dev-kubelet-'));
  const logs = new LogStore(DEFAULT_LOG_BYTES);
  const host = new RemoteKubeletHost(client, nodeName, warn);
  const server = await startKubeletServer((ns, name) => host.pod(ns, name), logs, nodeName, opts.port ?? 0);
  let kubelet: ProcessKubelet | undefined;
  let binder: Binder | undefined;
  try {
    host.nodeObject = await registerNode(client, kubeletNode({ name: nodeName, cpu: opts.cpu, memory: opts.memory, pods: opts.pods, labels: opts.labels }, server.port));
    await host.start();
    kubelet = new ProcessKubelet(host, logs, {
      imageRule: opts.imageRule ?? (() => true),
      env: opts.env ?? {},
      pathPrepend: opts.pathPrepend ?? [],
      inheritEnv: opts.inheritEnv ?? false,
      sandboxRoot: opts.workDir ?? path.join(tmp, 'pods'),
      restartBackoffMs: opts.restartBackoffMs ?? 10_000,
      maxBackoffMs: opts.maxBackoffMs ?? 300_000,
      imagePullBackoffMs: opts.imagePullBackoffMs ?? 10_000,
      configRetryMs: opts.configRetryMs ?? 2000,
      oomPollMs: 200,
      startupDelay,
    });
    kubelet.start();
    if (opts.bindPods ?? true) {
      binder = new Binder({
        client,
        node: () => host.nodeObject!,
        nodePods: () => host.pods(),
        recordEvent: (pod, e) => host.recordEvent(pod, e),
        warn,
        delayMs: startupDelay.schedulingMs,
      });
      await binder.start();
    }
  } catch (e) {
    binder?.stop();
    await kubelet?.stop();
    host.stop();
    await server.close();
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
  let stopped = false;
  return {
    nodeName,
    port: server.port,
    async stop() {
      if (stopped) return;
      stopped = true;
      binder?.stop();
      await kubelet!.stop();
      host.stop();
      await host.drain();
      await server.close();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
