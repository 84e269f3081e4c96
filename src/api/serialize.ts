// Rows → the API's camelCase JSON.
import type { DagRecord, ImportErrorRow } from '../core-queries/dags.ts';
import type { PoolUsage } from '../core-queries/pools.ts';
import type { DagRunRow } from '../core-queries/runs.ts';
import type { TryHistoryRow } from '../core-queries/task-instances.ts';
import type { PoolTable, TaskInstanceTable } from '../db/schema.ts';
import { parseExternalId } from '../kubernetes/pod-logs.ts';

export function dagJson(r: DagRecord) {
  const d = r.dag;
  return {
    dagId: r.dagId,
    description: d.description,
    fileloc: r.fileloc,
    isPaused: r.isPaused,
    isActive: r.isActive,
    hasImportErrors: r.hasImportErrors,
    lastParsed: r.lastParsed,
    schedule: d.schedule,
    timezone: d.timezone,
    startDate: d.startDate,
    endDate: d.endDate,
    catchup: d.catchup,
    maxActiveRuns: d.maxActiveRuns,
    maxActiveTasks: d.maxActiveTasks,
    tags: d.tags,
    taskCount: d.tasks.length,
  };
}

export function dagDetailJson(r: DagRecord) {
  const downstream = new Map<string, string[]>();
  for (const t of r.dag.tasks) for (const u of t.upstream) downstream.set(u, [...(downstream.get(u) ?? []), t.taskId]);
  return {
    ...dagJson(r),
    params: r.dag.params,
    tasks: r.dag.tasks.map((t) => ({ ...t, downstream: downstream.get(t.taskId) ?? [] })),
  };
}

function parseConf(conf: string): unknown {
  try {
    return JSON.parse(conf);
  } catch {
    return {};
  }
}

export function dagRunJson(r: DagRunRow) {
  return {
    dagId: r.dag_id,
    runId: r.run_id,
    runType: r.run_type,
    state: r.state,
    logicalDate: r.logical_date,
    dataIntervalStart: r.data_interval_start,
    dataIntervalEnd: r.data_interval_end,
    queuedAt: r.queued_at,
    startDate: r.start_date,
    endDate: r.end_date,
    conf: parseConf(r.conf),
  };
}

/** The pod of a Kubernetes executor's external id (`namespace/name/uid`), null for other executors. */
export function podJson(externalId: string | null) {
  const p = parseExternalId(externalId);
  return p ? { namespace: p.namespace, name: p.name, uid: p.uid } : null;
}

export function taskInstanceJson(r: TaskInstanceTable) {
  return {
    dagId: r.dag_id,
    runId: r.run_id,
    taskId: r.task_id,
    mapIndex: r.map_index,
    state: r.state,
    tryNumber: r.try_number,
    maxTries: r.max_tries,
    pool: r.pool,
    poolSlots: r.pool_slots,
    queue: r.queue,
    priorityWeight: r.priority_weight,
    queuedAt: r.queued_at,
    startDate: r.start_date,
    endDate: r.end_date,
    nextRetryAt: r.next_retry_at,
    hostname: r.hostname,
    pid: r.pid,
    externalExecutorId: r.external_executor_id,
    pod: podJson(r.external_executor_id),
    lastHeartbeat: r.last_heartbeat,
    reason: r.reason,
    updatedAt: r.updated_at,
  };
}

export function tryJson(r: TryHistoryRow) {
  return {
    tryNumber: r.try_number,
    state: r.state,
    startDate: r.start_date,
    endDate: r.end_date,
    hostname: r.hostname,
    externalExecutorId: r.external_executor_id,
    pod: podJson(r.external_executor_id),
    reason: r.reason,
  };
}

export function poolJson(p: PoolTable, u: PoolUsage | undefined) {
  const queued = u?.queued ?? 0;
  const running = u?.running ?? 0;
  return {
    name: p.name,
    slots: p.slots,
    description: p.description,
    occupiedSlots: queued + running,
    queuedSlots: queued,
    runningSlots: running,
    openSlots: Math.max(0, p.slots - queued - running),
  };
}

export function importErrorJson(e: ImportErrorRow) {
  return { id: e.id, kind: e.kind, fileloc: e.fileloc, line: e.line, dagId: e.dag_id, taskId: e.task_id, message: e.message, timestamp: e.timestamp };
}
