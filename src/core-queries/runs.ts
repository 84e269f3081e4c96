// DAG runs: list, get, trigger. Shared by `floe dags list-runs|trigger` and the API.
import type { Kysely } from 'kysely';
import type { SerializedDag } from '../dag/model.ts';
import type { Database, DagRunTable } from '../db/schema.ts';
import { triggerRun } from '../scheduler/dag-runs.ts';
import { applyPage } from './dags.ts';
import { confProblem, runIdProblem } from '../dag/run-input.ts';
import { conflict, invalid } from './errors.ts';
import type { Page, Paged } from './page.ts';

type Db = Kysely<Database>;

export type DagRunRow = Omit<DagRunTable, 'id'> & { id: number };

export interface DagRunFilter extends Page {
  dagId?: string;
  /** Runs in any of these states. */
  states?: string[];
}

/** Latest logical date first (ties, across DAGs: by DAG id, then run id, so pages do not overlap). */
export async function listDagRuns(db: Db, f: DagRunFilter = {}): Promise<Paged<DagRunRow>> {
  let q = db.selectFrom('dag_run');
  if (f.dagId !== undefined) q = q.where('dag_id', '=', f.dagId);
  if (f.states?.length) q = q.where('state', 'in', f.states);
  const [rows, total] = await Promise.all([
    applyPage(q.selectAll().orderBy('logical_date', 'desc').orderBy('dag_id').orderBy('run_id'), f).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export async function getDagRun(db: Db, dagId: string, runId: string): Promise<DagRunRow | null> {
  return (await db.selectFrom('dag_run').selectAll().where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirst()) ?? null;
}

export async function dagHasRuns(db: Db, dagId: string): Promise<boolean> {
  return !!(await db.selectFrom('dag_run').select('id').where('dag_id', '=', dagId).limit(1).executeTakeFirst());
}

export interface TriggerOptions {
  conf?: Record<string, unknown>;
  logicalDate?: Date;
  runId?: string;
}

/**
 * A manual run in state queued (what `floe dags trigger` does); the scheduler starts it. A run with the same id
 * or logical date is a conflict.
 */
export async function triggerDagRun(db: Db, dag: SerializedDag, o: TriggerOptions): Promise<string> {
  const problem = (o.runId !== undefined ? runIdProblem(o.runId) : null) ?? (o.conf !== undefined ? confProblem(o.conf) : null);
  if (problem) throw invalid(problem);
  try {
    return await triggerRun(db, dag, { conf: o.conf, logicalDate: o.logicalDate, runId: o.runId });
  } catch (e) {
    // triggerRun's error for a taken id or date is a plain Error: tell it from a failing DB by looking.
    const taken =
      (o.runId || o.logicalDate) &&
      (await db
        .selectFrom('dag_run')
        .select('run_id')
        .where('dag_id', '=', dag.dagId)
        .where((eb) => eb.or([...(o.runId ? [eb('run_id', '=', o.runId)] : []), ...(o.logicalDate ? [eb('logical_date', '=', o.logicalDate.toISOString())] : [])]))
        .executeTakeFirst()
        .catch(() => undefined));
    if (taken) throw conflict((e as Error).message);
    throw e;
  }
}
