// The dev cluster's scheduler: binds pending pods (schedulerName default-scheduler) to the node that fits
// best, or marks them PodScheduled=False/Unschedulable with a FailedScheduling event until capacity frees up.
// Runs whenever a pod arrives, a pod stops holding capacity, or a node changes; pauses with the kubelet.
import type { EventRecorder } from './events.ts';
import type { Faults } from './faults.ts';
import { setCondition } from './pod-status.ts';
import { k8sTime, type Registry } from './registry.ts';
import { POD_RESOURCE } from './resources.ts';
import { addUsage, chooseNode, type NodeUsage } from './scheduling.ts';
import type { StoreEvent } from './store.ts';
import type { NodeObject, Pod } from './types.ts';

const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';

export class Scheduler {
  private readonly pending = new Map<string, { ns: string; name: string }>();
  private dirty = false;
  private kicked = false;
  private stopped = false;
  private unsubscribe: () => void = () => {};

  constructor(
    private readonly registry: Registry,
    private readonly recorder: EventRecorder,
    private readonly faults: Faults,
    /** A scheduling cycle starts this long after a pod arrives (the real scheduler's queue and cycle). */
    private readonly delayMs = 0,
  ) {}

  start(): void {
    this.unsubscribe = this.registry.store.subscribe((e) => this.onEvent(e));
    for (const o of this.registry.store.list('pods')) {
      const p = o as Pod;
      if (!p.spec.nodeName) this.pending.set(p.metadata.uid!, { ns: p.metadata.namespace!, name: p.metadata.name! });
    }
    this.markDirty();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe();
  }

  /** Called on resume. */
  markDirty(): void {
    this.dirty = true;
    this.kick();
  }

  private onEvent(e: StoreEvent): void {
    if (e.resource === 'nodes') return this.markDirty();
    if (e.resource !== 'pods') return;
    const pod = e.object as Pod;
    const uid = pod.metadata.uid!;
    if (e.type === 'ADDED' && !pod.spec.nodeName) {
      this.pending.set(uid, { ns: pod.metadata.namespace!, name: pod.metadata.name! });
      return this.markDirty();
    }
    if (e.type === 'DELETED') {
      this.pending.delete(uid);
      if (pod.spec.nodeName && this.pending.size) this.markDirty();
      return;
    }
    // A changed pending pod (e.g. new tolerations) may fit now; a pod that just finished frees its requests.
    if (e.type === 'MODIFIED' && this.pending.has(uid)) return this.markDirty();
    if (e.type === 'MODIFIED' && this.pending.size && isTerminal(pod) && e.prev && !isTerminal(e.prev as Pod)) this.markDirty();
  }

  private kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    const pass = () => {
      this.kicked = false;
      if (this.stopped || this.faults.config.kubeletPaused || !this.dirty) return;
      this.dirty = false;
      this.schedulePass();
    };
    if (this.delayMs > 0) setTimeout(pass, this.delayMs).unref();
    else setImmediate(pass);
  }

  private schedulePass(): void {
    if (this.pending.size === 0) return;
    const store = this.registry.store;
    const nodes = store.list('nodes') as NodeObject[];
    const usage = new Map<string, NodeUsage>();
    for (const o of store.list('pods')) {
      const p = o as Pod;
      if (p.spec.nodeName && !isTerminal(p)) addUsage(usage, p.spec.nodeName, p);
    }
    const queue: Pod[] = [];
    for (const [uid, ref] of this.pending) {
      const p = store.get('pods', ref.ns, ref.name) as Pod | undefined;
      if (!p || p.metadata.uid !== uid || p.spec.nodeName) {
        this.pending.delete(uid);
        continue;
      }
      if (p.metadata.deletionTimestamp || (p.spec.schedulerName ?? 'default-scheduler') !== 'default-scheduler') continue;
      queue.push(p);
    }
    queue.sort(
      (a, b) =>
        (b.spec.priority ?? 0) - (a.spec.priority ?? 0) ||
        String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)) ||
        Number(a.metadata.resourceVersion) - Number(b.metadata.resourceVersion),
    );
    for (const pod of queue) {
      const d = chooseNode(pod, nodes, usage);
      if ('node' in d) {
        this.bind(pod, d.node);
        addUsage(usage, d.node, pod);
        this.pending.delete(pod.metadata.uid!);
      } else {
        this.markUnschedulable(pod, d.message);
      }
    }
  }

  private bind(pod: Pod, node: string): void {
    const next = structuredClone(pod);
    next.spec.nodeName = node;
    const conds = (next.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conds.push(setCondition(pod.status?.conditions, 'PodScheduled', { status: 'True' }, k8sTime()));
    next.status = { ...(next.status ?? {}), conditions: conds };
    const stored = this.registry.internalUpdate(POD_RESOURCE, next) as Pod;
    this.recorder.record(stored, {
      type: 'Normal',
      reason: 'Scheduled',
      message: `Successfully assigned ${pod.metadata.namespace}/${pod.metadata.name} to ${node}`,
      component: 'default-scheduler',
    });
  }

  private markUnschedulable(pod: Pod, message: string): void {
    const cur = pod.status?.conditions?.find((c) => c.type === 'PodScheduled');
    if (cur && cur.status === 'False' && cur.message === message) return;
    const next = structuredClone(pod);
    const conds = (next.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    conds.push(setCondition(pod.status?.conditions, 'PodScheduled', { status: 'False', reason: 'Unschedulable', message }, k8sTime()));
    next.status = { ...(next.status ?? {}), conditions: conds };
    const stored = this.registry.internalUpdate(POD_RESOURCE, next) as Pod;
    this.recorder.record(stored, { type: 'Warning', reason: 'FailedScheduling', message, component: 'default-scheduler' });
  }
}
