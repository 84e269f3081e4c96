// Types DAG authors see. This module imports nothing of Floe's runtime so DAG files load fast.
import type { TaskSecrets } from './secrets-types.ts';

export const TRIGGER_RULES = [
  'all_success',
  'all_failed',
  'all_done',
  'one_success',
  'one_failed',
  'none_failed',
  'none_skipped',
  'always',
  /** After a branch: no upstream failed and at least one succeeded (skipped branches do not block). */
  'none_failed_min_one_success',
  /** Airflow 2's deprecated name of none_failed_min_one_success. */
  'none_failed_or_skipped',
] as const;
export type TriggerRule = (typeof TRIGGER_RULES)[number];

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

type Dropped = undefined | symbol | ((...args: never[]) => unknown);
/** An array item after JSON: what objects drop becomes `null` (distributes over a union). */
type JsonifiedItem<U> = U extends Dropped ? null : Jsonified<U>;

/**
 * What a value of type `T` becomes after a JSON round trip, which is how a task's return value (its XCom)
 * reaches the tasks downstream: a `Date` (any object with `toJSON`) becomes what `toJSON` returns — an ISO
 * string —, functions, symbols and `undefined` vanish from objects and become `null` in arrays, class
 * instances keep their data properties only, a `Map` or `Set` becomes `{}`. `any` and `unknown` stay as they
 * are. (Numbers stay `number`, although `NaN` and `Infinity` arrive as `null`.)
 */
export type Jsonified<T> = unknown extends T
  ? T
  : T extends JsonValue
    ? T // already what JSON gives back (also keeps recursive JSON types from recursing without end)
    : T extends { toJSON(...args: never[]): infer J }
      ? Jsonified<J>
      : T extends void | Dropped
        ? undefined
        : T extends ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
          ? Record<string, never>
          : T extends readonly unknown[]
            ? { -readonly [K in keyof T]: JsonifiedItem<T[K]> }
            : T extends object
              ? { -readonly [K in keyof T as K extends symbol ? never : T[K] extends Dropped ? never : K]: Jsonified<T[K]> }
              : never;

/**
 * Per-task executor settings. Carried through the DAG untouched; executors that understand a key use it.
 * `podOverride` may be a plain object or a `V1Pod` from `@kubernetes/client-node` (camelCase fields).
 */
export interface ExecutorConfig {
  /** A full V1Pod merged onto the pod template by Floe's documented rules (docs/kubernetes.md). */
  podOverride?: object;
  /** Alias of podOverride (Airflow spelling). */
  pod_override?: object;
  /** Name of a pod template from `kubernetes.podTemplates`. */
  podTemplate?: string;
  /** Path of a pod template YAML file. */
  podTemplateFile?: string;
  /** Airflow 1.10 style settings, converted to a podOverride with a deprecation warning. */
  KubernetesExecutor?: Record<string, unknown>;
  [key: string]: unknown;
}

/** executorConfig keys that only mean something when the try runs in a Kubernetes pod. */
export const POD_SETTING_KEYS = ['podOverride', 'pod_override', 'podTemplate', 'podTemplateFile', 'KubernetesExecutor'] as const;

/** Options every task accepts; DAG-level `defaultArgs` supply defaults for all of them. */
export interface TaskOptions {
  retries?: number;
  /** Seconds before a retry (default 300). */
  retryDelay?: number;
  retryExponentialBackoff?: boolean;
  /** Upper bound in seconds for exponential backoff. */
  maxRetryDelay?: number;
  /** Seconds a try may run before it is failed. */
  executionTimeout?: number;
  triggerRule?: TriggerRule;
  pool?: string;
  poolSlots?: number;
  queue?: string;
  executorConfig?: ExecutorConfig;
  doc?: string;
}

export interface DataInterval {
  start: Date;
  end: Date;
}

/** What a running task receives. */
export interface TaskContext extends TaskSecrets {
  dagId: string;
  taskId: string;
  runId: string;
  tryNumber: number;
  mapIndex: number;
  logicalDate: Date;
  dataIntervalStart: Date;
  dataIntervalEnd: Date;
  /** DAG params merged with the run's `conf`. */
  params: Record<string, unknown>;
  ti: {
    xcomPull<T = unknown>(taskId: string, key?: string): Promise<T | undefined>;
    xcomPush(key: string, value: unknown): Promise<void>;
  };
  log: (...args: unknown[]) => void;
  /** Aborted when the try is cancelled or times out. */
  signal: AbortSignal;
}

/** How a sensor waits between pokes: in its slot (`poke`) or by giving the slot back (`reschedule`). */
export type SensorMode = 'poke' | 'reschedule';

/** Options of a sensor, besides the usual task options. */
export interface SensorOptions extends TaskOptions {
  taskId: string;
  /** Seconds between pokes (default 60). */
  pokeInterval?: number;
  /**
   * Seconds, counted from the try's first poke, after which a sensor whose condition still does not hold fails
   * (without retries), or is skipped with `softFail`. Required unless the DAG sets `dagRunTimeout`.
   */
  timeout?: number;
  /**
   * `poke` (default): the try keeps its slot and sleeps between pokes. `reschedule`: each poke is a short run of
   * the try; between pokes the task instance is `up_for_reschedule` and holds no executor slot, pool slot or pod.
   */
  mode?: SensorMode;
  /** Skip the sensor (instead of failing it) when it times out. */
  softFail?: boolean;
  /** Double the wait after each unsuccessful poke (pokeInterval, 2×, 4×, …), up to `maxWait`. */
  exponentialBackoff?: boolean;
  /** Longest wait between pokes in seconds, with exponentialBackoff. */
  maxWait?: number;
}

/** The keys of SensorOptions that are not task options. */
export const SENSOR_OPTION_KEYS = ['pokeInterval', 'timeout', 'mode', 'softFail', 'exponentialBackoff', 'maxWait'] as const;
