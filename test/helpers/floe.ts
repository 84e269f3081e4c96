// Test harness: a throwaway Floe (temp FLOE_HOME, DAG files written by the test, SQLite or a fresh
// PostgreSQL database) driven through the real DAG processor, scheduler and executor.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { type LoadedConfig, loadConfig } from '../../src/config/load.ts';
import { createScheduler, getDag, openRuntime, parseDags, type Runtime } from '../../src/cli/runtime.ts';
import { triggerRun } from '../../src/scheduler/dag-runs.ts';
import type { Scheduler } from '../../src/scheduler/scheduler.ts';

export type Dialect = 'sqlite' | 'postgres';
export const PG_ADMIN_URL = process.env.FLOE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let pgAvailable: boolean | null = null;
/** PostgreSQL is required in CI; elsewhere its tests are skipped with a visible message when it is down. */
export async function postgresAvailable(): Promise<boolean> {
  if (pgAvailable !== null) return pgAvailable;
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.end();
    pgAvailable = true;
  } catch (e) {
    if (process.env.CI) throw new Error(`PostgreSQL at ${PG_ADMIN_URL} is required in CI: ${(e as Error).message}`);
    console.warn(`# SKIPPING PostgreSQL tests: cannot connect to ${PG_ADMIN_URL} (${(e as Error).message})`);
    pgAvailable = false;
  }
  return pgAvailable;
}

export async function dialects(): Promise<Dialect[]> {
  return (await postgresAvailable()) ? ['sqlite', 'postgres'] : ['sqlite'];
}

async function createPgDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const name = `floe_t_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = PG_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    drop: async () => {
      const c = new pg.Client({ connectionString: PG_ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

export interface FloeHarness {
  home: string;
  dagsFolder: string;
  rt: Runtime;
  writeDag(name: string, source: string): string;
  parse(): ReturnType<typeof parseDags>;
  trigger(dagId: string, conf?: Record<string, unknown>): Promise<string>;
  /** Runs the scheduler (local executor unless given) until `done` or the timeout; returns the scheduler. */
  runUntil(done: () => Promise<boolean>, opts?: { timeoutMs?: number; executor?: string }): Promise<void>;
  runUntilRunsFinish(dagId: string, count?: number, timeoutMs?: number): Promise<void>;
  /** Runs the scheduler until the given run is success or failed. */
  runUntilRunDone(dagId: string, runId: string, timeoutMs?: number): Promise<void>;
  tis(dagId: string, runId: string): Promise<Map<string, { state: string; try_number: number; reason: string | null }>>;
  history(dagId: string, runId: string): Promise<{ task_id: string; try_number: number; state: string; reason: string | null }[]>;
  runs(dagId: string): Promise<{ run_id: string; state: string; logical_date: string; data_interval_start: string; data_interval_end: string }[]>;
  close(): Promise<void>;
}

export const SDK_IMPORT = `import { dag, task, shell, chain } from 'floe';`;

export async function startFloe(dialect: Dialect, opts: { config?: Record<string, Record<string, unknown>>; home?: string } = {}): Promise<FloeHarness> {
  const home = opts.home ?? mkdtempSync(path.join(tmpdir(), 'floe-test-'));
  const dagsFolder = path.join(home, 'dags');
  mkdirSync(dagsFolder, { recursive: true });
  const pgdb = dialect === 'postgres' ? await createPgDatabase() : null;
  const env: Record<string, string> = {
    FLOE_HOME: home,
    FLOE_DAGS_FOLDER: dagsFolder,
    FLOE__LOGGING__LEVEL: process.env.FLOE_TEST_LOG_LEVEL ?? 'silent',
    FLOE__CORE__PARALLELISM: '4',
    FLOE__SCHEDULER__LOOP_INTERVAL: '0.2',
  };
  for (const [section, values] of Object.entries(opts.config ?? {}))
    for (const [k, v] of Object.entries(values)) env[`FLOE__${section.toUpperCase()}__${k.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase()}`] = typeof v === 'string' ? v : JSON.stringify(v);
  if (pgdb) env.FLOE_DATABASE_URL = pgdb.url;
  const cfg: LoadedConfig = loadConfig({ env, cwd: home });
  const rt = await openRuntime({ cfg });
  let scheduler: Scheduler | null = null;
  const h: FloeHarness = {
    home,
    dagsFolder,
    rt,
    writeDag(name, source) {
      const file = path.join(dagsFolder, name);
      writeFileSync(file, source);
      return file;
    },
    parse: () => parseDags(rt),
    trigger: async (dagId, conf) => triggerRun(rt.db.kysely, await getDag(rt, dagId), { conf }),
    async runUntil(done, o = {}) {
      scheduler = await createScheduler(rt, o.executor ?? rt.cfg.core.executor);
      await scheduler.start();
      const deadline = Date.now() + (o.timeoutMs ?? 60_000);
      let timedOut = false;
      try {
        await scheduler.run(async () => {
          if (await done()) return true;
          if (Date.now() > deadline) return (timedOut = true);
          return false;
        });
      } finally {
        await scheduler.stop();
        scheduler = null;
      }
      if (timedOut) throw new Error(`runUntil: timed out after ${o.timeoutMs ?? 60_000} ms`);
    },
    async runUntilRunsFinish(dagId, count = 1, timeoutMs = 60_000) {
      await h.runUntil(async () => {
        const rows = await rt.db.kysely.selectFrom('dag_run').select('state').where('dag_id', '=', dagId).execute();
        return rows.filter((r) => r.state === 'success' || r.state === 'failed').length >= count;
      }, { timeoutMs });
    },
    async runUntilRunDone(dagId, runId, timeoutMs = 60_000) {
      await h.runUntil(async () => {
        const r = await rt.db.kysely.selectFrom('dag_run').select('state').where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirst();
        return r?.state === 'success' || r?.state === 'failed';
      }, { timeoutMs });
    },
    async tis(dagId, runId) {
      const rows = await rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'try_number', 'reason']).where('dag_id', '=', dagId).where('run_id', '=', runId).execute();
      return new Map(rows.map((r) => [r.task_id, r]));
    },
    history: (dagId, runId) =>
      rt.db.kysely
        .selectFrom('task_instance_history')
        .select(['task_id', 'try_number', 'state', 'reason'])
        .where('dag_id', '=', dagId)
        .where('run_id', '=', runId)
        .orderBy('task_id')
        .orderBy('try_number')
        .execute(),
    runs: (dagId) =>
      rt.db.kysely.selectFrom('dag_run').select(['run_id', 'state', 'logical_date', 'data_interval_start', 'data_interval_end']).where('dag_id', '=', dagId).orderBy('logical_date').execute(),
    async close() {
      await rt.close();
      await pgdb?.drop();
      rmSync(home, { recursive: true, force: true });
    },
  };
  return h;
}
