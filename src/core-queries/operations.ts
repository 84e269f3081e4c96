// What users do to task instances and runs besides triggering: clear (run again), mark success / failed, set a
// run's state. Modelled on Airflow 2's stable REST API; shared by the API and (later) `floe tasks clear`.
//
// The scheduler owns state decisions, so these writes only put rows where the scheduler takes over: a cleared
// task instance goes back to `none` (trigger rules decide it again), a finished run with something cleared or
// marked goes back to `queued` (the scheduler starts it and decides its state again). Every changed run is
// touched (`last_scheduling_decision = null`) and stamped (`tis_edited_at`), so schedulers re-read all its task
// instances: a finished → finished change (failed → success) is invisible to their incremental read.
import type { Kysely, Transaction } from 'kysely';
import type { SerializedDag } from '../dag/model.ts';
import type { Database } from '../db/schema.ts';
import { finishTryIn, keyColumns } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';
import { nowIso } from '../util/time.ts';
import { conflict, invalid, notFound } from './errors.ts';

type Db = Kysely<Database>;
type Trx = Transaction<Database>;

/** A try in flight is not interrupted by a clear (its runner would go on and record it). */
const IN_FLIGHT = new Set(['queued', 'running']);
const FAILED = ['failed', 'upstream_failed'];
const FINISHED_RUN = new Set(['success', 'failed']);

export interface TaskInstanceRef {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
  /** The state before the operation. */
  state: string;
}

export interface NotCleared extends TaskInstanceRef {
  reason: string;
}

export interface ClearOptions {
  /** One run; all runs of the DAG when absent. */
  runId?: string;
  /** Only runs whose logical date is on or after / on or before these (both included). */
  startDate?: Date;
  endDate?: Date;
  /** These tasks (and, by the flags, their relatives); every task of the DAG when absent. */
  taskIds?: string[];
  /** Tasks whose id this regular expression finds (a search, as Airflow's -t), instead of `taskIds`. */
  taskRegex?: string;
  /** Only task instances that failed or are upstream_failed. */
  onlyFailed?: boolean;
  includeDownstream?: boolean;
  includeUpstream?: boolean;
  /** Say what would be cleared, change nothing. */
  dryRun?: boolean;
}

export interface ClearResult {
  cleared: TaskInstanceRef[];
  /** Matched but left alone: a try queued or running. */
  notCleared: NotCleared[];
  /** Runs put back to queued because they had finished. */
  requeuedRuns: string[];
  dryRun: boolean;
}

/** Task ids and, transitively, their downstream and/or upstream tasks. Unknown ids are an `invalid` error. */
export function relatedTasks(dag: SerializedDag, taskIds: string[], o: { downstream?: boolean; upstream?: boolean }): Set<string> {
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const unknown = taskIds.filter((t) => !byId.has(t));
  if (unknown.length) throw invalid(`DAG "${dag.dagId}" has no task ${unknown.map((t) => `"${t}"`).join(', ')}`);
  const down = new Map<string, string[]>();
  for (const t of dag.tasks) for (const u of t.upstream) down.set(u, [...(down.get(u) ?? []), t.taskId]);
  const out = new Set<string>();
  const walk = (id: string, next: (id: string) => string[]) => {
    for (const n of next(id)) if (!out.has(n)) (out.add(n), walk(n, next));
  };
  for (const id of taskIds) {
    out.add(id);
    if (o.downstream) walk(id, (x) => down.get(x) ?? []);
    if (o.upstream) walk(id, (x) => byId.get(x)?.upstream ?? []);
  }
  return out;
}

async function requireRunRow(db: Db | Trx, dagId: string, runId: string) {
  const run = await db.selectFrom('dag_run').select(['state']).where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirst();
  if (!run) throw notFound(`DAG "${dagId}" has no run "${runId}"`);
  return run;
}

/**
 * After task instances of a run changed from outside the scheduler: a finished run goes back to queued (the
 * scheduler starts it again and decides its state from its task instances), any other is touched. Both are
 * stamped so schedulers re-read every task instance of the run. True when the run was requeued.
 */
async function rescheduleRun(trx: Trx, dagId: string, runId: string, now: string): Promise<boolean> {
  const requeued = await trx
    .updateTable('dag_run')
    .set({ state: 'queued', queued_at: now, end_date: null, last_scheduling_decision: null, tis_edited_at: now })
    .where('dag_id', '=', dagId)
    .where('run_id', '=', runId)
    .where('state', 'in', [...FINISHED_RUN])
    .executeTakeFirst();
  if (Number(requeued.numUpdatedRows) === 1) return true;
  await trx.updateTable('dag_run').set({ last_scheduling_decision: null, tis_edited_at: now }).where('dag_id', '=', dagId).where('run_id', '=', runId).execute();
  return false;
}

/** The task ids a regular expression finds in a task id (a search, not a full match). Bad or matchless: `invalid`. */
export function tasksMatching(dag: SerializedDag, pattern: string): string[] {
  let re: RegExp;
  try {
    re = new RegExp(pattern);
  } catch (e) {
    throw invalid(`task regex ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
  const ids = dag.tasks.map((t) => t.taskId).filter((id) => re.test(id));
  if (!ids.length) throw invalid(`no task of DAG "${dag.dagId}" matches the regex ${JSON.stringify(pattern)}`);
  return ids;
}

/**
 * Clears task instances so they run again: each finished (or waiting) one goes back to `none` with its end
 * date, reason and retry time cleared; its try number stays (the next try is the one after it). Task instances
 * with a try queued or running are not cleared (`notCleared`). Runs that had finished are requeued.
 */
export async function clearTaskInstances(db: Db, dag: SerializedDag, o: ClearOptions = {}): Promise<ClearResult> {
  if (o.taskIds?.length && o.taskRegex !== undefined) throw invalid('give task ids or a task regex, not both');
  if (o.startDate && o.endDate && o.startDate > o.endDate) throw invalid(`the start date ${o.startDate.toISOString()} is after the end date ${o.endDate.toISOString()}`);
  const picked = o.taskRegex !== undefined ? tasksMatching(dag, o.taskRegex) : o.taskIds;
  const tasks = picked?.length ? relatedTasks(dag, picked, { downstream: o.includeDownstream, upstream: o.includeUpstream }) : null;
  if (o.runId !== undefined) await requireRunRow(db, dag.dagId, o.runId);
  return db.transaction().execute(async (trx) => {
    let q = trx.selectFrom('task_instance').select(['run_id', 'task_id', 'map_index', 'state']).where('dag_id', '=', dag.dagId).where('state', '!=', 'none');
    if (o.runId !== undefined) q = q.where('run_id', '=', o.runId);
    if (o.startDate || o.endDate) {
      let runs = trx.selectFrom('dag_run').select('run_id').where('dag_id', '=', dag.dagId);
      if (o.startDate) runs = runs.where('logical_date', '>=', o.startDate.toISOString());
      if (o.endDate) runs = runs.where('logical_date', '<=', o.endDate.toISOString());
      q = q.where('run_id', 'in', runs);
    }
    if (tasks) q = q.where('task_id', 'in', [...tasks]);
    if (o.onlyFailed) q = q.where('state', 'in', FAILED);
    const rows = await q.orderBy('run_id').orderBy('task_id').orderBy('map_index').execute();
    const ref = (r: (typeof rows)[number]): TaskInstanceRef => ({ dagId: dag.dagId, runId: r.run_id, taskId: r.task_id, mapIndex: r.map_index, state: r.state });
    const cleared = rows.filter((r) => !IN_FLIGHT.has(r.state)).map(ref);
    const notCleared = rows
      .filter((r) => IN_FLIGHT.has(r.state))
      .map((r) => ({ ...ref(r), reason: `its try is ${r.state}: a try in flight is not cleared (mark it failed first to stop waiting for it)` }));
    const requeuedRuns: string[] = [];
    if (!o.dryRun && cleared.length) {
      const now = nowIso();
      for (const c of cleared)
        await trx
          .updateTable('task_instance')
          .set({ state: 'none', end_date: null, reason: null, next_retry_at: null, queued_by_job_id: null, updated_at: now })
          .where((eb) => eb.and(keyColumns(c)))
          .where('state', '=', c.state)
          .execute();
      await collapseClearedMappedTasks(trx, dag, cleared);
      for (const runId of new Set(cleared.map((c) => c.runId))) if (await rescheduleRun(trx, dag.dagId, runId, now)) requeuedRuns.push(runId);
    }
    return { cleared, notCleared, requeuedRuns, dryRun: !!o.dryRun };
  });
}

/**
 * A mapped task all of whose instances in a run were cleared goes back to its placeholder (map index -1, none),
 * so the scheduler expands it again from its inputs as they are now (an upstream cleared with it may return a
 * list of another length). Clearing only some instances (e.g. only the failed ones) runs those again as they are.
 */
async function collapseClearedMappedTasks(trx: Trx, dag: SerializedDag, cleared: TaskInstanceRef[]): Promise<void> {
  const mapped = new Set(dag.tasks.filter((t) => t.mapped).map((t) => t.taskId));
  const pairs = new Map<string, { runId: string; taskId: string }>();
  for (const c of cleared) if (c.mapIndex >= 0 && mapped.has(c.taskId)) pairs.set(`${c.runId}\u0000${c.taskId}`, { runId: c.runId, taskId: c.taskId });
  for (const { runId, taskId } of pairs.values()) {
    const rows = await trx.selectFrom('task_instance').select(['map_index', 'state']).where('dag_id', '=', dag.dagId).where('run_id', '=', runId).where('task_id', '=', taskId).execute();
    if (!rows.every((r) => r.state === 'none')) continue;
    await trx.deleteFrom('task_instance').where('dag_id', '=', dag.dagId).where('run_id', '=', runId).where('task_id', '=', taskId).where('map_index', '>', 0).execute();
    await trx.updateTable('task_instance').set({ map_index: -1 }).where('dag_id', '=', dag.dagId).where('run_id', '=', runId).where('task_id', '=', taskId).where('map_index', '=', 0).execute();
    await trx.deleteFrom('xcom').where('dag_id', '=', dag.dagId).where('run_id', '=', runId).where('task_id', '=', taskId).where('map_index', '>=', 0).execute();
  }
}

export type MarkState = 'success' | 'failed';

export interface MarkResult {
  /** The task instance as it was; `changed` false when it already was in that state. */
  taskInstance: TaskInstanceRef;
  newState: MarkState;
  changed: boolean;
  /** Downstream task instances cleared because marking success unblocks them (they were upstream_failed). */
  clearedDownstream: TaskInstanceRef[];
  requeuedRun: boolean;
  dryRun: boolean;
}

/**
 * Sets one task instance's state by hand. A try queued or running is ended as that state (its history row says
 * it was marked; its runner's own outcome is then refused). Marking success also clears the downstream task
 * instances that are upstream_failed, so they run, as Airflow's mark success does.
 */
export async function markTaskInstance(db: Db, dag: SerializedDag, key: TIKey, newState: MarkState, o: { dryRun?: boolean } = {}): Promise<MarkResult> {
  const what = `${key.dagId}.${key.taskId}${key.mapIndex >= 0 ? `[${key.mapIndex}]` : ''} in run ${key.runId}`;
  return db.transaction().execute(async (trx) => {
    const ti = await trx.selectFrom('task_instance').select(['state', 'try_number']).where((eb) => eb.and(keyColumns(key))).executeTakeFirst();
    if (!ti) {
      await requireRunRow(trx, key.dagId, key.runId);
      throw notFound(`run "${key.runId}" of DAG "${key.dagId}" has no task instance "${key.taskId}"${key.mapIndex >= 0 ? ` with map index ${key.mapIndex}` : ''}`);
    }
    const before: TaskInstanceRef = { ...key, state: ti.state };
    const downstream =
      newState === 'success' && dag.tasks.some((t) => t.taskId === key.taskId) ? [...relatedTasks(dag, [key.taskId], { downstream: true })].filter((t) => t !== key.taskId) : [];
    const blocked = downstream.length
      ? await trx
          .selectFrom('task_instance')
          .select(['task_id', 'map_index', 'state'])
          .where('dag_id', '=', key.dagId)
          .where('run_id', '=', key.runId)
          .where('task_id', 'in', downstream)
          .where('state', '=', 'upstream_failed')
          .orderBy('task_id')
          .execute()
      : [];
    const clearedDownstream = blocked.map((r) => ({ dagId: key.dagId, runId: key.runId, taskId: r.task_id, mapIndex: r.map_index, state: r.state }));
    const changed = ti.state !== newState;
    if (o.dryRun || (!changed && !clearedDownstream.length)) return { taskInstance: before, newState, changed, clearedDownstream, requeuedRun: false, dryRun: !!o.dryRun };
    const now = nowIso();
    const reason = `marked ${newState} by a user (was ${ti.state})`;
    if (changed) {
      // A try in flight ends as marked, with its history row; its runner's late outcome is refused (finishTry
      // only writes from queued/running for its try number).
      const ended = IN_FLIGHT.has(ti.state) && ti.try_number > 0 && (await finishTryIn(trx, key, ti.try_number, { state: newState, reason }));
      if (!ended)
        await trx
          .updateTable('task_instance')
          .set({ state: newState, end_date: now, reason, next_retry_at: null, updated_at: now })
          .where((eb) => eb.and(keyColumns(key)))
          .where('state', '=', ti.state)
          .execute();
    }
    for (const c of clearedDownstream)
      await trx
        .updateTable('task_instance')
        .set({ state: 'none', end_date: null, reason: null, next_retry_at: null, updated_at: now })
        .where((eb) => eb.and(keyColumns(c)))
        .where('state', '=', 'upstream_failed')
        .execute();
    const requeuedRun = await rescheduleRun(trx, key.dagId, key.runId, now);
    return { taskInstance: before, newState, changed, clearedDownstream, requeuedRun, dryRun: false };
  });
}

export type RunMarkState = 'success' | 'failed' | 'queued';

export interface RunMarkResult {
  previousState: string;
  state: RunMarkState;
  /** Task instances whose state was set along with the run's. */
  taskInstances: (TaskInstanceRef & { newState: string })[];
}

/**
 * Sets a DAG run's state, as Airflow's PATCH dagRun does. success: every task instance not success or skipped
 * becomes success. failed: tries in flight fail, task instances still waiting are skipped. queued: only the run
 * (the scheduler starts it again and decides its state from its task instances).
 */
export async function setDagRunState(db: Db, dagId: string, runId: string, state: RunMarkState): Promise<RunMarkResult> {
  return db.transaction().execute(async (trx) => {
    const run = await requireRunRow(trx, dagId, runId);
    const now = nowIso();
    const tis = await trx.selectFrom('task_instance').select(['task_id', 'map_index', 'state', 'try_number']).where('dag_id', '=', dagId).where('run_id', '=', runId).orderBy('task_id').execute();
    const changes: (TaskInstanceRef & { newState: string })[] = [];
    const target = (s: string): string | null => {
      if (state === 'success') return s === 'success' || s === 'skipped' ? null : 'success';
      if (state === 'failed') return IN_FLIGHT.has(s) ? 'failed' : s === 'none' || s === 'scheduled' || s === 'up_for_retry' || s === 'up_for_reschedule' ? 'skipped' : null;
      return null;
    };
    for (const ti of tis) {
      const to = target(ti.state);
      if (!to) continue;
      const key = { dagId, runId, taskId: ti.task_id, mapIndex: ti.map_index };
      const reason = `run marked ${state} by a user (was ${ti.state})`;
      const ended = IN_FLIGHT.has(ti.state) && ti.try_number > 0 && (to === 'success' || to === 'failed') && (await finishTryIn(trx, key, ti.try_number, { state: to, reason }));
      if (!ended)
        await trx
          .updateTable('task_instance')
          .set({ state: to, end_date: now, reason, next_retry_at: null, updated_at: now })
          .where((eb) => eb.and(keyColumns(key)))
          .where('state', '=', ti.state)
          .execute();
      changes.push({ ...key, state: ti.state, newState: to });
    }
    await trx
      .updateTable('dag_run')
      .set(
        state === 'queued'
          ? { state, queued_at: now, end_date: null, last_scheduling_decision: null, tis_edited_at: now }
          : { state, end_date: now, last_scheduling_decision: null, tis_edited_at: now, ...(run.state === 'queued' ? { start_date: now } : {}) },
      )
      .where('dag_id', '=', dagId)
      .where('run_id', '=', runId)
      .execute();
    return { previousState: run.state, state, taskInstances: changes };
  });
}

export interface DeleteDagResult {
  dagId: string;
  runs: number;
  taskInstances: number;
  tries: number;
  xcoms: number;
}

/**
 * Deletes everything the metadata database holds about a DAG (`floe dags delete`, `DELETE /api/v1/dags/{id}`):
 * its row, runs, task instances, try history, launch failures, pods, XComs and import errors. Not its file
 * (while the file defines it, the DAG processor adds the DAG again, as new) nor its task log files. Refused
 * while a try of it is queued or running.
 */
export async function deleteDag(db: Db, dagId: string): Promise<DeleteDagResult> {
  return db.transaction().execute(async (trx) => {
    const [dag, anyRun] = await Promise.all([
      trx.selectFrom('dag').select('dag_id').where('dag_id', '=', dagId).executeTakeFirst(),
      trx.selectFrom('dag_run').select('run_id').where('dag_id', '=', dagId).limit(1).executeTakeFirst(),
    ]);
    if (!dag && !anyRun) throw notFound(`no DAG "${dagId}"`);
    const busy = await trx.selectFrom('task_instance').select(['run_id', 'task_id', 'state']).where('dag_id', '=', dagId).where('state', 'in', [...IN_FLIGHT]).limit(5).execute();
    if (busy.length)
      throw conflict(
        `DAG "${dagId}" has tries queued or running (${busy.map((b) => `${b.task_id} in ${b.run_id}: ${b.state}`).join(', ')}): let them finish, or mark them failed, before deleting it`,
      );
    const n = (r: { numDeletedRows: bigint }) => Number(r.numDeletedRows);
    const xcoms = n(await trx.deleteFrom('xcom').where('dag_id', '=', dagId).executeTakeFirst());
    const tries = n(await trx.deleteFrom('task_instance_history').where('dag_id', '=', dagId).executeTakeFirst());
    await trx.deleteFrom('task_launch_failure').where('dag_id', '=', dagId).execute();
    await trx.deleteFrom('task_pod').where('dag_id', '=', dagId).execute();
    await trx.deleteFrom('task_reschedule').where('dag_id', '=', dagId).execute();
    const taskInstances = n(await trx.deleteFrom('task_instance').where('dag_id', '=', dagId).executeTakeFirst());
    const runs = n(await trx.deleteFrom('dag_run').where('dag_id', '=', dagId).executeTakeFirst());
    await trx.deleteFrom('import_error').where('dag_id', '=', dagId).execute();
    await trx.deleteFrom('dag').where('dag_id', '=', dagId).execute();
    return { dagId, runs, taskInstances, tries, xcoms };
  });
}
