// Task-instance writes shared by the task runner and the scheduler. Every write names the try it is about
// (`try_number`) and the states it may come from, so a late or duplicate writer changes nothing.
import type { Kysely, Transaction } from 'kysely';
import { type TIKey, tiKeyString } from '../executors/types.ts';
import { chunks, groupBy, runKey } from '../util/collections.ts';
import { nowIso } from '../util/time.ts';
import type { Database } from './schema.ts';

type Q = Kysely<Database> | Transaction<Database>;

/** Column values of a TI key, for `.where((eb) => eb.and(keyColumns(k)))`. */
export const keyColumns = (k: TIKey) => ({ dag_id: k.dagId, run_id: k.runId, task_id: k.taskId, map_index: k.mapIndex });

export async function getTI(db: Q, k: TIKey) {
  return db.selectFrom('task_instance').selectAll().where((eb) => eb.and(keyColumns(k))).executeTakeFirst();
}

export interface TryRow {
  state: string;
  try_number: number;
  queue: string;
  launch_id: string | null;
}

/** State, try number and queue of many task instances, by `tiKeyString` (missing rows absent): one query per DAG run and 500 tasks. */
export async function readTries(db: Q, keys: TIKey[]): Promise<Map<string, TryRow>> {
  const out = new Map<string, TryRow>();
  for (const list of groupBy(keys, (k) => runKey(k.dagId, k.runId)).values())
    for (const part of chunks(list, 500)) {
      const rows = await db
        .selectFrom('task_instance')
        .select(['task_id', 'map_index', 'state', 'try_number', 'queue', 'launch_id'])
        .where('dag_id', '=', part[0].dagId)
        .where('run_id', '=', part[0].runId)
        .where('task_id', 'in', [...new Set(part.map((k) => k.taskId))])
        .execute();
      for (const r of rows) out.set(tiKeyString({ dagId: part[0].dagId, runId: part[0].runId, taskId: r.task_id, mapIndex: r.map_index }), { state: r.state, try_number: r.try_number, queue: r.queue, launch_id: r.launch_id });
    }
  return out;
}

/**
 * A try (launch) is over once its row moved past it: another try, another launch of the same try (it was taken
 * back and queued again), or a state other than queued/running. Without a launch id only the number counts.
 */
export function tryIsOver(row: Pick<TryRow, 'state' | 'try_number' | 'launch_id'> | undefined, tryNumber: number, launchId?: string | null): boolean {
  if (!row || row.try_number !== tryNumber || (row.state !== 'queued' && row.state !== 'running')) return true;
  return launchId != null && row.launch_id !== launchId;
}

/** Who claims a try: its process, the launch it was handed, and the executor's handle for it when known. */
export interface ClaimInfo {
  hostname: string;
  pid: number;
  externalId?: string;
  /** The launch this runner was started for; absent (a user's own `floe tasks run`) claims whichever is queued. */
  launchId?: string | null;
}

/**
 * queued → running for exactly this try (and launch). False when the try is not (or no longer) queued, or was
 * taken back and queued again as another launch: do not run it. This one statement is the fence between a
 * runner and a take-over (which moves the same launch queued → scheduled): exactly one of them wins.
 */
export async function claimTry(db: Q, k: TIKey, tryNumber: number, info: ClaimInfo): Promise<boolean> {
  const now = nowIso();
  const ext = info.externalId ? { external_executor_id: info.externalId } : {};
  let q = db.updateTable('task_instance').set({ state: 'running', start_date: now, end_date: null, hostname: info.hostname, pid: info.pid, last_heartbeat: now, reason: null, updated_at: now, ...ext }).where((eb) => eb.and(keyColumns(k)))
    .where('try_number', '=', tryNumber)
    .where('state', '=', 'queued');
  if (info.launchId) q = q.where('launch_id', '=', info.launchId);
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export async function heartbeat(db: Q, k: TIKey, tryNumber: number): Promise<boolean> {
  const r = await db.updateTable('task_instance').set({ last_heartbeat: nowIso() }).where((eb) => eb.and(keyColumns(k)))
    .where('try_number', '=', tryNumber)
    .where('state', '=', 'running')
    .executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export interface TryEnd {
  state: 'success' | 'failed' | 'up_for_retry' | 'up_for_reschedule' | 'skipped';
  reason: string | null;
  /** When the task instance may be queued again: the retry time (up_for_retry) or the next poke (up_for_reschedule). */
  nextRetryAt?: string | null;
  /** When the try started, if not when this run of it was claimed: a reschedule-mode sensor's first poke. */
  startedAt?: string | null;
}

/**
 * Ends one try: the TI moves to its final state for this try and the try is written to the history.
 * Only from queued/running and only for the given try number; returns false (and writes nothing) otherwise.
 */
export async function finishTry(db: Kysely<Database>, k: TIKey, tryNumber: number, end: TryEnd, from: string[] = ['queued', 'running'], launchId?: string | null): Promise<boolean> {
  return db.transaction().execute(async (trx) => finishTryIn(trx, k, tryNumber, end, from, launchId));
}

/** `launchId`: end only that launch of the try (a decision taken from an executor's report about it). */
export async function finishTryIn(trx: Transaction<Database>, k: TIKey, tryNumber: number, end: TryEnd, from: string[] = ['queued', 'running'], launchId?: string | null): Promise<boolean> {
  const now = nowIso();
  // RETURNING (PostgreSQL, SQLite ≥ 3.35) gives the history row's columns without a second read.
  let q = trx.updateTable('task_instance').set({ state: end.state, end_date: now, reason: end.reason, next_retry_at: end.nextRetryAt ?? null, updated_at: now }).where((eb) => eb.and(keyColumns(k)))
    .where('try_number', '=', tryNumber)
    .where('state', 'in', from);
  if (launchId) q = q.where('launch_id', '=', launchId);
  const ti = await q.returning(['start_date', 'hostname', 'external_executor_id']).executeTakeFirst();
  if (!ti) return false;
  if (end.state === 'up_for_reschedule') {
    // The try goes on at its next poke: no history row yet, a reschedule row instead.
    await trx
      .insertInto('task_reschedule')
      .values({ ...keyColumns(k), try_number: tryNumber, start_date: ti.start_date ?? now, end_date: now, reschedule_date: end.nextRetryAt ?? now })
      .execute();
  } else {
    if (end.startedAt) await trx.updateTable('task_instance').set({ start_date: end.startedAt }).where((eb) => eb.and(keyColumns(k))).execute();
    await insertHistory(trx, k, tryNumber, end, end.startedAt ?? ti.start_date, ti, now);
  }
  // Touch the run so the scheduler looks at it again.
  await trx.updateTable('dag_run').set({ last_scheduling_decision: null }).where('dag_id', '=', k.dagId).where('run_id', '=', k.runId).execute();
  return true;
}

async function insertHistory(
  trx: Transaction<Database>,
  k: TIKey,
  tryNumber: number,
  end: TryEnd,
  startDate: string | null,
  ti: { hostname: string | null; external_executor_id: string | null },
  now: string,
): Promise<void> {
  await trx
    .insertInto('task_instance_history')
    .values({
      dag_id: k.dagId,
      run_id: k.runId,
      task_id: k.taskId,
      map_index: k.mapIndex,
      try_number: tryNumber,
      state: end.state,
      start_date: startDate,
      end_date: now,
      hostname: ti.hostname,
      external_executor_id: ti.external_executor_id,
      reason: end.reason,
      recorded_at: now,
    })
    .onConflict((oc) => oc.columns(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number']).doNothing())
    .execute();
}

export async function pushXcom(db: Q, k: TIKey, key: string, value: unknown): Promise<void> {
  const json = JSON.stringify(value);
  if (json !== undefined) await pushXcomJson(db, k, key, json);
}

/** pushXcom of a value already in its JSON form (e.g. sent by another process). */
export async function pushXcomJson(db: Q, k: TIKey, key: string, json: string): Promise<void> {
  const now = nowIso();
  await db
    .insertInto('xcom')
    .values({ dag_id: k.dagId, run_id: k.runId, task_id: k.taskId, map_index: k.mapIndex, key, value: json, timestamp: now })
    .onConflict((oc) => oc.columns(['dag_id', 'run_id', 'task_id', 'map_index', 'key']).doUpdateSet({ value: json, timestamp: now }))
    .execute();
}

export async function pullXcom(db: Q, dagId: string, runId: string, taskId: string, key = 'return_value', mapIndex = -1): Promise<unknown> {
  const row = await db
    .selectFrom('xcom')
    .select('value')
    .where('dag_id', '=', dagId)
    .where('run_id', '=', runId)
    .where('task_id', '=', taskId)
    .where('map_index', '=', mapIndex)
    .where('key', '=', key)
    .executeTakeFirst();
  return row ? JSON.parse(row.value) : undefined;
}

/** For each try: true when the DB says it is over (a final state, a later try, or no such task instance). */
export async function triesAreOver(db: { kysely: Kysely<Database> }, tries: { key: TIKey; tryNumber: number; launchId?: string | null }[]): Promise<boolean[]> {
  const rows = await readTries(db.kysely, tries.map((t) => t.key));
  return tries.map((t) => tryIsOver(rows.get(tiKeyString(t.key)), t.tryNumber, t.launchId));
}
