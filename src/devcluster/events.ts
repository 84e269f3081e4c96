// core/v1 Events written by the dev cluster's scheduler and kubelet, shaped as the real components write
// them (involvedObject, source, reportingComponent, count), with the same aggregation: a repeat of the same
// reason and message for the same object bumps count and lastTimestamp instead of adding an event.
import { EVENT_RESOURCE } from './resources.ts';
import { k8sTime, type Registry } from './registry.ts';
import type { KObject, Pod } from './types.ts';

export interface EventSpec {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  component: 'kubelet' | 'default-scheduler';
  /** Node name; the kubelet reports it as source.host. */
  host?: string;
  /** e.g. "spec.containers{base}" for container events. */
  fieldPath?: string;
}

export class EventRecorder {
  private readonly seen = new Map<string, string>();
  private seq = 0;

  constructor(private readonly registry: Registry) {}

  record(pod: Pod, e: EventSpec): void {
    const ns = pod.metadata.namespace!;
    const nsObj = this.registry.store.get('namespaces', undefined, ns);
    if (!nsObj || nsObj.metadata.deletionTimestamp) return;
    const now = k8sTime();
    const key = [pod.metadata.uid, e.component, e.type, e.reason, e.message, e.fieldPath ?? ''].join('\u0000');
    const existingName = this.seen.get(key);
    const existing = existingName ? this.registry.store.get('events', ns, existingName) : undefined;
    if (existing) {
      const next = structuredClone(existing);
      next.count = Number(existing.count ?? 1) + 1;
      next.lastTimestamp = now;
      this.registry.internalUpdate(EVENT_RESOURCE, next);
      return;
    }
    const name = `${pod.metadata.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    const involvedObject: Record<string, string> = {
      kind: 'Pod',
      namespace: ns,
      name: pod.metadata.name!,
      uid: pod.metadata.uid!,
      apiVersion: 'v1',
      resourceVersion: pod.metadata.resourceVersion!,
    };
    if (e.fieldPath) involvedObject.fieldPath = e.fieldPath;
    const ev: KObject = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name, namespace: ns },
      involvedObject,
      reason: e.reason,
      message: e.message,
      source: e.host ? { component: e.component, host: e.host } : { component: e.component },
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
      type: e.type,
      eventTime: null,
      reportingComponent: e.component,
      reportingInstance: e.host ?? '',
    };
    this.registry.internalCreate(EVENT_RESOURCE, ev);
    this.seen.set(key, name);
  }

  /** Forgets aggregation keys of a pod that is gone. */
  forgetPod(uid: string): void {
    for (const k of this.seen.keys()) if (k.startsWith(`${uid}\u0000`)) this.seen.delete(k);
  }
}
