// Task logs of pods through the Kubernetes API: read (or follow) the base container's log, and keep a copy in
// the task log file before a pod is deleted.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { Log } from '@kubernetes/client-node';
import type { KubeApi } from './client.ts';

export interface PodRef {
  namespace: string;
  name: string;
}

/** `namespace/name/uid`: the Kubernetes executor's external id of a try. */
export const externalIdOf = (namespace: string, name: string, uid: string): string => `${namespace}/${name}/${uid}`;

export function parseExternalId(id: string | null): (PodRef & { uid: string }) | null {
  const m = id ? /^([^/]+)\/([^/]+)\/([^/]+)$/.exec(id) : null;
  return m ? { namespace: m[1], name: m[2], uid: m[3] } : null;
}

/** The pod of an external id (null for other executors' ids, e.g. `pid:123`). */
export function podRefOf(externalId: string | null): PodRef | null {
  return parseExternalId(externalId);
}

export function readPodLog(api: KubeApi, pod: PodRef): Promise<string> {
  return api.call((c) => c.readNamespacedPodLog({ namespace: pod.namespace, name: pod.name, container: 'base' }));
}

/** Streams the base container's log into `out` until the container ends. */
export async function followPodLog(api: KubeApi, pod: PodRef, out: Writable): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    void new Log(api.kc).log(pod.namespace, pod.name, 'base', out, (err: unknown) => (err ? reject(err) : resolve()), { follow: true }).catch(reject);
  });
}

/** Writes the pod's log to the task log file unless the runner already wrote it there (shared storage). */
export async function keepPodLog(api: KubeApi, pod: PodRef, file: string): Promise<boolean> {
  if (existsSync(file)) return false;
  const text = await readPodLog(api, pod);
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text);
  return true;
}
