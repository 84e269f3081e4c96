// Declaring a mapped task: `fn.expand(list)`, `fn.expand({ field: list, … })`, `fn.partial({ … }).expand(…)`.
// Nothing is expanded here: the DAG records what is mapped over, and the scheduler creates one task instance
// per element when the inputs are known (at run time). Misuse found here is an import error naming the task.
import { callerLocation, currentDag, isTaskRef, type MapSpec, type TaskRef } from './dag.ts';
import { parameterNames } from './params.ts';
import type { TaskContext, TaskOptions } from './types.ts';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !isTaskRef(v) && Object.getPrototypeOf(v) === Object.prototype;

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'undefined';
  if (isTaskRef(v)) return `the result of task ${v.taskId}`;
  return Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v} (${String(v).slice(0, 40)})`;
}

/** Adds a mapped task to the DAG being defined; problems are recorded as import errors of the DAG. */
export function declareMapped(
  taskId: string,
  options: TaskOptions,
  fn: (ctx: TaskContext, ...args: unknown[]) => unknown,
  partial: unknown,
  spec: unknown,
  site: Error,
): TaskRef {
  const dag = currentDag();
  const problems: string[] = [];
  if (!isPlainObject(partial)) {
    problems.push(`.partial() takes an object of constant arguments, like .partial({ y: 1 }); got ${describe(partial)}`);
    partial = {};
  }
  const constants = partial as Record<string, unknown>;
  let inputs: MapSpec['inputs'] = [];
  if (isTaskRef(spec) || Array.isArray(spec)) inputs = [{ name: null, source: spec }];
  else if (isPlainObject(spec)) {
    inputs = Object.entries(spec).map(([name, source]) => ({ name, source }));
    if (!inputs.length) problems.push('.expand({}) names no field to map over');
    for (const i of inputs)
      if (!isTaskRef(i.source) && !Array.isArray(i.source))
        problems.push(`.expand() field "${i.name}" must be a list or another task's result (a list at run time); got ${describe(i.source)}`);
      else if (i.name! in constants) problems.push(`field "${i.name}" is given both to .partial() and to .expand()`);
  } else
    problems.push(`.expand() needs a list, another task's result (a list at run time), or { field: list, … }; got ${describe(spec)}`);

  // How fields reach the function: by parameter name when every field names one, else as its one object argument.
  const all = parameterNames(fn as (...a: never[]) => unknown);
  const params = all ? all.slice(1) : [];
  const fields = [...Object.keys(constants), ...inputs.flatMap((i) => (i.name ? [i.name] : []))];
  let binding: MapSpec['binding'] = 'positional';
  if (fields.length) {
    if (all && fields.every((f) => params.includes(f))) binding = 'params';
    else if (!all || params.length <= 1) binding = 'object';
    else {
      const unknown = fields.filter((f) => !params.includes(f));
      problems.push(
        `${unknown.map((f) => `"${f}"`).join(', ')} ${unknown.length > 1 ? 'name no parameters' : 'names no parameter'} of its function (its parameters after ctx: ${params.map((p) => p ?? '{…}').join(', ') || 'none'})`,
      );
    }
  }
  if (binding === 'params' && inputs.some((i) => i.name === null)) {
    const free = params.findIndex((p) => p !== null && !fields.includes(p));
    if (free < 0) problems.push('.expand(list) has no parameter left to fill: .partial() binds every parameter of the function');
  }
  const ref = dag.addTask(taskId, options, { kind: 'function', fn, args: [], map: { binding, params, partial: constants, inputs } }, site);
  for (const p of problems) dag.problems.push({ message: `task ${ref.taskId}: ${p}`, at: callerLocation(site) });
  return ref;
}
