// task() and shell(): declare tasks. A declared task is a factory; calling it inside dag() adds the task.
import { callSite, currentDag, type TaskRef } from './dag.ts';
import type { Jsonified, TaskContext, TaskOptions } from './types.ts';

/** An argument may be a plain value or another task's result. */
/** Arrays may mix plain values and task results: `load([a(), b()])` waits for both. */
export type Arg<T> = T | TaskRef<T> | (T extends (infer U)[] ? Arg<U>[] : never);
export type TaskSpec = string | (TaskOptions & { taskId: string });

function split(spec: TaskSpec): { taskId: string; options: TaskOptions } {
  if (typeof spec === 'string') return { taskId: spec, options: {} };
  const { taskId, ...options } = spec;
  return { taskId, options };
}

/**
 * A TaskFlow task. `fn` receives the task context first, then the arguments the task was called with; a
 * TaskRef argument becomes an upstream dependency and is replaced by that task's XCom at run time.
 * The return value (JSON-serializable) is this task's XCom `return_value`; the TaskRef's type is that value
 * as downstream tasks receive it, after JSON (`Jsonified`: a returned `Date` arrives as a `string`).
 */
export function task<A extends unknown[], R>(
  spec: TaskSpec,
  fn: (ctx: TaskContext, ...args: A) => R,
): (...args: { [K in keyof A]: Arg<A[K]> }) => TaskRef<Jsonified<Awaited<R>>> {
  const { taskId, options } = split(spec);
  return (...args) =>
    currentDag().addTask(
      taskId,
      options,
      { kind: 'function', fn: fn as (ctx: TaskContext, ...a: unknown[]) => unknown, args },
      callSite(),
    ) as TaskRef<Jsonified<Awaited<R>>>;
}

export interface ShellOptions extends TaskOptions {
  taskId: string;
  /**
   * The command, run with `sh -c`. Strings are templates: `{{ ds }}`, `{{ ts }}`, `{{ run_id }}`,
   * `{{ logical_date }}`, `{{ data_interval_start }}`, `{{ data_interval_end }}`, `{{ params.NAME }}`,
   * `{{ try_number }}`, `{{ dag_id }}`, `{{ task_id }}`. A function gets the context instead.
   */
  command: string | ((ctx: TaskContext) => string);
  /** Extra environment variables; values are templates like `command`. */
  env?: Record<string, string>;
  cwd?: string;
}

/** A shell-command task (the BashOperator equivalent). Its XCom is the last line of standard output. */
export function shell(opts: ShellOptions): TaskRef<string> {
  const { taskId, command, env, cwd, ...options } = opts;
  return currentDag().addTask(taskId, options, { kind: 'shell', command, env: env ?? {}, cwd }, callSite(), false) as TaskRef<string>;
}
