// Pure scheduling decisions over rows: what each task instance of a DAG run becomes next, retries, reschedules,
// branch and short-circuit skips, dynamic task mapping, run state and run timeouts.
import { descendantsOf, downstreamOf } from '../dag/graph.ts';
import { expansionOf } from '../dag/mapping.ts';
import type { SerializedDag, SerializedTask } from '../dag/model.ts';
import { FINISHED_STATES, type DagRunState, type TIState } from './states.ts';
import { evaluateTriggerRule, summarize } from './trigger-rules.ts';

export interface TIRow {
  taskId: string;
  /** -1 (the default) for an unmapped task instance or a mapped task's placeholder; 0..n-1 for mapped instances. */
  mapIndex?: number;
  state: TIState;
  tryNumber: number;
  nextRetryAt: string | null;
}

export interface TIChange {
  taskId: string;
  /** Present for mapped instances (>= 0) only. */
  mapIndex?: number;
  from: TIState;
  to: TIState;
  /** Why, when the change is not a plain trigger-rule outcome (a branch's skip, a mapping that cannot expand). */
  reason?: string;
}

/** A mapped task's placeholder (map index -1, state none) becomes instances 0..count-1, all scheduled. */
export interface Expansion {
  taskId: string;
  count: number;
}

/** What the scheduler read for this pass beyond the rows (see neededXComs, neededFollowDecisions). */
export interface DecisionInputs {
  /** Length of the value of `<taskId>\0<key>` (an unmapped task's XCom) or, when it is not a list, the value. */
  xcomLengths?: ReadonlyMap<string, number | { notAList: unknown }>;
  /** Decisions recorded by branch / short-circuit tasks that succeeded: the directly downstream task ids to follow. */
  followed?: ReadonlyMap<string, readonly string[]>;
  /** core.maxMapLength. */
  maxMapLength?: number;
}

export interface RunDecision {
  changes: TIChange[];
  expansions: Expansion[];
}

const DEFAULT_MAX = 1024;
export const xcomKey = (taskId: string, key: string): string => `${taskId}\u0000${key}`;
const idx = (r: { mapIndex?: number }) => r.mapIndex ?? -1;

/**
 * The tasks a succeeded branch or short-circuit task skips, given the direct downstream ids it follows (Airflow's
 * SkipMixin): a branch skips the tasks directly downstream of it that it does not follow, unless they are
 * downstream of a followed task (the join of an empty branch); a short-circuit that follows nothing (a falsy
 * result) skips every task downstream of it, or only the direct ones when it leaves the rest to trigger rules.
 */
export function skippedBy(dag: SerializedDag, task: SerializedTask, followed: readonly string[]): Set<string> {
  const direct = downstreamOf(dag).get(task.taskId) ?? [];
  if (task.flow?.kind === 'short_circuit') {
    if (followed.length) return new Set();
    return task.flow.ignoreDownstreamTriggerRules ? descendantsOf(dag, [task.taskId]) : new Set(direct);
  }
  const keep = new Set([...followed, ...descendantsOf(dag, followed)]);
  return new Set(direct.filter((d) => !keep.has(d)));
}

function hasNone(m: Map<number, TIState>): boolean {
  for (const s of m.values()) if (s === 'none') return true;
  return false;
}

/** Per task, its task instances' states by map index. */
function byTask(tis: TIRow[]): Map<string, Map<number, TIState>> {
  const out = new Map<string, Map<number, TIState>>();
  for (const ti of tis) {
    let m = out.get(ti.taskId);
    if (!m) out.set(ti.taskId, (m = new Map()));
    m.set(idx(ti), ti.state);
  }
  return out;
}

/**
 * The XComs whose lengths this pass needs: the results of unmapped, succeeded tasks that a mapped task waiting to
 * expand (placeholder in none) is mapped over.
 */
export function neededXComs(dag: SerializedDag, tis: TIRow[]): { taskId: string; key: string }[] {
  const states = byTask(tis);
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const out = new Map<string, { taskId: string; key: string }>();
  for (const t of dag.tasks) {
    if (!t.mapped || states.get(t.taskId)?.get(-1) !== 'none') continue;
    for (const i of t.mapped.inputs)
      if ('taskId' in i && !byId.get(i.taskId)?.mapped && states.get(i.taskId)?.get(-1) === 'success') out.set(xcomKey(i.taskId, i.key), { taskId: i.taskId, key: i.key });
  }
  return [...out.values()];
}

/** Branch and short-circuit tasks that succeeded and have a task directly downstream still waiting (none). */
export function neededFollowDecisions(dag: SerializedDag, tis: TIRow[]): string[] {
  const states = byTask(tis);
  const down = downstreamOf(dag);
  return dag.tasks
    .filter((t) => t.flow && states.get(t.taskId)?.get(-1) === 'success')
    .filter((t) => (down.get(t.taskId) ?? []).some((d) => [...(states.get(d)?.values() ?? [])].includes('none')))
    .map((t) => t.taskId);
}

/**
 * The lengths of a mapped task's inputs as far as they are known, or how the task ends without expanding: an input
 * from a skipped task skips it, one from a failed task makes it upstream_failed. Null: not known yet.
 */
function inputLengths(
  dag: SerializedDag,
  task: SerializedTask,
  states: Map<string, Map<number, TIState>>,
  inputs: DecisionInputs,
): (number | { notAList: unknown })[] | { to: TIState; reason: string } | null {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const out: (number | { notAList: unknown })[] = [];
  for (const i of task.mapped!.inputs) {
    if ('length' in i) {
      out.push(i.length);
      continue;
    }
    const src = states.get(i.taskId);
    if (!src) return null;
    if (byId.get(i.taskId)?.mapped) {
      // A mapped source's result is the list of its instances' results: its length is its number of instances.
      if (src.has(-1) && src.get(-1) === 'skipped') out.push(0);
      else if (src.has(-1)) {
        const s = src.get(-1)!;
        if (s === 'failed' || s === 'upstream_failed') return { to: 'upstream_failed', reason: `task ${i.taskId}, which it is mapped over, is ${s}` };
        if (s === 'removed') return { to: 'upstream_failed', reason: `task ${i.taskId}, which it is mapped over, was removed from the DAG` };
        return null;
      } else out.push([...src.keys()].filter((k) => k >= 0).length);
      continue;
    }
    const s = src.get(-1);
    if (s === 'skipped') return { to: 'skipped', reason: `task ${i.taskId}, which it is mapped over, was skipped` };
    if (s === 'failed' || s === 'upstream_failed') return { to: 'upstream_failed', reason: `task ${i.taskId}, which it is mapped over, is ${s}` };
    if (s === 'removed') return { to: 'upstream_failed', reason: `task ${i.taskId}, which it is mapped over, was removed from the DAG` };
    if (s !== 'success') return null;
    const l = inputs.xcomLengths?.get(xcomKey(i.taskId, i.key));
    if (l === undefined) return null;
    out.push(l);
  }
  return out;
}

/**
 * One pass over a DAG run: trigger rules for waiting tasks, due retries and reschedules, tasks that left the DAG,
 * skips decided by branch and short-circuit tasks, and the expansion of mapped tasks whose inputs are known.
 * Changes cascade within the pass (a skip or upstream_failed propagates down the whole graph at once).
 */
export function decideRun(dag: SerializedDag, tis: TIRow[], now: Date, inputs: DecisionInputs = {}): RunDecision {
  const tasks = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const states = byTask(tis);
  const changes = new Map<string, TIChange>();
  const expansions: Expansion[] = [];
  const set = (taskId: string, mapIndex: number, to: TIState, reason?: string) => {
    const k = `${taskId}\u0000${mapIndex}`;
    const mine = states.get(taskId)!;
    // Until its first change in this pass, a row's current state is its state before the pass.
    const from = changes.get(k)?.from ?? mine.get(mapIndex)!;
    changes.set(k, { taskId, ...(mapIndex >= 0 ? { mapIndex } : {}), from, to, ...(reason ? { reason } : {}) });
    mine.set(mapIndex, to);
  };
  for (const ti of tis) {
    const mi = idx(ti);
    // A task that left the DAG and came back is decided afresh.
    if (ti.state === 'removed' && tasks.has(ti.taskId)) set(ti.taskId, mi, 'none');
    else if (!tasks.has(ti.taskId) && ti.state !== 'removed' && !FINISHED_STATES.has(ti.state) && ti.state !== 'running' && ti.state !== 'queued')
      set(ti.taskId, mi, 'removed');
    else if ((ti.state === 'up_for_retry' || ti.state === 'up_for_reschedule') && (ti.nextRetryAt === null || new Date(ti.nextRetryAt) <= now)) set(ti.taskId, mi, 'scheduled');
  }
  // Branches and short-circuits that succeeded: the tasks they do not follow are skipped before trigger rules run,
  // so the skips cascade in this same pass.
  for (const [taskId, followed] of inputs.followed ?? []) {
    const task = tasks.get(taskId);
    if (!task?.flow || states.get(taskId)?.get(-1) !== 'success') continue;
    const what = task.flow.kind === 'branch' ? `branch ${taskId} followed ${followed.length ? followed.join(', ') : 'no task'}` : `short-circuit ${taskId} returned a falsy value`;
    for (const id of skippedBy(dag, task, followed))
      for (const [mi, s] of states.get(id) ?? []) if (s === 'none') set(id, mi, 'skipped', `skipped: ${what}`);
  }
  // Tasks in topological order so a decision can feed the next within one pass.
  for (const task of topoOrder(dag)) {
    const mine = states.get(task.taskId);
    if (!mine || !hasNone(mine)) continue;
    const upstream: TIState[] = [];
    for (const u of task.upstream) {
      const us = states.get(u);
      if (!us) upstream.push('none');
      else for (const st of us.values()) upstream.push(st);
    }
    const decision = evaluateTriggerRule(task.triggerRule, summarize(upstream));
    for (const [mi, s] of mine.size === 1 ? mine : [...mine]) {
      if (s !== 'none') continue;
      if (decision === 'skip') set(task.taskId, mi, 'skipped');
      else if (decision === 'upstream_failed') set(task.taskId, mi, 'upstream_failed');
      else if (decision === 'run' && task.mapped && mi === -1) {
        const lengths = inputLengths(dag, task, states, inputs);
        if (lengths === null) continue;
        if (!Array.isArray(lengths)) {
          set(task.taskId, -1, lengths.to, lengths.reason);
          continue;
        }
        const e = expansionOf(task.taskId, task.mapped, lengths, inputs.maxMapLength ?? DEFAULT_MAX);
        if ('error' in e) set(task.taskId, -1, 'failed', e.error);
        else if (e.count === 0) set(task.taskId, -1, 'skipped', 'mapped over an empty list: no instance to run');
        else {
          expansions.push({ taskId: task.taskId, count: e.count });
          mine.delete(-1);
          for (let i = 0; i < e.count; i++) mine.set(i, 'scheduled');
        }
      } else if (decision === 'run') set(task.taskId, mi, 'scheduled');
    }
  }
  return { changes: [...changes.values()].filter((c) => c.from !== c.to), expansions };
}

/** decideRun's changes only (no expansions, no inputs): the trigger-rule pass of unmapped DAGs. */
export function decideTaskChanges(dag: SerializedDag, tis: TIRow[], now: Date, inputs: DecisionInputs = {}): TIChange[] {
  return decideRun(dag, tis, now, inputs).changes;
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
 * instance is finished, failed if any instance of a leaf (task without downstream) failed or was upstream_failed,
 * else success. `states`: by task id (unmapped DAGs), or every task instance row.
 */
export function decideRunState(dag: SerializedDag, states: Map<string, TIState> | readonly { taskId: string; state: TIState }[]): DagRunState {
  const rows = states instanceof Map ? [...states].map(([taskId, state]) => ({ taskId, state })) : states;
  for (const r of rows) if (!FINISHED_STATES.has(r.state)) return 'running';
  const hasDownstream = new Set(dag.tasks.flatMap((t) => t.upstream));
  const inDag = new Set(dag.tasks.map((t) => t.taskId));
  for (const r of rows) {
    if (hasDownstream.has(r.taskId) || !inDag.has(r.taskId)) continue;
    if (r.state === 'failed' || r.state === 'upstream_failed') return 'failed';
  }
  return 'success';
}

/** Whether a running run has passed its DAG's dagRunTimeout (seconds from the run's start). */
export function runTimedOut(dag: Pick<SerializedDag, 'dagRunTimeout'>, startDate: string | null, now: Date): boolean {
  if (!dag.dagRunTimeout || !startDate) return false;
  return now.getTime() - new Date(startDate).getTime() > dag.dagRunTimeout * 1000;
}

/** What a timed-out run's unfinished task instances become: skipped (as Airflow does), finished ones stay. */
export function timeoutChanges(tis: TIRow[]): TIChange[] {
  return tis
    .filter((t) => !FINISHED_STATES.has(t.state))
    .map((t) => ({ taskId: t.taskId, ...(idx(t) >= 0 ? { mapIndex: idx(t) } : {}), from: t.state, to: 'skipped' as TIState, reason: 'skipped: the DAG run timed out (dagRunTimeout)' }));
}
