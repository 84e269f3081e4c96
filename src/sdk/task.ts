// task() and shell(): declare tasks. A declared task is a factory; calling it inside dag() adds the task.
import { callSite, currentDag, type TaskRef } from './dag.ts';
import { declareMapped } from './mapping.ts';
import type { Jsonified, TaskContext, TaskOptions } from './types.ts';

/** An argument may be a plain value or another task's result. */
/** Arrays may mix plain values and task results: `load([a(), b()])` waits for both. */
export type Arg<T> = T | TaskRef<T> | (T extends (infer U)[] ? Arg<U>[] : never);
export type TaskSpec = string | (TaskOptions & { taskId: string });

/** A list to map over: another task's result (a list at run time) or a literal list (whose items may be results). */
export type ListArg<T> = TaskRef<T[]> | TaskRef<readonly T[]> | readonly Arg<T>[];

/** The single object parameter of a task function (`(ctx, { x, y }: {…})`), or never. */
type ObjectParam<A extends unknown[]> = A extends [infer O] ? (O extends readonly unknown[] ? never : O extends object ? O : never) : never;
/** `.expand({ field: list })`: typed by the object parameter; by parameter name (unchecked) otherwise. */
export type ExpandFields<A extends unknown[]> = [ObjectParam<A>] extends [never]
  ? Record<string, ListArg<unknown>>
  : { [K in keyof ObjectParam<A>]?: ListArg<ObjectParam<A>[K]> };
/** `.partial({ field: value })`: constant arguments, typed like ExpandFields. */
export type PartialFields<A extends unknown[]> = [ObjectParam<A>] extends [never]
  ? Record<string, unknown>
  : { [K in keyof ObjectParam<A>]?: Arg<ObjectParam<A>[K]> };

/** A task mapped over a list: downstream tasks receive the list of its instances' results, in map-index order. */
export type MappedRef<R> = TaskRef<Jsonified<Awaited<R>>[]>;

/** `fn.partial({...})`: constant arguments waiting for `.expand(…)`. */
export interface PartialTask<A extends unknown[], R> {
  /** Maps over a list: each element is merged into the constants (an object), or fills the first unbound parameter. */
  expand(items: ListArg<unknown>): MappedRef<R>;
  /** Maps over each field's list; several fields combine as a cross product. */
  expand(fields: ExpandFields<A>): MappedRef<R>;
}

/** What task() returns: call it to add the task, or `.expand(…)` / `.partial(…).expand(…)` to map it. */
export interface TaskFunction<A extends unknown[], R> {
  (...args: { [K in keyof A]: Arg<A[K]> }): TaskRef<Jsonified<Awaited<R>>>;
  /** Dynamic task mapping: one task instance per element of the list, created at run time. */
  expand(items: ListArg<A[0]>): MappedRef<R>;
  /** Maps over each field's list (a cross product of several fields); fields are parameters or the object argument's. */
  expand(fields: ExpandFields<A>): MappedRef<R>;
  /** Constant arguments for every mapped instance: `fn.partial({ y: 10 }).expand({ x: list })`. */
  partial(fields: PartialFields<A>): PartialTask<A, R>;
}

export function split<T extends { taskId: string }>(spec: string | T): { taskId: string; options: Omit<T, 'taskId'> } {
  if (typeof spec === 'string') return { taskId: spec, options: {} as Omit<T, 'taskId'> };
  const { taskId, ...options } = spec;
  return { taskId, options };
}

/**
 * A TaskFlow task. `fn` receives the task context first, then the arguments the task was called with; a
 * TaskRef argument becomes an upstream dependency and is replaced by that task's XCom at run time.
 * The return value (JSON-serializable) is this task's XCom `return_value`; the TaskRef's type is that value
 * as downstream tasks receive it, after JSON (`Jsonified`: a returned `Date` arrives as a `string`).
 */
export function task<A extends unknown[], R>(spec: TaskSpec, fn: (ctx: TaskContext, ...args: A) => R): TaskFunction<A, R> {
  const { taskId, options } = split(spec);
  const body = fn as (ctx: TaskContext, ...a: unknown[]) => unknown;
  const call = (...args: unknown[]) => currentDag().addTask(taskId, options, { kind: 'function', fn: body, args }, callSite());
  const expand = (partial: unknown) => (spec: unknown) => declareMapped(taskId, options, body, partial, spec, callSite());
  return Object.assign(call, {
    expand: expand({}),
    partial: (fields: unknown) => ({ expand: expand(fields) }),
  }) as unknown as TaskFunction<A, R>;
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
