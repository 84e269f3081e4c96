// The serialized DAG: what the DAG processor stores in the DB and the scheduler reads.
// Plain JSON, no functions: the task callables stay in the DAG file and are run by the task runner.
import type { PodTaskSpec } from '../sdk/pod-task.ts';
import type { ExecutorConfig, JsonObject, TriggerRule } from '../sdk/types.ts';

export type TaskKind = 'function' | 'shell' | 'pod';

export interface SerializedTask {
  taskId: string;
  kind: TaskKind;
  /** Direct upstream task ids. */
  upstream: string[];
  retries: number;
  retryDelay: number;
  retryExponentialBackoff: boolean;
  maxRetryDelay: number | null;
  executionTimeout: number | null;
  triggerRule: TriggerRule;
  pool: string;
  poolSlots: number;
  queue: string;
  /** JSON form of the task's executorConfig (a V1Pod podOverride becomes its camelCase JSON). */
  executorConfig: ExecutorConfig | null;
  doc: string | null;
  /** A pod task's pod (podTask): what the pod pipeline builds its pod from, TaskRefs as `{ xcom }` markers. */
  pod?: PodTaskSpec;
}

export interface SerializedDag {
  dagId: string;
  fileloc: string;
  /** cron expression, preset ("@daily"), `{ every: seconds }`, or null (manual only). */
  schedule: string | { every: number } | null;
  timezone: string;
  startDate: string | null;
  endDate: string | null;
  catchup: boolean;
  maxActiveRuns: number;
  maxActiveTasks: number;
  params: JsonObject;
  tags: string[];
  description: string | null;
  tasks: SerializedTask[];
}
