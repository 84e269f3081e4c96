// The task runner's side of dynamic task mapping: the arguments of one mapped instance, and reading a task's
// result when that task is mapped (the list of its instances' results, in map-index order).
import type { Kysely } from 'kysely';
import { describeValue, mapCount, positionsOf } from '../dag/mapping.ts';
import type { SerializedDag } from '../dag/model.ts';
import type { Database } from '../db/schema.ts';
import { pullXcom } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';
import { isTaskRef, type TaskBody } from '../sdk/dag.ts';

export type Pull = (taskId: string, key: string) => Promise<unknown>;

/** Replaces TaskRefs anywhere in the arguments by the XCom values they stand for. */
export async function resolveArgs(value: unknown, pull: Pull): Promise<unknown> {
  if (isTaskRef(value)) return pull(value.taskId, value.key);
  if (Array.isArray(value)) return Promise.all(value.map((v) => resolveArgs(v, pull)));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = await resolveArgs(v, pull);
    return out;
  }
  return value;
}

const mappedTasks = new WeakMap<SerializedDag, Set<string>>();
const isMapped = (dag: SerializedDag, taskId: string): boolean => {
  let s = mappedTasks.get(dag);
  if (!s) mappedTasks.set(dag, (s = new Set(dag.tasks.filter((t) => t.mapped).map((t) => t.taskId))));
  return s.has(taskId);
};

/**
 * A task's XCom as a downstream task sees it: for a mapped task, the list of its instances' values in map-index
 * order, `null` where an instance has none (it returned nothing, failed or was skipped); an empty list when it was
 * mapped over an empty list. For other tasks, the value itself.
 */
export async function pullTaskOutput(db: Kysely<Database>, dag: SerializedDag, runId: string, taskId: string, key = 'return_value'): Promise<unknown> {
  if (!isMapped(dag, taskId)) return pullXcom(db, dag.dagId, runId, taskId, key);
  const rows = await db
    .selectFrom('task_instance as ti')
    .leftJoin('xcom as x', (j) =>
      j.onRef('x.dag_id', '=', 'ti.dag_id').onRef('x.run_id', '=', 'ti.run_id').onRef('x.task_id', '=', 'ti.task_id').onRef('x.map_index', '=', 'ti.map_index').on('x.key', '=', key),
    )
    .select(['ti.map_index', 'x.value'])
    .where('ti.dag_id', '=', dag.dagId)
    .where('ti.run_id', '=', runId)
    .where('ti.task_id', '=', taskId)
    .where('ti.map_index', '>=', 0)
    .orderBy('ti.map_index')
    .execute();
  return rows.map((r) => (r.value == null ? null : JSON.parse(r.value)));
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

/**
 * The arguments a function task is called with after its context: its own arguments, or for a mapped instance
 * the elements at its map index (cross product of the inputs) bound as the task was declared, plus its constants.
 */
export async function taskArgs(body: Extract<TaskBody, { kind: 'function' }>, k: TIKey, pull: Pull): Promise<unknown[]> {
  const m = body.map;
  if (!m) return (await resolveArgs(body.args, pull)) as unknown[];
  const task = `task ${k.taskId}`;
  if (k.mapIndex < 0) throw new Error(`${task} is mapped: run one of its instances (a map index from 0), not the task itself`);
  const lists: unknown[][] = [];
  for (const input of m.inputs) {
    const list = isTaskRef(input.source) ? await pull(input.source.taskId, input.source.key) : input.source;
    if (!Array.isArray(list))
      throw new Error(
        `${task} is mapped over ${input.name ? `field "${input.name}": ` : ''}${isTaskRef(input.source) ? `the result of task ${input.source.taskId}` : 'a value'}, which must be a list but is ${describeValue(list)}`,
      );
    lists.push(list);
  }
  const lengths = lists.map((l) => l.length);
  if (k.mapIndex >= mapCount(lengths))
    throw new Error(`${task} has no instance ${k.mapIndex} any more: its inputs now make ${mapCount(lengths)} instances (clear the whole mapped task to expand it again)`);
  const positions = positionsOf(k.mapIndex, lengths);
  const elements: unknown[] = [];
  for (let i = 0; i < lists.length; i++) elements.push(isTaskRef(m.inputs[i].source) ? lists[i][positions[i]] : await resolveArgs(lists[i][positions[i]], pull));
  const partial = (await resolveArgs(m.partial, pull)) as Record<string, unknown>;
  if (m.binding === 'positional') return [elements[0]];
  if (m.binding === 'params') {
    const args: unknown[] = new Array(m.params.length).fill(undefined);
    const bound = new Set<string>();
    const put = (name: string, v: unknown) => {
      args[m.params.indexOf(name)] = v;
      bound.add(name);
    };
    for (const [name, v] of Object.entries(partial)) put(name, v);
    m.inputs.forEach((input, i) => input.name && put(input.name, elements[i]));
    m.inputs.forEach((input, i) => {
      if (input.name) return;
      const free = m.params.findIndex((p) => p !== null && !bound.has(p));
      args[free] = elements[i];
    });
    return args;
  }
  const obj: Record<string, unknown> = { ...partial };
  for (let i = 0; i < m.inputs.length; i++) {
    const name = m.inputs[i].name;
    if (name) obj[name] = elements[i];
    else if (isPlainObject(elements[i])) Object.assign(obj, elements[i]);
    else throw new Error(`${task}: with .partial({...}), .expand(list) needs every element to be an object of fields; element ${positions[i]} is ${describeValue(elements[i])}`);
  }
  return [obj];
}
