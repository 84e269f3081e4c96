// `floe dev kubelet`'s stand-in for kube-scheduler on an API server that has none: binds pending pods
// (schedulerName default-scheduler) that fit its node through the pods/binding subresource, and marks those
// that do not fit PodScheduled=False/Unschedulable with the scheduler's message and a FailedScheduling event,
// as the real scheduler does. Several dev kubelets may share a server: a pod bound by another one answers 409.
import type { EventSpec } from './events.ts';
import { setCondition } from './pod-status.ts';
import type { RawClient } from './raw-client.ts';
import { Reflector } from './reflector.ts';
import { k8sTime } from './registry.ts';
import { addUsage, chooseNode, type NodeUsage } from './scheduling.ts';
import type { NodeObject, Pod } from './types.ts';

const enc = encodeURIComponent;
const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export interface BinderDeps {
  client: RawClient;
  node: () => NodeObject;
  /** Pods already on the node (their requests count). */
  nodePods: () => Pod[];
  recordEvent(pod: Pod, e: EventSpec): void;
  warn(msg: string): void;
  /** The scheduler's delay before it binds (startupDelay.schedulingMs). */
  delayMs: number;
}

/** Which pending pods a pass binds and which it reports unschedulable (pure). */
export function planBindings(pending: Pod[], node: NodeObject, nodePods: Pod[]): { bind: Pod[]; unschedulable: { pod: Pod; message: string }[] } {
  const usage = new Map<string, NodeUsage>();
  const name = node.metadata.name!;
  for (const p of nodePods) if (!isTerminal(p)) addUsage(usage, name, p);
  const queue = pending
    .filter((p) => !p.spec.nodeName && !p.metadata.deletionTimestamp && (p.spec.schedulerName ?? 'default-scheduler') === 'default-scheduler')
    .sort((a, b) => (b.spec.priority ?? 0) - (a.spec.priority ?? 0) || String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
  const bind: Pod[] = [];
  const unschedulable: { pod: Pod; message: string }[] = [];
  for (const p of queue) {
    const d = chooseNode(p, [node], usage);
    if ('node' in d) {
      bind.push(p);
      addUsage(usage, name, p);
    } else unschedulable.push({ pod: p, message: d.message });
  }
  return { bind, unschedulable };
}

export class Binder {
  private readonly pending: Reflector<Pod>;
  private readonly inFlight = new Set<string>();
  private timer?: NodeJS.Timeout;
  private readonly tick: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly deps: BinderDeps) {
    this.pending = new Reflector<Pod>(deps.client, '/api/v1/pods', { fieldSelector: 'spec.nodeName=' }, () => this.kick(), deps.warn);
    // Capacity frees up when pods on the node finish: look again now and then.
    this.tick = setInterval(() => this.kick(), 1000);
    this.tick.unref();
  }

  async start(): Promise<void> {
    this.pending.start();
    await this.pending.ready;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.tick);
    if (this.timer) clearTimeout(this.timer);
    this.pending.stop();
  }

  kick(): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.pass();
    }, this.deps.delayMs);
  }

  private async pass(): Promise<void> {
    const candidates = this.pending.values().filter((p) => !this.inFlight.has(p.metadata.uid!));
    if (candidates.length === 0) return;
    const node = this.deps.node();
    const plan = planBindings(candidates, node, this.deps.nodePods());
    await Promise.all([
      ...plan.bind.map((p) => this.bind(p, node.metadata.name!)),
      ...plan.unschedulable.map((u) => this.markUnschedulable(u.pod, u.message)),
    ]);
  }

  private async bind(pod: Pod, node: string): Promise<void> {
    const uid = pod.metadata.uid!;
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    this.inFlight.add(uid);
    try {
      const r = await this.deps.client.request('POST', `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}/binding`, {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace: ns, uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
      if (r.status === 201 || r.status === 200) {
        this.deps.recordEvent(pod, { type: 'Normal', reason: 'Scheduled', message: `Successfully assigned ${ns}/${name} to ${node}`, component: 'default-scheduler' });
      } else if (r.status !== 404 && r.status !== 409) {
        this.deps.warn(`binding pod ${ns}/${name}: ${r.status} ${r.text.slice(0, 200)}`);
      }
    } catch (e) {
      this.deps.warn(`binding pod ${ns}/${name}: ${(e as Error).message}`);
    } finally {
      this.inFlight.delete(uid);
    }
  }

  private async markUnschedulable(pod: Pod, message: string): Promise<void> {
    const cur = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (cur && cur.status === 'False' && cur.message === message) return;
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    const conds = (pod.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conds.push(setCondition(pod.status?.conditions, 'PodScheduled', { status: 'False', reason: 'Unschedulable', message }, k8sTime()));
    const r = await this.deps.client.request('PATCH', `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}/status`, { metadata: { uid: pod.metadata.uid }, status: { conditions: conds } }, 'application/merge-patch+json').catch((e: Error) => {
      this.deps.warn(`pod ${ns}/${name} status: ${e.message}`);
      return undefined;
    });
    if (r && r.status < 300) this.deps.recordEvent(pod, { type: 'Warning', reason: 'FailedScheduling', message, component: 'default-scheduler' });
  }
}
