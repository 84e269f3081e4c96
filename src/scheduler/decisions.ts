// Pure scheduling decisions over rows: what each task instance of a DAG run becomes next, retries, run state.
import type { SerializedDag, SerializedTask } from '../dag/model.ts';
import { FINISHED_STATES, type DagRunState, type TIState } from './states.ts';
import { evaluateTriggerRule, summarize } from './trigger-rules.ts';


export interface TIRow {
  taskId: string;
  state: TIState;
  tryNumber: number;
  nextRetryAt: string | null;
}

export interface TIChange {
  taskId: string;
  from: TIState;
  to: TIState;
}

/**
 * One pass over a DAG run: trigger rules for waiting tasks, due retries, tasks that left the DAG.
 * Changes cascade within the pass (a skip or upstream_failed propagates down the whole graph at once).
 */
export function decideTaskChanges(dag: SerializedDag, tis: TIRow[], now: Date): TIChange[] {
  const tasks = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const state = new Map(tis.map((ti) => [ti.taskId, ti.state]));
  const changes = new Map<string, TIChange>();
  const set = (taskId: string, to: TIState) => {
    const from = changes.get(taskId)?.from ?? state.get(taskId)!;
    changes.set(taskId, { taskId, from, to });
    state.set(taskId, to);
  };
  for (const ti of tis) {
    // A task that left the DAG and came back is decided afresh.
    if (ti.state === 'removed' && tasks.has(ti.taskId)) set(ti.taskId, 'none');
    else if (!tasks.has(ti.taskId) && ti.state !== 'removed' && !FINISHED_STATES.has(ti.state) && ti.state !== 'running' && ti.state !== 'queued')
      set(ti.taskId, 'removed');
    else if (ti.state === 'up_for_retry' && (ti.nextRetryAt === null || new Date(ti.nextRetryAt) <= now)) set(ti.taskId, 'scheduled');
  }
  // Tasks in topological order so a decision can feed the next within one pass.
  for (const task of topoOrder(dag)) {
    if (state.get(task.taskId) !== 'none') continue;
    const decision = evaluateTriggerRule(task.triggerRule, summarize(task.upstream.map((u) => state.get(u) ?? 'none')));
    if (decision === 'run') set(task.taskId, 'scheduled');
    else if (decision === 'skip') set(task.taskId, 'skipped');
    else if (decision === 'upstream_failed') set(task.taskId, 'upstream_failed');
  }
  return [...changes.values()].filter((c) => c.from !== c.to);
}

const topoCache = new WeakMap<SerializedDag, SerializedTask[]>();
export function topoOrder(dag: SerializedDag): SerializedTask[] {
  const hit = topoCache.get(dag);
  if (hit) return hit;
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const out: SerializedTask[] = [];
  const seen = new Set<string>();
  const visit = (t: SerializedTask) => {
    if (seen.has(t.taskId)) return;
    seen.add(t.taskId);
    for (const u of t.upstream) {
      const ut = byId.get(u);
      if (ut) visit(ut);
    }
    out.push(t);
  };
  dag.tasks.forEach(visit);
  topoCache.set(dag, out);
  return out;
}

/**
 * The run's state once its task states are known: running while anything can still happen; when every task
 * is finished, failed if any leaf (task without downstream) failed or was upstream_failed, else success.
 */
export function decideRunState(dag: SerializedDag, states: Map<string, TIState>): DagRunState {
  for (const s of states.values()) if (!FINISHED_STATES.has(s)) return 'running';
  const hasDownstream = new Set(dag.tasks.flatMap((t) => t.upstream));
  for (const t of dag.tasks) {
    if (hasDownstream.has(t.taskId)) continue;
    const s = states.get(t.taskId);
    if (s === 'failed' || s === 'upstream_failed') return 'failed';
  }
  return 'success';
}
