// The executor's read-only view of task-instance rows: is a try it tracks over? The DB is the truth for
// that; Redis only knows about jobs, which can be lost, redelivered or refused.
import type { Db } from '../../db/connect.ts';
import { type TIKey, tiKeyString } from '../types.ts';

export interface TryRow {
  state: string;
  try_number: number;
  /** The task instance's queue (read where routing needs it). */
  queue?: string;
}

/** Rows of the given task instances, by `tiKeyString`; missing rows are absent. */
export async function fetchTries(db: Db, keys: TIKey[]): Promise<Map<string, TryRow>> {
  const out = new Map<string, TryRow>();
  const byRun = new Map<string, TIKey[]>();
  for (const k of keys) {
    const run = `${k.dagId}\u0000${k.runId}`;
    byRun.set(run, [...(byRun.get(run) ?? []), k]);
  }
  for (const group of byRun.values())
    for (let i = 0; i < group.length; i += 500) {
      const part = group.slice(i, i + 500);
      const rows = await db.kysely
        .selectFrom('task_instance')
        .select(['task_id', 'map_index', 'state', 'try_number', 'queue'])
        .where('dag_id', '=', part[0].dagId)
        .where('run_id', '=', part[0].runId)
        .where('task_id', 'in', [...new Set(part.map((k) => k.taskId))])
        .execute();
      for (const r of rows) out.set(tiKeyString({ dagId: part[0].dagId, runId: part[0].runId, taskId: r.task_id, mapIndex: r.map_index }), { state: r.state, try_number: r.try_number, queue: r.queue });
    }
  return out;
}

/** A try is over once its row moved past it (another try, or a state other than queued/running). */
export function tryIsOver(row: TryRow | undefined, tryNumber: number): boolean {
  return !row || row.try_number !== tryNumber || (row.state !== 'queued' && row.state !== 'running');
}
