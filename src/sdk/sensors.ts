// Sensors: tasks that wait for a condition, checking it every pokeInterval until it holds or the timeout passes
// (Airflow's BaseSensorOperator, @task.sensor, FileSensor, ExternalTaskSensor). The waiting itself happens in the
// task runner (src/worker/sensors.ts); `mode: 'reschedule'` gives the slot back between pokes.
import { callSite, currentDag, type SensorSpecInput, type TaskRef } from './dag.ts';
import { type Arg } from './task.ts';
import { type Jsonified, SENSOR_OPTION_KEYS, type SensorOptions, type TaskContext, type TaskOptions } from './types.ts';

type Falsy = false | 0 | '' | null | undefined | void;

function splitSensor<T extends SensorOptions>(opts: T): { taskId: string; options: TaskOptions; sensor: SensorSpecInput; rest: Record<string, unknown> } {
  // Options that are not sensor settings are task options (or a built-in sensor's own fields).
  if (!opts || typeof opts !== 'object' || typeof opts.taskId !== 'string') throw new Error('a sensor needs options with a string taskId, like { taskId: "wait", timeout: 600 }');
  const { taskId, ...others } = opts as SensorOptions & Record<string, unknown>;
  const sensor: Record<string, unknown> = {};
  const rest: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(others)) {
    if ((SENSOR_OPTION_KEYS as readonly string[]).includes(k)) sensor[k] = v;
    else rest[k] = v;
  }
  return { taskId, options: rest as TaskOptions, sensor, rest };
}

/**
 * A sensor with your own condition: `fn` returns whether it holds. A truthy result ends the wait and is the
 * sensor's XCom (return the file name you found, the row count, or just true); a falsy one means "poke again".
 * Call the returned function inside a DAG, like a task() function, to add the sensor.
 */
export function sensor<A extends unknown[], R>(
  options: SensorOptions,
  fn: (ctx: TaskContext, ...args: A) => R,
): (...args: { [K in keyof A]: Arg<A[K]> }) => TaskRef<Jsonified<Exclude<Awaited<R>, Falsy>>> {
  const { taskId, options: taskOptions, sensor: spec } = splitSensor(options);
  return (...args) =>
    currentDag().addTask(taskId, taskOptions, { kind: 'function', fn: fn as (ctx: TaskContext, ...a: unknown[]) => unknown, args }, callSite(), true, {
      sensor: spec,
    }) as TaskRef<Jsonified<Exclude<Awaited<R>, Falsy>>>;
}

export interface FileSensorOptions extends SensorOptions {
  /**
   * The file or directory to wait for. A string is a template like a shell command (`/data/{{ ds }}/_SUCCESS`);
   * `*`, `?` and `[…]` in its last part match names (a glob). A function gets the context instead.
   */
  path: string | ((ctx: TaskContext) => string);
}

/** Waits until a file exists (Airflow's FileSensor). Its XCom is the path found. */
export function fileSensor(opts: FileSensorOptions): TaskRef<string> {
  const { taskId, sensor: spec, rest } = splitSensor(opts);
  const { path, ...taskOptions } = rest as unknown as { path: FileSensorOptions['path'] } & TaskOptions;
  const site = callSite();
  const dag = currentDag();
  const ref = dag.addTask(taskId, taskOptions, { kind: 'file_sensor', path }, site, false, { sensor: spec });
  if (typeof path !== 'string' && typeof path !== 'function') dag.problem(ref.taskId, `fileSensor path must be a string or a function of the context; got ${path === null ? 'null' : typeof path}`, site);
  else if (typeof path === 'string' && !path.trim()) dag.problem(ref.taskId, 'fileSensor path is empty', site);
  return ref as TaskRef<string>;
}

export interface ExternalTaskSensorOptions extends SensorOptions {
  /** The DAG to wait for. */
  externalDagId: string;
  /** The task of that DAG to wait for (all its mapped instances); without it, the whole DAG run. */
  externalTaskId?: string;
  /** States that end the wait (default ['success']). */
  allowedStates?: string[];
  /** States that fail the sensor at once (default none: it waits until its timeout, as in Airflow). */
  failedStates?: string[];
  /** Seconds: wait for the run whose logical date is this run's minus this (default 0, the same logical date). */
  executionDelta?: number;
}

/** Waits for a task (or a whole run) of another DAG at the same logical date (Airflow's ExternalTaskSensor). */
export function externalTaskSensor(opts: ExternalTaskSensorOptions): TaskRef<boolean> {
  const { taskId, sensor: spec, rest } = splitSensor(opts);
  const { externalDagId, externalTaskId, allowedStates, failedStates, executionDelta, ...taskOptions } = rest as unknown as Omit<ExternalTaskSensorOptions, keyof SensorOptions> & TaskOptions;
  const site = callSite();
  const dag = currentDag();
  const ref = dag.addTask(
    taskId,
    taskOptions,
    {
      kind: 'external_task_sensor',
      externalDagId,
      externalTaskId: externalTaskId ?? null,
      allowedStates: allowedStates ?? ['success'],
      failedStates: failedStates ?? [],
      executionDelta: executionDelta ?? 0,
    },
    site,
    false,
    { sensor: spec },
  );
  const problem = (m: string) => dag.problem(ref.taskId, m, site);
  if (typeof externalDagId !== 'string' || !externalDagId) problem('externalTaskSensor needs externalDagId, the DAG to wait for');
  if (externalTaskId !== undefined && (typeof externalTaskId !== 'string' || !externalTaskId)) problem('externalTaskSensor externalTaskId must be a task id');
  if (executionDelta !== undefined && !(typeof executionDelta === 'number' && Number.isFinite(executionDelta)))
    problem(`externalTaskSensor executionDelta must be a number of seconds; got ${JSON.stringify(executionDelta)}`);
  const states = externalTaskId ? TASK_STATES : RUN_STATES;
  for (const [name, list] of [['allowedStates', allowedStates], ['failedStates', failedStates]] as const) {
    if (list === undefined) continue;
    if (!Array.isArray(list) || list.some((s) => !states.includes(s)))
      problem(`externalTaskSensor ${name} must list ${externalTaskId ? 'task' : 'DAG run'} states (${states.join(', ')}); got ${JSON.stringify(list)}`);
  }
  if (dag.dagId === externalDagId && externalTaskId === undefined) problem('externalTaskSensor cannot wait for its own DAG run');
  return ref as TaskRef<boolean>;
}

const TASK_STATES = ['success', 'failed', 'skipped', 'upstream_failed', 'removed', 'running', 'queued', 'scheduled', 'up_for_retry', 'up_for_reschedule', 'none'];
const RUN_STATES = ['success', 'failed', 'running', 'queued'];
