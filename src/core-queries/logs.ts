// Where a try's log is: the task log file, or (while the file is missing, e.g. the try still runs in a pod) the
// pod's log through the Kubernetes API. Shared by `floe tasks logs` and the API.
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { getTI } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';
import { type PodRef, podRefOf, runnerWroteLog } from '../kubernetes/pod-logs.ts';
import { taskLogPath } from '../worker/task-log.ts';
import { notFound } from './errors.ts';

export type TaskLogSource = { kind: 'file'; tryNumber: number; file: string } | { kind: 'pod'; tryNumber: number; file: string; pod: PodRef };

/** Try numbers that have a log file. */
export function triesWithLogFiles(logsFolder: string, key: TIKey): number[] {
  const dir = path.dirname(taskLogPath(logsFolder, key, 1));
  return existsSync(dir) ? readdirSync(dir).map((f) => /^attempt=(\d+)\.log$/.exec(f)?.[1]).filter(Boolean).map(Number) : [];
}

/**
 * The log of `tryNumber` (default: the task instance's current try, or the highest try with a log file). The pod
 * is chosen when the try ran in a pod and its file is missing (or `preferPod`, to follow a running pod): the
 * current try's pod from the task instance, an earlier try's from its history row.
 */
export async function locateTaskLog(db: Kysely<Database>, logsFolder: string, key: TIKey, tryNumber: number | null, opts: { preferPod?: boolean } = {}): Promise<TaskLogSource> {
  const ti = await getTI(db, key);
  const what = `${key.dagId}.${key.taskId}${key.mapIndex >= 0 ? `[${key.mapIndex}]` : ''} run ${key.runId}`;
  const tryN = tryNumber ?? Math.max(ti?.try_number ?? 0, ...triesWithLogFiles(logsFolder, key));
  const file = taskLogPath(logsFolder, key, tryN);
  const fileExists = tryN > 0 && existsSync(file);
  let pod: PodRef | null = null;
  if (ti && ti.try_number === tryN) pod = podRefOf(ti.external_executor_id);
  else if (tryN > 0 && !fileExists) {
    const past = await db
      .selectFrom('task_instance_history')
      .select('external_executor_id')
      .where((eb) => eb.and({ dag_id: key.dagId, run_id: key.runId, task_id: key.taskId, map_index: key.mapIndex, try_number: tryN }))
      .executeTakeFirst();
    pod = podRefOf(past?.external_executor_id ?? null);
  }
  // A try relaunched after a failed launch has a file holding only the executor's lines about that launch:
  // while the new pod runs, its log is the one to show (clusters without shared log storage).
  const relaunched = fileExists && pod !== null && ti?.try_number === tryN && (ti.state === 'queued' || ti.state === 'running') && !runnerWroteLog(file);
  if (pod && (opts.preferPod || !fileExists || relaunched)) return { kind: 'pod', tryNumber: tryN, file, pod };
  if (!fileExists) {
    const dir = path.dirname(file);
    throw notFound(
      `no log for ${what}${tryN ? ` try ${tryN}: ${file} does not exist` : ` in ${dir}`}`,
      !ti && !tryN ? `no task instance ${what}` : tryN && ti && tryN > ti.try_number ? `no log for ${what} try ${tryN}: the task instance is at try ${ti.try_number}` : `no log for ${what}${tryN ? ` try ${tryN}` : ''}`,
    );
  }
  return { kind: 'file', tryNumber: tryN, file };
}
