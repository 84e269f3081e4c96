// Shared pieces of the multi-scheduler tests: the DAG workload, `floe scheduler` child processes, the pool
// sampler and the task bodies' own execution log (what actually ran, independent of what the DB says).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import type { Db } from '../../src/db/connect.ts';
import { sleep } from '../../src/util/time.ts';
import { type FloeHarness, PG_ADMIN_URL, SDK_IMPORT } from '../helpers/floe.ts';

export const BIN = fileURLToPath(new URL('../../bin/floe.js', import.meta.url));
const ORPHAN_GUARD = new URL('./orphan-guard.mjs', import.meta.url).href;

/** Pools besides default_pool; small enough that 3 schedulers × their executors contend for them. */
export const POOLS = [
  { name: 'tiny', slots: 2 },
  { name: 'small', slots: 3 },
] as const;

/** Task j of every DAG: which pool, how many slots. */
export function poolOfTask(j: number): { pool: string; poolSlots: number } {
  if (j % 10 === 0) return { pool: 'tiny', poolSlots: 1 };
  if (j % 10 === 3) return { pool: 'small', poolSlots: 2 };
  if (j % 10 === 6) return { pool: 'small', poolSlots: 1 };
  return { pool: 'default_pool', poolSlots: 1 };
}

/** Every third DAG caps its running tasks, so maxActiveTasks is contended across schedulers too. */
export const maxActiveTasksOf = (i: number): number => (i % 3 === 0 ? 3 : 16);

export const dagIdOf = (i: number): string => `ms_${String(i).padStart(2, '0')}`;
export const taskIdOf = (j: number): string => `t${String(j).padStart(2, '0')}`;

/**
 * DAG files holding DAGs `from`…`to - 1` of `tasks` tasks each (several DAGs per file, as generated DAGs
 * are written: fewer files keep parsing and each warm runner's imports cheap). Every DAG is scheduled
 * `@once` in the past, so every scheduler tries to create its one run. Shapes rotate: independent tasks,
 * a 4-level fan-out/fan-in, two chains. Each body appends `S|E dag run task try pid ppid epochMs` lines to
 * $FLOE_TEST_EXEC_LOG (short O_APPEND writes do not interleave).
 */
export function dagFileSource(from: number, to: number, tasks: number, retries: number): string {
  const dags: string[] = [];
  for (let i = from; i < to; i++) {
    const shape = i % 3;
    const lines: string[] = [];
    for (let j = 0; j < tasks; j++) {
      const { pool, poolSlots } = poolOfTask(j);
      lines.push(`  const ${taskIdOf(j)} = task({ taskId: '${taskIdOf(j)}', pool: '${pool}', poolSlots: ${poolSlots}, retries: ${retries} }, body(${5 + ((i * 7 + j * 13) % 30)}))();`);
    }
    if (shape === 1) {
      // t00 → t01..t09 → t10..t18 (each after one of the level before) → t19
      for (let j = 1; j < tasks; j++) {
        if (j < 10) lines.push(`  ${taskIdOf(j)}.after(${taskIdOf(0)});`);
        else if (j < tasks - 1) lines.push(`  ${taskIdOf(j)}.after(${taskIdOf(1 + (j % 9))});`);
        else lines.push(`  ${taskIdOf(j)}.after(${Array.from({ length: tasks - 11 }, (_, k) => taskIdOf(10 + k)).join(', ')});`);
      }
    } else if (shape === 2) {
      for (let j = 2; j < tasks; j++) lines.push(`  ${taskIdOf(j)}.after(${taskIdOf(j - 2)});`);
    }
    dags.push(`dag({ dagId: '${dagIdOf(i)}', schedule: '@once', startDate: '2024-01-01', maxActiveTasks: ${maxActiveTasksOf(i)}, defaultArgs: { retryDelay: 0.1 } }, () => {
${lines.join('\n')}
});`);
  }
  return `${SDK_IMPORT}
import { appendFileSync } from 'node:fs';
const body = (ms) => async (ctx) => {
  const mark = (what) => appendFileSync(process.env.FLOE_TEST_EXEC_LOG, [what, ctx.dagId, ctx.runId, ctx.taskId, ctx.tryNumber, process.pid, process.ppid, Date.now()].join(' ') + '\\n');
  mark('S');
  // Manual runs (the SIGKILL phase) run longer, so a kill finds tries in flight.
  await new Promise((r) => setTimeout(r, ms + (ctx.runId.startsWith('manual__') ? 150 : 0)));
  mark('E');
  return null;
};
${dags.join('\n')}
`;
}

/** Writes `dags` DAGs into files of `perFile` DAGs each. */
export function writeDagFiles(write: (name: string, source: string) => unknown, dags: number, perFile: number, tasks: number, retries: number): void {
  for (let from = 0; from < dags; from += perFile) write(`dags_${String(from).padStart(2, '0')}.ts`, dagFileSource(from, Math.min(dags, from + perFile), tasks, retries));
}

export interface Execution {
  dagId: string;
  runId: string;
  taskId: string;
  tryNumber: number;
  pid: number;
  ppid: number;
  start: number;
  end: number | null;
}

/** Pairs the S/E lines of the execution log into executions (one per task body started). */
export function readExecutions(file: string): Execution[] {
  if (!existsSync(file)) return [];
  const open = new Map<string, Execution>();
  const out: Execution[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const [what, dagId, runId, taskId, tryNumber, pid, ppid, ms] = line.split(' ');
    const key = `${dagId} ${runId} ${taskId} ${tryNumber} ${pid}`;
    if (what === 'S') {
      const e: Execution = { dagId, runId, taskId, tryNumber: Number(tryNumber), pid: Number(pid), ppid: Number(ppid), start: Number(ms), end: null };
      open.set(key, e);
      out.push(e);
    } else {
      const e = open.get(key);
      if (!e) throw new Error(`execution log: end without start: ${line}`);
      e.end = Number(ms);
      open.delete(key);
    }
  }
  return out;
}

export { groupBy } from '../../src/util/collections.ts';

/** Highest number of intervals open at once; an interval ending at t does not overlap one starting at t. */
export function peakOverlap(intervals: { start: number; end: number; weight: number }[]): number {
  const events = intervals.flatMap((i) => [
    [i.start, i.weight],
    [i.end, -i.weight],
  ]);
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let cur = 0;
  let peak = 0;
  for (const [, d] of events) peak = Math.max(peak, (cur += d));
  return peak;
}

export interface SchedulerProc {
  n: number;
  pid: number;
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  logFile: string;
}

/** `node bin/floe.js scheduler` processes sharing one environment (one DB); each logs to its own file. */
export class SchedulerFleet {
  readonly all: SchedulerProc[] = [];

  constructor(
    private readonly home: string,
    private readonly env: Record<string, string>,
  ) {}

  start(): SchedulerProc {
    const n = this.all.length + 1;
    const logFile = path.join(this.home, `scheduler-${n}.log`);
    const fd = openSync(logFile, 'a');
    // Own process group, so cleanup can end the scheduler and its runner processes together.
    const child = spawn(process.execPath, ['--import', ORPHAN_GUARD, BIN, 'scheduler'], { cwd: this.home, env: { ...process.env, FLOE_CONFIG: '', ...this.env }, stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    const p: SchedulerProc = { n, pid: child.pid!, child, exited, logFile };
    this.all.push(p);
    return p;
  }

  alive(): SchedulerProc[] {
    return this.all.filter((p) => p.child.exitCode === null && p.child.signalCode === null);
  }

  /** SIGTERM (graceful stop), then SIGKILL of whole process groups that are still there. */
  async stopAll(graceMs = 15_000): Promise<void> {
    for (const p of this.alive()) p.child.kill('SIGTERM');
    await Promise.race([Promise.all(this.all.map((p) => p.exited)), sleep(graceMs)]);
    for (const p of this.all) {
      try {
        process.kill(-p.pid, 'SIGKILL');
      } catch {
        /* group gone */
      }
    }
    await Promise.all(this.all.map((p) => p.exited));
  }

  logs(): string {
    return this.all.map((p) => `--- scheduler ${p.n} (pid ${p.pid}) ---\n${existsSync(p.logFile) ? readFileSync(p.logFile, 'utf8').slice(-4000) : ''}`).join('\n');
  }
}

/** Samples, in one statement each time, the slots held per pool and the active tries per DAG. */
export class UsageSampler {
  readonly poolPeak = new Map<string, number>();
  readonly dagPeak = new Map<string, number>();
  samples = 0;
  private stopped = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly db: Db) {}

  start(intervalMs = 25): this {
    this.loop = (async () => {
      while (!this.stopped) {
        const rows = await this.db.kysely
          .selectFrom('task_instance')
          .select(['pool', 'dag_id', (eb) => eb.fn.sum<number>('pool_slots').as('slots'), (eb) => eb.fn.countAll<number>().as('n')])
          .where('state', 'in', ['queued', 'running'])
          .groupBy(['pool', 'dag_id'])
          .execute();
        const pools = new Map<string, number>();
        const dags = new Map<string, number>();
        for (const r of rows) {
          pools.set(r.pool, (pools.get(r.pool) ?? 0) + Number(r.slots));
          dags.set(r.dag_id, (dags.get(r.dag_id) ?? 0) + Number(r.n));
        }
        for (const [k, v] of pools) this.poolPeak.set(k, Math.max(this.poolPeak.get(k) ?? 0, v));
        for (const [k, v] of dags) this.dagPeak.set(k, Math.max(this.dagPeak.get(k) ?? 0, v));
        this.samples++;
        await sleep(intervalMs);
      }
    })();
    return this;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
  }
}

/** Polls `check` until it returns true; throws with `what()` (e.g. scheduler logs) after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: () => string, everyMs = 200): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s: ${what()}`);
    await sleep(everyMs);
  }
}

/**
 * Closes `dbs` and the harness. pg's Pool.end() resolves before its sockets are closed, and the harness then
 * drops the database WITH (FORCE): a backend killed while its client is still closing makes the pool emit an
 * unhandled 'error' (a crashed test file). So: close every pool, wait until PostgreSQL has seen the
 * connections go, then let the harness drop the database.
 */
export async function closeHarness(h: FloeHarness | undefined, dbs: Db[] = []): Promise<void> {
  if (!h) return;
  for (const db of dbs) await db.close();
  await h.rt.db.close();
  if (h.rt.db.dialect === 'postgres') {
    const name = new URL(h.rt.db.url).pathname.slice(1);
    const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
    await admin.connect();
    try {
      for (let i = 0; i < 100; i++) {
        const r = await admin.query('select count(*)::int as n from pg_stat_activity where datname = $1', [name]);
        if (r.rows[0].n === 0) break;
        await sleep(20);
      }
    } finally {
      await admin.end();
    }
  }
  await h.close();
}
