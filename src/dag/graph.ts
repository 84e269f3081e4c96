// Graph walks over a serialized DAG, shared by the scheduler's decisions and the task runner.
import type { SerializedDag } from './model.ts';

const downstreamCache = new WeakMap<SerializedDag, Map<string, string[]>>();

/** Every task's direct downstream task ids. */
export function downstreamOf(dag: SerializedDag): Map<string, string[]> {
  let m = downstreamCache.get(dag);
  if (m) return m;
  m = new Map(dag.tasks.map((t) => [t.taskId, [] as string[]]));
  for (const t of dag.tasks) for (const u of t.upstream) m.get(u)?.push(t.taskId);
  downstreamCache.set(dag, m);
  return m;
}

/** The task ids downstream of the given ones, directly or not (not including them). */
export function descendantsOf(dag: SerializedDag, ids: Iterable<string>): Set<string> {
  const down = downstreamOf(dag);
  const out = new Set<string>();
  const todo = [...ids];
  while (todo.length) for (const d of down.get(todo.pop()!) ?? []) if (!out.has(d)) (out.add(d), todo.push(d));
  return out;
}
