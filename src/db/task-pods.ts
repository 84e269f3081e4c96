// The pods of Kubernetes tries: the V1Pod as created, and what Kubernetes said about it (events, failure
// reason). Written by the Kubernetes executor, read by the API for the web UI's try view.
import type { Kysely, Transaction } from 'kysely';
import type { TIKey } from '../executors/types.ts';
import { nowIso } from '../util/time.ts';
import type { Database } from './schema.ts';
import { keyColumns } from './task-instances.ts';

type Q = Kysely<Database> | Transaction<Database>;

/** One Kubernetes event of a pod, as the UI shows it (a subset of CoreV1Event). */
export interface PodEvent {
  type: string | null;
  reason: string | null;
  message: string | null;
  count?: number | null;
  firstTimestamp?: string | null;
  lastTimestamp?: string | null;
  source?: string | null;
}

export interface TaskPodInput {
  key: TIKey;
  tryNumber: number;
  namespace: string;
  podName: string;
  podUid?: string | null;
  /** The V1Pod as created (any JSON object). */
  spec: unknown;
  events?: PodEvent[] | null;
  reason?: string | null;
}

export interface TaskPod {
  tryNumber: number;
  namespace: string;
  podName: string;
  podUid: string | null;
  spec: unknown;
  events: PodEvent[] | null;
  reason: string | null;
  createdAt: string;
  updatedAt: string;
}

function parseJson<T>(text: string | null, fallback: T): T {
  if (text === null) return fallback;
  try {
    return JSON.parse(text) as T;
  } catch {
    return fallback;
  }
}

/** Records a pod of a try as created; recording the same pod again replaces its spec and uid (a re-sent creation). */
export async function recordTaskPod(db: Q, row: TaskPodInput): Promise<void> {
  const now = nowIso();
  const spec = JSON.stringify(row.spec);
  const events = row.events ? JSON.stringify(row.events) : null;
  await db
    .insertInto('task_pod')
    .values({ ...keyColumns(row.key), try_number: row.tryNumber, namespace: row.namespace, pod_name: row.podName, pod_uid: row.podUid ?? null, spec, events, reason: row.reason ?? null, created_at: now, updated_at: now })
    .onConflict((oc) => oc.columns(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number', 'pod_name']).doUpdateSet({ spec, pod_uid: row.podUid ?? null, updated_at: now }))
    .execute();
}

/** Replaces a pod's events and failure reason (null keeps no reason). False when no such pod was recorded. */
export async function updateTaskPodEvents(db: Q, key: TIKey, tryNumber: number, podName: string, events: PodEvent[], reason: string | null): Promise<boolean> {
  const r = await db
    .updateTable('task_pod')
    .set({ events: JSON.stringify(events), reason, updated_at: nowIso() })
    .where((eb) => eb.and(keyColumns(key)))
    .where('try_number', '=', tryNumber)
    .where('pod_name', '=', podName)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

/** The pods of one try, oldest first (a try relaunched after a failed launch has several). */
export async function readTaskPods(db: Q, key: TIKey, tryNumber: number): Promise<TaskPod[]> {
  const rows = await db
    .selectFrom('task_pod')
    .selectAll()
    .where((eb) => eb.and(keyColumns(key)))
    .where('try_number', '=', tryNumber)
    .orderBy('created_at')
    .orderBy('pod_name')
    .execute();
  return rows.map((r) => ({
    tryNumber: r.try_number,
    namespace: r.namespace,
    podName: r.pod_name,
    podUid: r.pod_uid,
    spec: parseJson<unknown>(r.spec, null),
    events: parseJson<PodEvent[] | null>(r.events, null),
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  }));
}
