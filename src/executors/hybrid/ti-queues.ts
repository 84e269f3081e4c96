// The task instances' `queue` column, read to route a dead scheduler's tries to the half that most likely has them.
import type { Db } from '../../db/connect.ts';
import { type TIKey, tiKeyString } from '../types.ts';

/** The `queue` of each key's task instance, in order (null: no such task instance). */
export async function tiQueues(db: Db, keys: readonly TIKey[]): Promise<(string | null)[]> {
  const found = new Map<string, string>();
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
        .select(['task_id', 'map_index', 'queue'])
        .where('dag_id', '=', part[0].dagId)
        .where('run_id', '=', part[0].runId)
        .where('task_id', 'in', [...new Set(part.map((k) => k.taskId))])
        .execute();
      for (const r of rows) found.set(tiKeyString({ dagId: part[0].dagId, runId: part[0].runId, taskId: r.task_id, mapIndex: r.map_index }), r.queue);
    }
  return keys.map((k) => found.get(tiKeyString(k)) ?? null);
}
