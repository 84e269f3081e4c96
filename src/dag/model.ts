// The serialized DAG: what the DAG processor stores in the DB and the scheduler reads.
// Plain JSON, no functions: the task callables stay in the DAG file and are run by the task runner.
import type { PodTaskSpec } from '../sdk/pod-task.ts';
import type { ExecutorConfig, JsonObject, SensorMode, TriggerRule } from '../sdk/types.ts';
import type { SerializedMapping } from './mapping.ts';

export type TaskKind = 'function' | 'shell' | 'pod' | 'file_sensor' | 'external_task_sensor';

/** A sensor's settings, validated (see SensorOptions). */
export interface SerializedSensor {
  mode: SensorMode;
  pokeInterval: number;
  /** Seconds from the try's first poke; null: bounded only by the DAG's dagRunTimeout. */
  timeout: number | null;
  softFail: boolean;
  exponentialBackoff: boolean;
  maxWait: number | null;
}

/** A task whose result decides which downstream tasks run. */
export type SerializedFlow = { kind: 'branch' } | { kind: 'short_circuit'; ignoreDownstreamTriggerRules: boolean };

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
  /** Dynamic task mapping: what the task is mapped over (absent: an ordinary task). */
  mapped?: SerializedMapping;
  /** A branch or short-circuit task (absent: neither). */
  flow?: SerializedFlow;
  /** A sensor (absent: not a sensor). */
  sensor?: SerializedSensor;
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
  /** Seconds a run may take before it fails (absent or null: no limit). */
  dagRunTimeout?: number | null;
  tasks: SerializedTask[];
}

/**
 * The XCom key under which a branch or short-circuit task records the task ids directly downstream of it that it
 * follows (`{ "followed": [...] }`), as Airflow's SkipMixin does; the scheduler skips the others.
 */
export const FOLLOW_XCOM_KEY = 'skipmixin_key';
