// DAGs, their import errors and the paused flag, as stored by the DAG processor: shared by `floe dags …` and the API.
import type { Kysely, SelectQueryBuilder } from 'kysely';
import type { SerializedDag } from '../dag/model.ts';
import type { Database, ImportErrorTable } from '../db/schema.ts';
import type { Page, Paged } from './page.ts';

type Db = Kysely<Database>;

/** Applies limit/offset (SQLite needs a LIMIT before an OFFSET). */
export function applyPage<DB, TB extends keyof DB, O>(q: SelectQueryBuilder<DB, TB, O>, page: Page): SelectQueryBuilder<DB, TB, O> {
  if (page.limit !== undefined) q = q.limit(page.limit);
  else if (page.offset) q = q.limit(Number.MAX_SAFE_INTEGER);
  if (page.offset) q = q.offset(page.offset);
  return q;
}

export interface DagRecord {
  dagId: string;
  fileloc: string;
  isPaused: boolean;
  /** False once its file is gone or no longer defines it. */
  isActive: boolean;
  lastParsed: string;
  /** Some import error of kind `error` names this DAG or its file (a failed re-parse keeps the last good version). */
  hasImportErrors: boolean;
  dag: SerializedDag;
}

export interface DagFilter extends Page {
  /** Only active DAGs (default true). */
  onlyActive?: boolean;
  paused?: boolean;
  /** Only DAGs whose id starts with this. */
  dagIdPrefix?: string;
}

export async function listDags(db: Db, f: DagFilter = {}): Promise<Paged<DagRecord>> {
  let q = db.selectFrom('dag');
  if (f.onlyActive ?? true) q = q.where('is_active', '=', 1);
  if (f.paused !== undefined) q = q.where('is_paused', '=', f.paused ? 1 : 0);
  if (f.dagIdPrefix) q = q.where('dag_id', '>=', f.dagIdPrefix).where('dag_id', '<', `${f.dagIdPrefix}\uffff`);
  const [rows, total] = await Promise.all([
    applyPage(q.select(['dag_id', 'fileloc', 'is_paused', 'is_active', 'last_parsed', 'serialized']).orderBy('dag_id'), f).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: await withImportErrors(db, rows), total: Number(total.n) };
}

export async function findDag(db: Db, dagId: string): Promise<DagRecord | null> {
  const row = await db.selectFrom('dag').select(['dag_id', 'fileloc', 'is_paused', 'is_active', 'last_parsed', 'serialized']).where('dag_id', '=', dagId).executeTakeFirst();
  return row ? (await withImportErrors(db, [row]))[0] : null;
}

/** The import error naming a DAG that is not stored (a cycle, a bad option): it says why the DAG is missing. */
export async function importErrorNaming(db: Db, dagId: string): Promise<{ fileloc: string; message: string } | null> {
  return (await db.selectFrom('import_error').select(['fileloc', 'message']).where('dag_id', '=', dagId).where('kind', '=', 'error').executeTakeFirst()) ?? null;
}

type DagRow = { dag_id: string; fileloc: string; is_paused: number; is_active: number; last_parsed: string; serialized: string };

async function withImportErrors(db: Db, rows: DagRow[]): Promise<DagRecord[]> {
  const errs = rows.length
    ? await db
        .selectFrom('import_error')
        .select(['fileloc', 'dag_id'])
        .where('kind', '=', 'error')
        .where((eb) => eb.or([eb('fileloc', 'in', [...new Set(rows.map((r) => r.fileloc))]), eb('dag_id', 'in', rows.map((r) => r.dag_id))]))
        .execute()
    : [];
  const files = new Set(errs.map((e) => e.fileloc));
  const dags = new Set(errs.map((e) => e.dag_id));
  return rows.map((r) => ({
    dagId: r.dag_id,
    fileloc: r.fileloc,
    isPaused: r.is_paused === 1,
    isActive: r.is_active === 1,
    lastParsed: r.last_parsed,
    hasImportErrors: files.has(r.fileloc) || dags.has(r.dag_id),
    dag: JSON.parse(r.serialized) as SerializedDag,
  }));
}

/** Sets the paused flag; false when there is no such DAG. */
export async function setDagPaused(db: Db, dagId: string, paused: boolean): Promise<boolean> {
  const r = await db.updateTable('dag').set({ is_paused: paused ? 1 : 0 }).where('dag_id', '=', dagId).executeTakeFirst();
  return Number(r.numUpdatedRows) === 1;
}

export type ImportErrorRow = Omit<ImportErrorTable, 'id'> & { id: number };

export interface ImportErrorFilter extends Page {
  /** `error` (default), `warning`, or both. */
  kinds?: ('error' | 'warning')[];
  fileloc?: string;
}

/** Import errors by file, in the order the processor found them. */
export async function listImportErrors(db: Db, f: ImportErrorFilter = {}): Promise<Paged<ImportErrorRow>> {
  let q = db.selectFrom('import_error');
  q = q.where('kind', 'in', f.kinds ?? ['error']);
  if (f.fileloc) q = q.where('fileloc', '=', f.fileloc);
  const [rows, total] = await Promise.all([
    applyPage(q.selectAll().orderBy('fileloc').orderBy('id'), f).execute(),
    q.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}
