// Scheduler liveness from the `job` table: a scheduler is alive while it is running and has beaten within
// scheduler.healthCheckThreshold (the same rule other schedulers use to take over a dead one's work).
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';

/** Of the given scheduler job ids (as strings, e.g. from pod labels), those alive now; others, and non-ids, are not. */
export async function liveSchedulerIds(db: Kysely<Database>, ids: string[], healthCheckThresholdMs: number, now = new Date()): Promise<Set<string>> {
  const numeric = [...new Set(ids.filter((id) => /^\d+$/.test(id)).map(Number))];
  if (!numeric.length) return new Set();
  const since = new Date(now.getTime() - healthCheckThresholdMs).toISOString();
  const rows = await db.selectFrom('job').select('id').where('id', 'in', numeric).where('state', '=', 'running').where('latest_heartbeat', '>=', since).execute();
  return new Set(rows.map((r) => String(r.id)));
}
