// The process kubelet's view of a remote API server (`floe dev kubelet`): reflectors of its node's pods and of
// every ConfigMap and Secret, and the writes a kubelet makes — pods/status (a merge patch carrying the pod's
// uid, so a pod recreated under the same name is not overwritten), the final DELETE with grace 0 and a uid
// precondition, and Events aggregated as the kubelet's recorder does. Writes for one pod go in order.
import type { EventSpec } from './events.ts';
import type { HostChange, KubeletHost } from './kubelet-host.ts';
import { jsonEqual } from './json.ts';
import { ApiCallError, type RawClient } from './raw-client.ts';
import { Reflector } from './reflector.ts';
import { k8sTime } from './registry.ts';
import type { ConfigMapObject, NodeObject, Pod, PodStatus, SecretObject } from './types.ts';

const enc = encodeURIComponent;

/** A merge patch turning status `prev` into `next`: every top-level key of `next`, null for those it dropped. */
export function statusMergePatch(prev: PodStatus | undefined, next: PodStatus): Record<string, unknown> {
  const out: Record<string, unknown> = { ...next };
  for (const k of Object.keys(prev ?? {})) if (!(k in next)) out[k] = null;
  return out;
}

export class RemoteKubeletHost implements KubeletHost {
  private readonly listeners = new Set<(c: HostChange) => void>();
  private readonly podsR: Reflector<Pod>;
  private readonly configMaps: Reflector<ConfigMapObject>;
  private readonly secrets: Reflector<SecretObject>;
  private readonly chains = new Map<string, Promise<void>>();
  private readonly sent = new Map<string, PodStatus>();
  private readonly events = new Map<string, { ns: string; name: string; count: number }>();
  private seq = 0;
  nodeObject?: NodeObject;

  constructor(
    private readonly client: RawClient,
    readonly nodeName: string,
    private readonly warn: (msg: string) => void,
  ) {
    const emitPod = (_t: string, p: Pod) => this.emit({ kind: 'pod', ns: p.metadata.namespace!, name: p.metadata.name!, uid: p.metadata.uid! });
    const emitConfig = (t: string, o: ConfigMapObject | SecretObject) => {
      if (t !== 'DELETED') this.emit({ kind: 'config', ns: o.metadata.namespace! });
    };
    this.podsR = new Reflector<Pod>(client, '/api/v1/pods', { fieldSelector: `spec.nodeName=${nodeName}` }, emitPod, warn);
    this.configMaps = new Reflector<ConfigMapObject>(client, '/api/v1/configmaps', {}, emitConfig, warn);
    this.secrets = new Reflector<SecretObject>(client, '/api/v1/secrets', {}, emitConfig, warn);
  }

  async start(): Promise<void> {
    for (const r of [this.configMaps, this.secrets, this.podsR]) r.start();
    await Promise.all([this.configMaps.ready, this.secrets.ready, this.podsR.ready]);
  }

  stop(): void {
    for (const r of [this.configMaps, this.secrets, this.podsR]) r.stop();
  }

  /** Waits for every write in flight. */
  async drain(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  private emit(c: HostChange): void {
    for (const fn of this.listeners) fn(c);
  }

  private chain(uid: string, what: string, fn: () => Promise<void>): void {
    const prev = this.chains.get(uid) ?? Promise.resolve();
    const next = prev.then(fn).catch((e: unknown) => this.warn(`${what}: ${(e as Error).message}`));
    this.chains.set(uid, next);
    void next.then(() => {
      if (this.chains.get(uid) === next) this.chains.delete(uid);
    });
  }

  pod(ns: string, name: string): Pod | undefined {
    return this.podsR.get(ns, name);
  }

  pods(): Pod[] {
    return this.podsR.values();
  }

  node(name: string): NodeObject | undefined {
    return name === this.nodeName ? this.nodeObject : undefined;
  }

  configMap(ns: string, name: string): ConfigMapObject | undefined {
    return this.configMaps.get(ns, name);
  }

  secret(ns: string, name: string): SecretObject | undefined {
    return this.secrets.get(ns, name);
  }

  subscribe(fn: (c: HostChange) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  writeStatus(pod: Pod, status: PodStatus): void {
    const uid = pod.metadata.uid!;
    // The cache lags our own writes: do not send the same status twice while it catches up.
    if (jsonEqual(this.sent.get(uid), status)) return;
    this.sent.set(uid, status);
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    const body = { metadata: { uid }, status: statusMergePatch(pod.status, status) };
    this.chain(uid, `status of pod ${ns}/${name}`, async () => {
      try {
        await this.client.must('PATCH', `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}/status`, body, 'application/merge-patch+json');
      } catch (e) {
        this.sent.delete(uid);
        // Gone or replaced: nothing to report. Anything else: try again on the next sync, soon.
        if (e instanceof ApiCallError && (e.status === 404 || e.status === 409 || e.status === 422)) return;
        setTimeout(() => this.emit({ kind: 'pod', ns, name, uid }), 1000).unref();
        throw e;
      }
    });
  }

  finishDeletion(pod: Pod): void {
    const uid = pod.metadata.uid!;
    const ns = pod.metadata.namespace!;
    const name = pod.metadata.name!;
    this.chain(uid, `delete of pod ${ns}/${name}`, async () => {
      const r = await this.client.request('DELETE', `/api/v1/namespaces/${enc(ns)}/pods/${enc(name)}`, {
        kind: 'DeleteOptions',
        apiVersion: 'v1',
        gracePeriodSeconds: 0,
        preconditions: { uid },
      });
      if (r.status >= 300 && r.status !== 404 && r.status !== 409) throw new Error(`${r.status} ${r.text.slice(0, 200)}`);
    });
  }

  recordEvent(pod: Pod, e: EventSpec): void {
    const ns = pod.metadata.namespace!;
    const uid = pod.metadata.uid!;
    const key = [uid, e.component, e.type, e.reason, e.message, e.fieldPath ?? ''].join('\u0000');
    const now = k8sTime();
    const seen = this.events.get(key);
    if (seen) {
      seen.count += 1;
      const body = { count: seen.count, lastTimestamp: now };
      this.chain(uid, `event ${e.reason}`, async () => {
        await this.client.must('PATCH', `/api/v1/namespaces/${enc(ns)}/events/${enc(seen.name)}`, body, 'application/merge-patch+json');
      });
      return;
    }
    const name = `${pod.metadata.name}.${(BigInt(Date.now()) * 1_000_000n + BigInt(this.seq++ % 1_000_000)).toString(16)}`;
    this.events.set(key, { ns, name, count: 1 });
    const involvedObject: Record<string, string> = { kind: 'Pod', namespace: ns, name: pod.metadata.name!, uid, apiVersion: 'v1', resourceVersion: pod.metadata.resourceVersion ?? '' };
    if (e.fieldPath) involvedObject.fieldPath = e.fieldPath;
    const ev = {
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
      reportingComponent: e.component,
      reportingInstance: e.host ?? '',
    };
    this.chain(uid, `event ${e.reason}`, async () => {
      await this.client.must('POST', `/api/v1/namespaces/${enc(ns)}/events`, ev);
    });
  }

  forgetPod(uid: string): void {
    this.sent.delete(uid);
    for (const k of this.events.keys()) if (k.startsWith(`${uid}\u0000`)) this.events.delete(k);
  }

  apiEndpoint(): { host: string; port: number } {
    const u = this.client.server;
    return { host: u.hostname, port: Number(u.port || (u.protocol === 'https:' ? 443 : 80)) };
  }
}
