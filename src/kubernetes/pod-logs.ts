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

/** `namespace/name/uid` (the executor's external id of a try) → the pod. */
export function podRefOf(externalId: string | null): PodRef | null {
  const m = externalId ? /^([^/]+)\/([^/]+)\/([^/]+)$/.exec(externalId) : null;
  return m ? { namespace: m[1], name: m[2] } : null;
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
