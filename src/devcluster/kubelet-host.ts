// What the process kubelet needs from the API server, as one interface with two implementations: the dev
// cluster's own registry, in process (LocalKubeletHost, below), and any API server over HTTP with the official
// client (RemoteKubeletHost, remote-host.ts, for `floe dev kubelet`). The kubelet reads a cached view
// synchronously and writes asynchronously, as the real kubelet does with its informers and status manager.
import type { EventRecorder, EventSpec } from './events.ts';
import { recordWrite } from './managed-fields.ts';
import { k8sTime, type Registry } from './registry.ts';
import { POD_RESOURCE } from './resources.ts';
import type { ConfigMapObject, NodeObject, Pod, PodStatus, SecretObject } from './types.ts';

export type HostChange = { kind: 'pod'; ns: string; name: string; uid: string } | { kind: 'config'; ns: string };

export interface KubeletHost {
  pod(ns: string, name: string): Pod | undefined;
  pods(): Pod[];
  /** A node this kubelet runs; undefined for any other (its pods are someone else's). */
  node(name: string): NodeObject | undefined;
  configMap(ns: string, name: string): ConfigMapObject | undefined;
  secret(ns: string, name: string): SecretObject | undefined;
  /** Calls `fn` for every change of a pod, ConfigMap or Secret; returns an unsubscribe function. */
  subscribe(fn: (c: HostChange) => void): () => void;
  /** Reports the pod's status (pods/status). */
  writeStatus(pod: Pod, status: PodStatus): void;
  /** The kubelet's last word on a terminating pod: delete it with grace 0 and a uid precondition. */
  finishDeletion(pod: Pod): void;
  recordEvent(pod: Pod, e: EventSpec): void;
  forgetPod(uid: string): void;
  /** host:port of the API server, for containers' KUBERNETES_SERVICE_HOST/PORT. */
  apiEndpoint(): { host: string; port: number };
}

/** The dev cluster's kubelet: straight on the registry, every write synchronous. */
export class LocalKubeletHost implements KubeletHost {
  constructor(
    private readonly registry: Registry,
    private readonly recorder: EventRecorder,
    private readonly apiPort: () => number,
    /** The cluster's own nodes: pods bound to others (a `floe dev kubelet` attached here) are not ours. */
    private readonly ownNodes: ReadonlySet<string>,
  ) {}

  pod(ns: string, name: string): Pod | undefined {
    return this.registry.store.get('pods', ns, name) as Pod | undefined;
  }

  pods(): Pod[] {
    return this.registry.store.list('pods') as Pod[];
  }

  node(name: string): NodeObject | undefined {
    if (!this.ownNodes.has(name)) return undefined;
    return this.registry.store.get('nodes', undefined, name) as NodeObject | undefined;
  }

  configMap(ns: string, name: string): ConfigMapObject | undefined {
    return this.registry.store.get('configmaps', ns, name) as ConfigMapObject | undefined;
  }

  secret(ns: string, name: string): SecretObject | undefined {
    return this.registry.store.get('secrets', ns, name) as SecretObject | undefined;
  }

  subscribe(fn: (c: HostChange) => void): () => void {
    return this.registry.store.subscribe((e) => {
      const m = e.object.metadata;
      if (e.resource === 'pods') fn({ kind: 'pod', ns: m.namespace!, name: m.name!, uid: m.uid! });
      else if ((e.resource === 'configmaps' || e.resource === 'secrets') && e.type !== 'DELETED') fn({ kind: 'config', ns: m.namespace! });
    });
  }

  writeStatus(pod: Pod, status: PodStatus): void {
    const next = structuredClone(pod);
    next.status = status;
    next.metadata.managedFields = recordWrite(pod, next, POD_RESOURCE.patchSchema, { manager: 'kubelet', operation: 'Update', subresource: 'status', time: k8sTime() });
    this.registry.internalUpdate(POD_RESOURCE, next);
  }

  finishDeletion(pod: Pod): void {
    this.registry.finishPodDeletion(pod.metadata.namespace!, pod.metadata.name!, pod.metadata.uid!);
  }

  recordEvent(pod: Pod, e: EventSpec): void {
    this.recorder.record(pod, e);
  }

  forgetPod(uid: string): void {
    this.recorder.forgetPod(uid);
  }

  apiEndpoint(): { host: string; port: number } {
    return { host: '127.0.0.1', port: this.apiPort() };
  }
}
