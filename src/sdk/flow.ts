// branch() and shortCircuit(): TaskFlow tasks whose result decides which downstream tasks run (Airflow's
// @task.branch and @task.short_circuit). The task runner records the decision; the scheduler skips the tasks
// not followed, and the skips propagate by trigger rules.
import { callSite, currentDag, type TaskRef } from './dag.ts';
import { type Arg, split } from './task.ts';
import type { Jsonified, TaskContext, TaskOptions } from './types.ts';

/** What a branch function returns: the id(s) of the downstream task(s) to follow; null or [] follows none. */
export type BranchResult = string | readonly string[] | null | undefined | void;

/**
 * A branch task: `fn` returns the id (or ids) of the task(s) downstream of it to follow; the other tasks directly
 * downstream are skipped (tasks downstream of a followed task are kept), and skips propagate by trigger rules:
 * give a join after the branches `triggerRule: 'none_failed_min_one_success'`. An id that is not downstream of the
 * branch fails the try, naming it.
 */
export function branch<A extends unknown[], R extends BranchResult | Promise<BranchResult>>(
  spec: string | (TaskOptions & { taskId: string }),
  fn: (ctx: TaskContext, ...args: A) => R,
): (...args: { [K in keyof A]: Arg<A[K]> }) => TaskRef<Jsonified<Awaited<R>>> {
  const { taskId, options } = split(spec);
  return (...args) =>
    currentDag().addTask(taskId, options, { kind: 'function', fn: fn as (ctx: TaskContext, ...a: unknown[]) => unknown, args }, callSite(), true, {
      flow: { kind: 'branch' },
    }) as TaskRef<Jsonified<Awaited<R>>>;
}

export interface ShortCircuitOptions extends TaskOptions {
  taskId: string;
  /**
   * true (default, as Airflow): a falsy result skips every task downstream, whatever its trigger rule. false: only
   * the tasks directly downstream are skipped, and trigger rules decide the rest (an all_done task still runs).
   */
  ignoreDownstreamTriggerRules?: boolean;
}

/**
 * A short-circuit task: when `fn` returns a falsy value (false, 0, '', null, undefined — JavaScript's falsy), the
 * tasks downstream are skipped; a truthy value lets them run. The value is the task's XCom as usual.
 */
export function shortCircuit<A extends unknown[], R>(
  spec: string | ShortCircuitOptions,
  fn: (ctx: TaskContext, ...args: A) => R,
): (...args: { [K in keyof A]: Arg<A[K]> }) => TaskRef<Jsonified<Awaited<R>>> {
  const { taskId, options } = split(spec);
  const { ignoreDownstreamTriggerRules, ...taskOptions } = options as Omit<ShortCircuitOptions, 'taskId'>;
  return (...args) =>
    currentDag().addTask(taskId, taskOptions, { kind: 'function', fn: fn as (ctx: TaskContext, ...a: unknown[]) => unknown, args }, callSite(), true, {
      flow: { kind: 'short_circuit', ignoreDownstreamTriggerRules: ignoreDownstreamTriggerRules ?? true },
    }) as TaskRef<Jsonified<Awaited<R>>>;
}
