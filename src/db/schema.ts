// Table types for Kysely. Dates are ISO-8601 UTC strings (same text on SQLite and PostgreSQL, and they sort).
import type { Generated } from 'kysely';

export interface DagTable {
  dag_id: string;
  fileloc: string;
  serialized: string;
  hash: string;
  is_paused: number;
  is_active: number;
  last_parsed: string;
}

export interface ImportErrorTable {
  id: Generated<number>;
  fileloc: string;
  /** 'error' stops the DAG file from loading; 'warning' (e.g. deprecated executorConfig keys) does not. */
  kind: string;
  dag_id: string | null;
  task_id: string | null;
  line: number | null;
  message: string;
  timestamp: string;
}

export interface DagRunTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  run_type: string;
  logical_date: string;
  data_interval_start: string;
  data_interval_end: string;
  state: string;
  conf: string;
  queued_at: string;
  start_date: string | null;
  end_date: string | null;
  /** Set when something about the run changed and its tasks need another look. */
  last_scheduling_decision: string | null;
  /**
   * Set (to the time) when a user changed the run's task instances from outside the scheduler (clear, mark):
   * schedulers then read all of them again instead of only the unfinished ones (run-task-instances.ts).
   */
  tis_edited_at: string | null;
}

export interface TaskInstanceTable {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  state: string;
  try_number: number;
  max_tries: number;
  pool: string;
  pool_slots: number;
  queue: string;
  priority_weight: number;
  queued_at: string | null;
  start_date: string | null;
  end_date: string | null;
  next_retry_at: string | null;
  hostname: string | null;
  pid: number | null;
  /** The scheduler job that queued this try. */
  queued_by_job_id: number | null;
  /** This launch of the try (`<scheduler job>.<n>`), set when queued: a claim or report for another launch changes nothing. */
  launch_id: string | null;
  /** Executor's handle for the try: pod name/uid, queue job id, … */
  external_executor_id: string | null;
  last_heartbeat: string | null;
  /** Why the try ended as it did (failure reason, timeout, zombie, …). */
  reason: string | null;
  updated_at: string;
}

export interface TaskInstanceHistoryTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  state: string;
  start_date: string | null;
  end_date: string | null;
  hostname: string | null;
  external_executor_id: string | null;
  reason: string | null;
  recorded_at: string;
}

export interface TaskLaunchFailureTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  external_executor_id: string | null;
  reason: string;
  recorded_at: string;
}

/** One poke of a reschedule-mode sensor that did not find its condition (the try goes on at reschedule_date). */
export interface TaskRescheduleTable {
  id: Generated<number>;
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  start_date: string;
  end_date: string;
  reschedule_date: string;
}

export interface XComTable {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  key: string;
  value: string;
  timestamp: string;
}

export interface PoolTable {
  name: string;
  slots: number;
  description: string | null;
}

export interface JobTable {
  id: Generated<number>;
  job_type: string;
  hostname: string;
  pid: number;
  state: string;
  start_date: string;
  latest_heartbeat: string;
}

/** A warm worker pod (kubernetes.warmPods) and the launch it was handed, if any (src/db/warm-pods.ts). */
export interface WarmPodTable {
  pod_name: string;
  namespace: string;
  scheduler_id: string;
  spec_key: string;
  /** busy | idle | assigned | retired */
  state: string;
  tries_run: number;
  idle_since: string | null;
  assigned_dag_id: string | null;
  assigned_run_id: string | null;
  assigned_task_id: string | null;
  assigned_map_index: number | null;
  assigned_try_number: number | null;
  assigned_launch_id: string | null;
  updated_at: string;
}

/** The pod of a Kubernetes try, as it was created (one row per pod: a relaunched try has several). */
export interface TaskPodTable {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  namespace: string;
  pod_name: string;
  pod_uid: string | null;
  /** The V1Pod JSON as sent to the Kubernetes API. */
  spec: string;
  /** JSON array of the pod's Kubernetes events, as last seen. */
  events: string | null;
  /** Why the pod failed, as Kubernetes said it (ErrImagePull, OOMKilled, Unschedulable, pending timeout, …). */
  reason: string | null;
  created_at: string;
  updated_at: string;
}

/** A variable: key → JSON value (`val` holds its JSON text, encrypted when `is_encrypted`). */
export interface VariableTable {
  key: string;
  val: string;
  description: string | null;
  is_encrypted: number;
  created_at: string;
  updated_at: string;
}

/** A connection; `password` and `extra` (JSON text) are encrypted when their flag is set. */
export interface ConnectionTable {
  conn_id: string;
  conn_type: string;
  description: string | null;
  host: string | null;
  port: number | null;
  login: string | null;
  password: string | null;
  schema: string | null;
  extra: string | null;
  is_encrypted: number;
  is_extra_encrypted: number;
  created_at: string;
  updated_at: string;
}

export interface Database {
  dag: DagTable;
  import_error: ImportErrorTable;
  dag_run: DagRunTable;
  task_instance: TaskInstanceTable;
  task_instance_history: TaskInstanceHistoryTable;
  xcom: XComTable;
  task_launch_failure: TaskLaunchFailureTable;
  pool: PoolTable;
  job: JobTable;
  task_pod: TaskPodTable;
  task_reschedule: TaskRescheduleTable;
  warm_pod: WarmPodTable;
  variable: VariableTable;
  connection: ConnectionTable;
}

/** Every table Floe owns (for `floe db reset`), including the migrator's own. */
export const FLOE_TABLES = ['variable', 'connection', 'task_reschedule', 'warm_pod', 'task_pod', 'xcom', 'task_launch_failure', 'task_instance_history', 'task_instance', 'dag_run', 'import_error', 'dag', 'pool', 'job', 'floe_migration', 'floe_migration_lock'] as const;
