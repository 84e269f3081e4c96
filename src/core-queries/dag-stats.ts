// What the DAGs list shows beside each DAG: the states of its latest runs and when its next scheduled run is due.
import type { Kysely } from 'kysely';
import type { SerializedDag } from '../dag/model.ts';
import type { Database } from '../db/schema.ts';
import { DAG_RUN_STATES, type DagRunState } from '../scheduler/states.ts';
import { makeTimetable } from '../dag/timetable.ts';

type Db = Kysely<Database>;

export interface DagStats {
  dagId: string;
  /** Counts by state over the DAG's latest `recent` runs (by logical date). */
  recentRuns: Record<DagRunState, number>;
  lastRun: { runId: string; state: string; logicalDate: string } | null;
  /** The next scheduled run the timetable will create: its logical date and when it is due (null: none). */
  nextRun: { logicalDate: string; dataIntervalStart: string; dataIntervalEnd: string } | null;
}

export async function dagStats(db: Db, dags: SerializedDag[], recent: number, now: Date): Promise<DagStats[]> {
  return Promise.all(
    dags.map(async (dag) => {
      const runs = await db.selectFrom('dag_run').select(['run_id', 'state', 'logical_date']).where('dag_id', '=', dag.dagId).orderBy('logical_date', 'desc').limit(recent).execute();
      const recentRuns = Object.fromEntries(DAG_RUN_STATES.map((s) => [s, 0])) as Record<DagRunState, number>;
      for (const r of runs) if (r.state in recentRuns) recentRuns[r.state as DagRunState]++;
      return { dagId: dag.dagId, recentRuns, lastRun: runs[0] ? { runId: runs[0].run_id, state: runs[0].state, logicalDate: runs[0].logical_date } : null, nextRun: await nextRun(db, dag, now) };
    }),
  );
}

/** The next `count` scheduled runs the timetable will create after the DAG's latest scheduled run (`floe dags next-run`). */
export async function upcomingRuns(db: Db, dag: SerializedDag, now: Date, count: number): Promise<NonNullable<DagStats['nextRun']>[]> {
  const out: NonNullable<DagStats['nextRun']>[] = [];
  let next = await nextRun(db, dag, now);
  while (next && out.length < count) {
    out.push(next);
    const info = makeTimetable(dag.schedule!, dag.timezone).upcomingDagRunInfo({
      lastInterval: { start: new Date(next.dataIntervalStart), end: new Date(next.dataIntervalEnd) },
      startDate: dag.startDate ? new Date(dag.startDate) : null,
      endDate: dag.endDate ? new Date(dag.endDate) : null,
      catchup: true,
      now,
    });
    next = info ? { logicalDate: info.logicalDate.toISOString(), dataIntervalStart: info.dataInterval.start.toISOString(), dataIntervalEnd: info.dataInterval.end.toISOString() } : null;
  }
  return out;
}

async function nextRun(db: Db, dag: SerializedDag, now: Date): Promise<DagStats['nextRun']> {
  if (dag.schedule === null) return null;
  const last = await db
    .selectFrom('dag_run')
    .select(['data_interval_start', 'data_interval_end'])
    .where('dag_id', '=', dag.dagId)
    .where('run_type', '=', 'scheduled')
    .orderBy('logical_date', 'desc')
    .limit(1)
    .executeTakeFirst();
  try {
    const info = makeTimetable(dag.schedule, dag.timezone).upcomingDagRunInfo({
      lastInterval: last ? { start: new Date(last.data_interval_start), end: new Date(last.data_interval_end) } : null,
      startDate: dag.startDate ? new Date(dag.startDate) : null,
      endDate: dag.endDate ? new Date(dag.endDate) : null,
      catchup: dag.catchup,
      now,
    });
    return info ? { logicalDate: info.logicalDate.toISOString(), dataIntervalStart: info.dataInterval.start.toISOString(), dataIntervalEnd: info.dataInterval.end.toISOString() } : null;
  } catch {
    // A schedule the parser accepted but the timetable cannot follow is the scheduler's to report.
    return null;
  }
}
