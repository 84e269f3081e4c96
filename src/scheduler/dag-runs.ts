// Creating DAG runs: scheduled (timetable), manual (trigger), backfill. Unique (dag_id, run_id) and
// (dag_id, logical_date) constraints make creation idempotent, also across schedulers.
import type { Kysely } from 'kysely';
import type { SerializedDag } from '../dag/model.ts';
import type { Database } from '../db/schema.ts';
import { nowIso } from '../util/time.ts';
import { type DagRunInfo, makeTimetable } from '../dag/timetable.ts';
import { confProblem, runIdProblem } from '../dag/run-input.ts';

export type RunType = 'scheduled' | 'manual' | 'backfill' | 'test';

export const runIdFor = (type: RunType, logicalDate: Date): string => `${type}__${logicalDate.toISOString()}`;

export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || /UNIQUE constraint failed/.test(err?.message ?? '');
}

export interface NewRun {
  dagId: string;
  runId: string;
  runType: RunType;
  info: DagRunInfo;
  conf?: Record<string, unknown>;
}

/** Inserts a queued DAG run; returns false when a run with that id or logical date already exists. */
export async function insertRun(db: Kysely<Database>, run: NewRun): Promise<boolean> {
  try {
    await db
      .insertInto('dag_run')
      .values({
        dag_id: run.dagId,
        run_id: run.runId,
        run_type: run.runType,
        logical_date: run.info.logicalDate.toISOString(),
        data_interval_start: run.info.dataInterval.start.toISOString(),
        data_interval_end: run.info.dataInterval.end.toISOString(),
        state: 'queued',
        conf: JSON.stringify(run.conf ?? {}),
        queued_at: nowIso(),
        start_date: null,
        end_date: null,
        last_scheduling_decision: null,
      })
      .execute();
    return true;
  } catch (e) {
    if (isUniqueViolation(e)) return false;
    throw e;
  }
}

/** Creates the scheduled runs that are due for one DAG, up to its maxActiveRuns. Returns how many. */
export async function createDueRuns(db: Kysely<Database>, dag: SerializedDag, now: Date): Promise<number> {
  if (dag.schedule === null) return 0;
  const tt = makeTimetable(dag.schedule, dag.timezone);
  const active = await db
    .selectFrom('dag_run')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('dag_id', '=', dag.dagId)
    .where('state', 'in', ['queued', 'running'])
    .executeTakeFirstOrThrow();
  let room = dag.maxActiveRuns - Number(active.n);
  let created = 0;
  const last = await db
    .selectFrom('dag_run')
    .select(['data_interval_start', 'data_interval_end'])
    .where('dag_id', '=', dag.dagId)
    .where('run_type', '=', 'scheduled')
    .orderBy('logical_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  let lastInterval = last ? { start: new Date(last.data_interval_start), end: new Date(last.data_interval_end) } : null;
  for (let guard = 0; room > 0 && guard < 1000; guard++) {
    const next = tt.nextDagRunInfo({
      lastInterval,
      startDate: dag.startDate ? new Date(dag.startDate) : null,
      endDate: dag.endDate ? new Date(dag.endDate) : null,
      catchup: dag.catchup,
      now,
    });
    if (!next) break;
    lastInterval = next.dataInterval;
    if (await insertRun(db, { dagId: dag.dagId, runId: runIdFor('scheduled', next.logicalDate), runType: 'scheduled', info: next })) {
      created++;
      room--;
      continue;
    }
    // Taken: another scheduler created this run (then it also creates what follows; stop), or a manual,
    // backfill or test run holds the logical date (it covers the interval; step past it).
    const holder = await db.selectFrom('dag_run').select('run_type').where('dag_id', '=', dag.dagId).where('logical_date', '=', next.logicalDate.toISOString()).executeTakeFirst();
    if (!holder || holder.run_type === 'scheduled') break;
  }
  return created;
}

/** A manual run (`floe dags trigger`): logical date now unless given, data interval inferred. */
export async function triggerRun(
  db: Kysely<Database>,
  dag: SerializedDag,
  opts: { logicalDate?: Date; conf?: Record<string, unknown>; runId?: string; runType?: RunType } = {},
): Promise<string> {
  const logicalDate = opts.logicalDate ?? new Date();
  const tt = makeTimetable(dag.schedule, dag.timezone);
  const runType = opts.runType ?? 'manual';
  const runId = opts.runId ?? runIdFor(runType, logicalDate);
  const problem = runIdProblem(runId) ?? (opts.conf !== undefined ? confProblem(opts.conf) : null);
  if (problem) throw new Error(`DAG ${dag.dagId}: ${problem}`);
  const ok = await insertRun(db, { dagId: dag.dagId, runId, runType, info: { logicalDate, dataInterval: tt.inferManualDataInterval(logicalDate) }, conf: opts.conf });
  if (!ok) throw new Error(`DAG ${dag.dagId} already has a run with id ${runId} or logical date ${logicalDate.toISOString()}`);
  return runId;
}

/** Creates backfill runs for every interval whose logical date is in [from, to]; returns all their run ids. */
/**
 * The periods a backfill of [from, to] covers, split into those whose data interval has ended by `now` and those
 * still open: running a period before its data is complete would process partial data, so a backfill leaves
 * those to the scheduler, which runs them when due.
 */
export function backfillPlan(dag: SerializedDag, from: Date, to: Date, now: Date): { due: DagRunInfo[]; notEnded: DagRunInfo[] } {
  if (dag.schedule === null) throw new Error(`DAG ${dag.dagId} has no schedule (schedule: null): nothing to backfill`);
  const infos = makeTimetable(dag.schedule, dag.timezone).runsBetween(from, to, { startDate: dag.startDate ? new Date(dag.startDate) : null, endDate: dag.endDate ? new Date(dag.endDate) : null });
  return { due: infos.filter((i) => i.dataInterval.end <= now), notEnded: infos.filter((i) => i.dataInterval.end > now) };
}

export async function createBackfillRuns(db: Kysely<Database>, dag: SerializedDag, infos: DagRunInfo[]): Promise<{ runIds: string[]; existing: string[] }> {
  const runIds: string[] = [];
  const existing: string[] = [];
  for (const info of infos) {
    const runId = runIdFor('backfill', info.logicalDate);
    if (await insertRun(db, { dagId: dag.dagId, runId, runType: 'backfill', info })) runIds.push(runId);
    else {
      const row = await db.selectFrom('dag_run').select('run_id').where('dag_id', '=', dag.dagId).where('logical_date', '=', info.logicalDate.toISOString()).executeTakeFirst();
      if (row) existing.push(row.run_id);
    }
  }
  return { runIds, existing };
}
