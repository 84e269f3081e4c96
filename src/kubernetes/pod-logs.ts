// Task logs of pods through the Kubernetes API: read (or follow) the base container's log, and keep a copy in
// the task log file before a pod is deleted.
import { closeSync, existsSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough, type Writable } from 'node:stream';
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
  // client-node 1.x pipes the response into a stream and calls no callback: end when that stream ends.
  const through = new PassThrough();
  through.pipe(out, { end: false });
  await new Promise<void>((resolve, reject) => {
    through.once('end', () => resolve());
    through.once('error', reject);
    void new Log(api.kc).log(pod.namespace, pod.name, 'base', through, { follow: true }).catch(reject);
  });
}

/**
 * Level word of the lines the executor itself writes into a task log (why a pod ended the try, its events).
 * They tell such a file apart from one the task runner wrote: only the latter makes the pod's log redundant.
 */
export const EXECUTOR_LOG_LEVEL = 'EXECUTOR';
const EXECUTOR_LINE = new RegExp(`^\\[[^\\]]*\\] ${EXECUTOR_LOG_LEVEL} `);

/** Appends executor lines (`[time] EXECUTOR text`) to a task log file, creating it if needed. */
export async function appendExecutorLines(file: string, lines: string[]): Promise<void> {
  const at = new Date().toISOString();
  await mkdir(path.dirname(file), { recursive: true });
  await appendFile(file, lines.map((l) => `[${at}] ${EXECUTOR_LOG_LEVEL} ${l}\n`).join(''));
}

/** True when some line of the file was not written by the executor, i.e. the task runner wrote the file. */
export function runnerWroteLog(file: string): boolean {
  if (!existsSync(file)) return false;
  const fd = openSync(file, 'r');
  try {
    // Executor lines are few and short: a runner's line shows up within the first chunks.
    const buf = Buffer.alloc(64 * 1024);
    let carry = '';
    for (let pos = 0; ; ) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) return carry !== '' && !EXECUTOR_LINE.test(carry);
      pos += n;
      const lines = (carry + buf.toString('utf8', 0, n)).split('\n');
      carry = lines.pop()!;
      if (lines.some((l) => l !== '' && !EXECUTOR_LINE.test(l))) return true;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * One try's part of a warm pod's log (a warm pod runs several tries, one after another): from the runner's
 * `starting try N of DAG.TASK run RUN` line up to the next try's start.
 */
export function tryLogSection(text: string, t: { key: { dagId: string; taskId: string; runId: string }; tryNumber: number }): string {
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.includes(` INFO starting try ${t.tryNumber} of ${t.key.dagId}.${t.key.taskId} run ${t.key.runId} `));
  if (start < 0) return '';
  let end = lines.findIndex((l, i) => i > start && / INFO starting try \d+ of /.test(l));
  if (end < 0) end = lines.length;
  const part = lines.slice(start, end).join('\n');
  return part.endsWith('\n') || end === lines.length ? part : `${part}\n`;
}

/**
 * Writes the pod's log (or, for a try of a warm pod, that try's part of it) to the task log file unless the
 * runner already wrote it there (shared storage). Lines the executor wrote (e.g. an earlier launch failure of
 * the same try) are kept, the pod's log after them.
 */
export async function keepPodLog(api: KubeApi, pod: PodRef, file: string, onlyTry?: Parameters<typeof tryLogSection>[1]): Promise<boolean> {
  if (runnerWroteLog(file)) return false;
  const all = await readPodLog(api, pod);
  const text = onlyTry ? tryLogSection(all, onlyTry) : all;
  mkdirSync(path.dirname(file), { recursive: true });
  writeFileSync(file, text, { flag: 'a' });
  return true;
}
