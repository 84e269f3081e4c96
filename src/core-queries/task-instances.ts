// Task instances of a DAG run and the history of their tries, launch failures included. Shared by
// `floe tasks states-for-dag-run|history` and the API.
import type { Kysely } from 'kysely';
import type { Database, TaskInstanceTable } from '../db/schema.ts';
import { applyPage } from './dags.ts';
import type { Page, Paged } from './page.ts';

type Db = Kysely<Database>;

export async function taskInstancesOfRun(db: Db, dagId: string, runId: string, page: Page = {}): Promise<Paged<TaskInstanceTable>> {
  const q = db.selectFrom('task_instance').where('dag_id', '=', dagId).where('run_id', '=', runId);
  const [rows, total] = await Promise.all([
    applyPage(q.selectAll().orderBy('task_id').orderBy('map_index'), page).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export async function getTaskInstance(db: Db, dagId: string, runId: string, taskId: string, mapIndex = -1): Promise<TaskInstanceTable | null> {
  return (await db.selectFrom('task_instance').selectAll().where('dag_id', '=', dagId).where('run_id', '=', runId).where('task_id', '=', taskId).where('map_index', '=', mapIndex).executeTakeFirst()) ?? null;
}

export interface TryHistoryRow {
  task_id: string;
  map_index: number;
  try_number: number;
  /** The try's final state, or `launch_failed` for a launch of it whose runner never started. */
  state: string;
  start_date: string | null;
  end_date: string | null;
  hostname: string | null;
  /** The executor's handle of the try or launch: `namespace/pod/uid` for a pod, `pid:N`, a queue job id. */
  external_executor_id: string | null;
  reason: string | null;
}

/**
 * Every finished try of the run's tasks (or of one task), oldest first per task, with the launch failures of a
 * try before the row that ended it. Tries still running are not in the history yet.
 */
export async function tryHistory(db: Db, dagId: string, runId: string, only?: { taskId: string; mapIndex: number }): Promise<TryHistoryRow[]> {
  let tq = db
    .selectFrom('task_instance_history')
    .select(['task_id', 'map_index', 'try_number', 'state', 'start_date', 'end_date', 'hostname', 'external_executor_id', 'reason'])
    .where('dag_id', '=', dagId)
    .where('run_id', '=', runId);
  let lq = db
    .selectFrom('task_launch_failure')
    .select(['task_id', 'map_index', 'try_number', 'recorded_at', 'external_executor_id', 'reason'])
    .where('dag_id', '=', dagId)
    .where('run_id', '=', runId);
  if (only) {
    tq = tq.where('task_id', '=', only.taskId).where('map_index', '=', only.mapIndex);
    lq = lq.where('task_id', '=', only.taskId).where('map_index', '=', only.mapIndex);
  }
  const [tries, launches] = await Promise.all([tq.execute(), lq.execute()]);
  const rows = [
    ...tries.map((t) => ({ row: t as TryHistoryRow, at: t.end_date ?? '' })),
    ...launches.map((l) => ({
      row: { task_id: l.task_id, map_index: l.map_index, try_number: l.try_number, state: 'launch_failed', start_date: null, end_date: l.recorded_at, hostname: null, external_executor_id: l.external_executor_id, reason: l.reason },
      at: l.recorded_at,
    })),
  ];
  const launchFirst = (s: string) => Number(s !== 'launch_failed');
  // Launch failures of a try come before the row that ended it (same millisecond included).
  rows.sort((a, b) => a.row.task_id.localeCompare(b.row.task_id) || a.row.map_index - b.row.map_index || a.row.try_number - b.row.try_number || launchFirst(a.row.state) - launchFirst(b.row.state) || a.at.localeCompare(b.at));
  return rows.map((r) => r.row);
}
