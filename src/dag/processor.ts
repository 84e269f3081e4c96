// The DAG processor: finds DAG files, parses them in a child process, stores serialized DAGs and import errors.
import { createHash } from 'node:crypto';
import { readdirSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Db } from '../db/connect.ts';
import { nowIso } from '../util/time.ts';
import type { SerializedDag } from './model.ts';
import { parseDagFiles } from './parse-files.ts';
import type { TaskSiteRequest } from './parse-protocol.ts';
import type { DagProblem, SerializeDefaults } from './serialize.ts';

/** Extra per-DAG checks (e.g. Kubernetes pod validation) run in the processor after parsing. */
export type DagCheck = (dag: SerializedDag) => Promise<{ errors: DagProblem[]; warnings: DagProblem[] }>;

export function discoverDagFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith('.') || e.name === 'node_modules') continue;
      const full = path.join(dir, e.name);
      if (e.isDirectory()) walk(full);
      else if (/\.(ts|js|mts|mjs)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(full);
    }
  };
  walk(folder);
  return out.sort();
}

export interface ProcessResult {
  dags: SerializedDag[];
  errors: { fileloc: string; message: string; at: string | null }[];
  warnings: number;
}

function lineOf(at: string | null): number | null {
  const m = at ? /:(\d+)$/.exec(at) : null;
  return m ? Number(m[1]) : null;
}

export interface ProcessOptions {
  dagsFolder: string;
  timeoutMs: number;
  defaults: SerializeDefaults;
  check?: DagCheck;
  /** Only these files (default: every file in the folder). */
  files?: string[];
  /** A parser process started ahead (startDagParser), used for the first file. */
  parser?: Promise<ChildProcess>;
}

/** Parses every DAG file and makes the DB match: DAGs upserted, vanished ones deactivated, errors replaced. */
export async function processDagFolder(db: Db, opts: ProcessOptions): Promise<ProcessResult> {
  const files = opts.files ?? discoverDagFiles(opts.dagsFolder);
  const results = await parseDagFiles(files, { timeoutMs: opts.timeoutMs, defaults: opts.defaults, parser: opts.parser });
  const seen = new Map<string, string>();
  const good: SerializedDag[] = [];
  const problemRows: ProblemRow[] = [];
  for (const r of results) {
    for (const p of r.problems) problemRows.push({ fileloc: r.file, kind: 'error', p });
    for (const dag of r.dags) {
      const other = seen.get(dag.dagId);
      if (other) {
        problemRows.push({ fileloc: r.file, kind: 'error', p: { dagId: dag.dagId, taskId: null, at: null, message: `duplicate dagId "${dag.dagId}": also defined in ${other}` } });
        continue;
      }
      if (opts.check) {
        const c = await opts.check(dag);
        for (const w of c.warnings) problemRows.push({ fileloc: r.file, kind: 'warning', p: w, fromCheck: true });
        if (c.errors.length) {
          for (const e of c.errors) problemRows.push({ fileloc: r.file, kind: 'error', p: e, fromCheck: true });
          continue;
        }
      }
      seen.set(dag.dagId, r.file);
      good.push(dag);
    }
  }
  await locateCheckProblems(problemRows, opts);
  const now = nowIso();
  await db.kysely.transaction().execute(async (trx) => {
    if (files.length) await trx.deleteFrom('import_error').where('fileloc', 'in', files).execute();
    if (!opts.files) await trx.deleteFrom('import_error').execute();
    for (const row of problemRows)
      await trx
        .insertInto('import_error')
        .values({ fileloc: row.fileloc, kind: row.kind, dag_id: row.p.dagId, task_id: row.p.taskId, line: lineOf(row.p.at), message: row.p.message, timestamp: now })
        .execute();
    for (const dag of good) {
      const serialized = JSON.stringify(dag);
      const hash = createHash('sha256').update(serialized).digest('hex').slice(0, 16);
      await trx
        .insertInto('dag')
        .values({ dag_id: dag.dagId, fileloc: dag.fileloc, serialized, hash, is_paused: 0, is_active: 1, last_parsed: now })
        .onConflict((oc) => oc.column('dag_id').doUpdateSet({ fileloc: dag.fileloc, serialized, hash, is_active: 1, last_parsed: now }))
        .execute();
    }
    // A DAG whose file vanished, or whose file now fails to import, stops being scheduled.
    if (!opts.files) {
      const keep = good.map((d) => d.dagId);
      let q = trx.updateTable('dag').set({ is_active: 0 });
      if (keep.length) q = q.where('dag_id', 'not in', keep);
      await q.execute();
    } else if (files.length) {
      const keep = good.map((d) => d.dagId);
      let q = trx.updateTable('dag').set({ is_active: 0 }).where('fileloc', 'in', files);
      if (keep.length) q = q.where('dag_id', 'not in', keep);
      await q.execute();
    }
  });
  return {
    dags: good,
    errors: problemRows.filter((r) => r.kind === 'error').map((r) => ({ fileloc: r.fileloc, message: r.p.message, at: r.p.at })),
    warnings: problemRows.filter((r) => r.kind === 'warning').length,
  };
}

interface ProblemRow {
  fileloc: string;
  kind: 'error' | 'warning';
  p: DagProblem;
  /** Found by `check` on the serialized DAG (which carries no source lines). */
  fromCheck?: boolean;
}

/**
 * Gives check problems about a task (a bad executorConfig) the line where the task is declared. Serialized
 * DAGs carry no lines and formatting every task's site would slow every parse, so the files concerned are
 * imported once more, asking for those tasks' sites: a cost paid only while such problems exist.
 */
async function locateCheckProblems(rows: ProblemRow[], opts: ProcessOptions): Promise<void> {
  const pending = rows.filter((r) => r.fromCheck && r.p.dagId !== null && r.p.taskId !== null && r.p.at === null);
  if (!pending.length) return;
  const wanted = new Map<string, TaskSiteRequest[]>();
  for (const r of pending) {
    const list = wanted.get(r.fileloc) ?? [];
    if (!list.some((t) => t.dagId === r.p.dagId && t.taskId === r.p.taskId)) list.push({ dagId: r.p.dagId!, taskId: r.p.taskId! });
    wanted.set(r.fileloc, list);
  }
  const results = await parseDagFiles([...wanted.keys()], { timeoutMs: opts.timeoutMs, defaults: opts.defaults, sitesOf: wanted });
  const sites = new Map<string, string | null>();
  for (const res of results) for (const s of res.sites ?? []) sites.set(`${res.file}\0${s.dagId}\0${s.taskId}`, s.at);
  for (const r of pending) {
    const at = sites.get(`${r.fileloc}\0${r.p.dagId}\0${r.p.taskId}`) ?? null;
    // A task declared by a helper module has its site there: no line of this file to show.
    if (at && sameFile(at.slice(0, at.lastIndexOf(':')), r.fileloc)) r.p = { ...r.p, at };
  }
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

/** mtime signature of the folder, to re-parse only when something changed. */
export function folderSignature(folder: string): string {
  return discoverDagFiles(folder)
    .map((f) => `${f}:${statSync(f).mtimeMs}`)
    .join('|');
}
