// The task runner's side of branch and short-circuit tasks: check what the function returned and turn it into the
// decision the scheduler acts on — the task ids directly downstream to follow — recorded as an XCom
// (FOLLOW_XCOM_KEY) before the try's success, so the scheduler never sees the success without it.
import { describeValue } from '../dag/mapping.ts';
import type { SerializedDag, SerializedTask } from '../dag/model.ts';
import { descendantsOf, downstreamOf } from '../dag/graph.ts';

const quote = (ids: string[]) => ids.map((i) => `"${i}"`).join(', ');

/**
 * The decision a branch or short-circuit task's return value stands for: the ids it follows (a branch: the ids it
 * returned; a short-circuit: every direct downstream task when the value is truthy, none when it is falsy). A branch
 * returning something other than task ids downstream of it throws, naming the task. Null for other tasks.
 */
export function followDecision(dag: SerializedDag, task: SerializedTask, value: unknown): string[] | null {
  if (!task.flow) return null;
  const direct = downstreamOf(dag).get(task.taskId) ?? [];
  if (task.flow.kind === 'short_circuit') return value ? [...direct] : [];
  let ids: string[];
  if (value === null || value === undefined) ids = [];
  else if (typeof value === 'string') ids = [value];
  else if (Array.isArray(value) && value.every((v) => typeof v === 'string')) ids = [...new Set(value as string[])];
  else throw new Error(`branch task ${task.taskId} must return the id of a task downstream of it, a list of such ids, or null; it returned ${describeValue(value)}`);
  const below = descendantsOf(dag, [task.taskId]);
  const bad = ids.filter((id) => !below.has(id));
  if (bad.length) {
    const known = new Set(dag.tasks.map((t) => t.taskId));
    const unknown = bad.filter((id) => !known.has(id));
    const why = unknown.length
      ? `${quote(unknown)} ${unknown.length > 1 ? 'are not tasks' : 'is not a task'} of DAG ${dag.dagId}`
      : `${quote(bad)} ${bad.length > 1 ? 'are not' : 'is not'} downstream of it`;
    throw new Error(`branch task ${task.taskId} returned ${quote(bad)}: ${why} (its direct downstream tasks: ${direct.join(', ') || 'none'})`);
  }
  return ids;
}

/** One log line saying what the decision means for the tasks directly downstream. */
export function describeDecision(dag: SerializedDag, task: SerializedTask, followed: string[]): string {
  const direct = downstreamOf(dag).get(task.taskId) ?? [];
  if (task.flow?.kind === 'short_circuit')
    return followed.length || !direct.length
      ? 'short-circuit: the condition holds, downstream tasks run'
      : `short-circuit: falsy result, skipping ${task.flow.ignoreDownstreamTriggerRules ? 'every task downstream' : `the tasks directly downstream (${direct.join(', ')})`}`;
  const keep = new Set([...followed, ...descendantsOf(dag, followed)]);
  const skipped = direct.filter((d) => !keep.has(d));
  return `branch: following ${followed.length ? followed.join(', ') : 'no task'}${skipped.length ? `; skipping ${skipped.join(', ')}` : ''}`;
}
