// Queue executor benchmarks on SQLite + the machine's Redis: no-op tasks/s end to end (scheduler →
// QueueExecutor → BullMQ → 2 `floe worker` processes → task runner → DB) against raw BullMQ add→complete
// jobs/s with 2 workers of the same concurrency on the same Redis, and task-to-task latency along a chain.
import { readdirSync, readFileSync } from 'node:fs';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { databaseUrl } from '../src/config/load.ts';
import { LocalExecutor } from '../src/executors/local/local-executor.ts';
import { Scheduler, schedulerOptions } from '../src/scheduler/scheduler.ts';
import { type Dialect, type FloeHarness, startFloe } from '../test/helpers/floe.ts';
import {
  deletePrefix, queueScheduler, REDIS_URL, redisAvailable, runFinished, startCliWorker, uniquePrefix, type WorkerProc, workerEnv,
} from '../test/queue/helpers.ts';
import { percentile } from './local-executor.ts';
import { chainDag, gc, independentDag, parseAll } from './scheduler.ts';
import type { BenchRow } from './types.ts';

const WORKERS = 2;
/** Tries at once per worker; the scheduler's parallelism covers both workers. */
const CONCURRENCY = 4;
const NOOP_TASKS = 1000;
const CHAIN = 30;
const RAW_JOBS = 2000;
const TARGET_RATIO = 0.5;
const RUN_TIMEOUT_MS = 180_000;
const GROUP = 'queue executor';

/** Raw BullMQ: `jobs` no-op jobs added in bulk, 2 in-process workers of CONCURRENCY each; jobs/s add → last completed. */
export async function rawBullmqRate(jobs: number): Promise<number> {
  const prefix = uniquePrefix('bench-raw');
  const connection = { url: REDIS_URL };
  const q = new Queue('raw', { connection, prefix });
  const events = new QueueEvents('raw', { connection, prefix });
  const workers = Array.from({ length: WORKERS }, () => new Worker('raw', async () => null, { connection, prefix, concurrency: CONCURRENCY }));
  try {
    await Promise.all([events.waitUntilReady(), ...workers.map((w) => w.waitUntilReady())]);
    let done = 0;
    const all = new Promise<void>((resolve) => events.on('completed', () => ++done === jobs && resolve()));
    const t0 = performance.now();
    for (let i = 0; i < jobs; i += 500) await q.addBulk(Array.from({ length: Math.min(500, jobs - i) }, (_, k) => ({ name: 'noop', data: { i: i + k } })));
    await all;
    return jobs / ((performance.now() - t0) / 1000);
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await events.close();
    await q.close();
    await deletePrefix(REDIS_URL, prefix);
  }
}

/** CPU seconds (user + system) of processes by role, from /proc: where a task's cost goes. Linux only; empty elsewhere. */
function cpuByRole(workerPids: number[]): Map<string, number> {
  const out = new Map<string, number>();
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  const stats = new Map<number, { ppid: number; comm: string; cpu: number }>();
  for (const e of entries) {
    try {
      const raw = readFileSync(`/proc/${e}/stat`, 'utf8');
      const comm = raw.slice(raw.indexOf('(') + 1, raw.lastIndexOf(')'));
      const f = raw.slice(raw.lastIndexOf(')') + 2).split(' ');
      stats.set(Number(e), { ppid: Number(f[1]), comm, cpu: (Number(f[11]) + Number(f[12])) / 100 });
    } catch {
      /* ended meanwhile */
    }
  }
  const add = (role: string, cpu: number) => out.set(role, (out.get(role) ?? 0) + cpu);
  for (const [pid, st] of stats) {
    if (pid === process.pid) add('scheduler', st.cpu);
    else if (workerPids.includes(pid)) add('workers', st.cpu);
    else if (workerPids.includes(st.ppid)) add('task processes', st.cpu);
    else if (st.comm === 'redis-server') add('redis', st.cpu);
  }
  return out;
}

/** Triggers `dagId` and runs the (started) scheduler until the run is over; checks every try succeeded on try 1. */
async function runToEnd(h: FloeHarness, scheduler: Scheduler, dagId: string): Promise<{ runId: string; ms: number }> {
  const runId = await h.trigger(dagId);
  gc();
  const t0 = performance.now();
  const deadline = Date.now() + RUN_TIMEOUT_MS;
  let timedOut = false;
  await scheduler.run(async () => (await runFinished(h, dagId, runId)) || (timedOut = Date.now() > deadline));
  const ms = performance.now() - t0;
  if (timedOut) throw new Error(`queue bench ${dagId}: not finished after ${RUN_TIMEOUT_MS / 1000}s`);
  const tis = await h.tis(dagId, runId);
  const bad = [...tis].filter(([, t]) => t.state !== 'success' || t.try_number !== 1);
  if (bad.length) throw new Error(`queue bench ${dagId}: ${bad.length} tasks not successful on try 1, e.g. ${bad.slice(0, 3).map(([id, t]) => `${id}=${t.state} (${t.reason})`).join(', ')}`);
  return { runId, ms };
}

/** Runs each DAG in turn with one scheduler session (started here, stopped after). */
async function runAll(h: FloeHarness, scheduler: Scheduler, dagIds: string[]): Promise<{ runId: string; ms: number }[]> {
  await scheduler.start();
  try {
    const out = [];
    for (const id of dagIds) out.push(await runToEnd(h, scheduler, id));
    return out;
  } finally {
    await scheduler.stop();
  }
}

/**
 * The same no-op tasks through the local executor with as many warm task processes as the workers have:
 * Floe's per-try work without Redis, BullMQ or a worker in between. queue/local shows what the queue path adds.
 */
async function localRate(h: FloeHarness): Promise<number> {
  const runner = { dbUrl: databaseUrl(h.rt.cfg), logsFolder: h.rt.cfg.logging.logsFolder!, heartbeatSeconds: h.rt.cfg.scheduler.taskHeartbeatInterval };
  let scheduler: Scheduler | null = null;
  const executor = new LocalExecutor({ parallelism: WORKERS * CONCURRENCY, isolate: false, runner }, { wake: () => scheduler?.wake() });
  scheduler = new Scheduler(schedulerOptions(h.rt, executor));
  const [, noop] = await runAll(h, scheduler, ['bench_q_warm', 'bench_q_noop']);
  return NOOP_TASKS / (noop.ms / 1000);
}

/** Upstream end_date → downstream start_date (claimed by its runner) along a chain run, in ms. */
async function chainGaps(h: FloeHarness, dagId: string, runId: string): Promise<number[]> {
  const rows = await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'start_date', 'end_date']).where('dag_id', '=', dagId).where('run_id', '=', runId).orderBy('task_id').execute();
  return rows.slice(1).map((r, i) => Date.parse(r.start_date!) - Date.parse(rows[i].end_date!));
}

/** The metadata DB of the run: SQLite (the embedded default), or PostgreSQL with FLOE_BENCH_DB=postgres. */
function benchDialect(): Dialect {
  const v = process.env.FLOE_BENCH_DB ?? 'sqlite';
  if (v !== 'sqlite' && v !== 'postgres') throw new Error(`FLOE_BENCH_DB: expected sqlite or postgres, got "${v}"`);
  return v;
}

export async function benchQueue(): Promise<BenchRow[]> {
  if (!(await redisAvailable())) throw new Error(`the queue benchmark needs Redis at ${REDIS_URL}`);
  const dialect = benchDialect();
  const h = await startFloe(dialect, { config: { core: { parallelism: WORKERS * CONCURRENCY * 2 }, scheduler: { loopInterval: 1 } } });
  const prefix = uniquePrefix('bench');
  const workers: WorkerProc[] = [];
  const rows: BenchRow[] = [];
  try {
    h.writeDag('warm.ts', independentDag('bench_q_warm', WORKERS * CONCURRENCY * 2, 1000));
    h.writeDag('noop.ts', independentDag('bench_q_noop', NOOP_TASKS, NOOP_TASKS));
    h.writeDag('chain.ts', chainDag('bench_q_chain', CHAIN, CHAIN, '({ ok: true })'));
    await parseAll(h);
    const env = workerEnv(h, { redisUrl: REDIS_URL, prefix });
    for (let i = 1; i <= WORKERS; i++) workers.push(startCliWorker(h, env, ['--queues', 'default', '--concurrency', String(CONCURRENCY), '--name', `bench${i}`], `bench-worker-${i}`));
    await Promise.all(workers.map((w) => w.waitFor(/floe worker/, 60_000)));
    // The first run starts every worker's warm task processes: reported on its own.
    const queueRun = async (dagId: string) => (await runAll(h, queueScheduler(h, { redisUrl: REDIS_URL, prefix }).scheduler, [dagId]))[0];
    const cold = await queueRun('bench_q_warm');
    const workerPids = workers.map((w) => w.pid);
    const cpu0 = cpuByRole(workerPids);
    const noop = await queueRun('bench_q_noop');
    const cpu1 = cpuByRole(workerPids);
    const perTask = [...cpu1].map(([role, s]) => `${role} ${(((s - (cpu0.get(role) ?? 0)) * 1000) / NOOP_TASKS).toFixed(2)}`).join(', ');
    const chain = await queueRun('bench_q_chain');
    const floeRate = NOOP_TASKS / (noop.ms / 1000);
    const rawRate = await rawBullmqRate(RAW_JOBS);
    const ratio = floeRate / rawRate;
    const local = await localRate(h);
    rows.push({
      group: GROUP,
      metric: `no-op tasks/s (${NOOP_TASKS} tasks, ${WORKERS} workers × concurrency ${CONCURRENCY})`,
      value: Number(floeRate.toFixed(1)),
      unit: 'tasks/s',
      baseline: { metric: `raw BullMQ add→complete (${RAW_JOBS} jobs, same workers/concurrency)`, value: Number(rawRate.toFixed(0)), unit: 'jobs/s' },
      ratio: Number(ratio.toFixed(3)),
      target: `ratio ≥ ${TARGET_RATIO}`,
      note: `ratio = Floe/raw; Floe includes the scheduler, DB writes and a task runner (warm process, DAG import cached) per try, on ${dialect}; CPU ms per task: ${perTask || 'n/a'}`,
    });
    rows.push({
      group: GROUP,
      metric: `the same tasks through the queue executor vs the local executor`,
      value: Number(floeRate.toFixed(1)),
      unit: 'tasks/s',
      baseline: { metric: `local executor, ${WORKERS * CONCURRENCY} warm task processes, same DB`, value: Number(local.toFixed(1)), unit: 'tasks/s' },
      ratio: Number((floeRate / local).toFixed(2)),
      note: 'what Redis, BullMQ and the workers add to the per-try work every executor does (ratio ≥ 1: nothing)',
    });
    rows.push({ group: GROUP, metric: `cold start: first run of ${WORKERS * CONCURRENCY * 2} no-op tasks`, value: Number((cold.ms / 1000).toFixed(2)), unit: 's', note: `includes starting ${WORKERS * CONCURRENCY} warm task processes` });
    const gaps = await chainGaps(h, 'bench_q_chain', chain.runId);
    rows.push(
      { group: GROUP, metric: `chain of ${CHAIN}: task-to-task latency p50`, value: percentile(gaps, 50), unit: 'ms', note: `upstream end_date → downstream start_date (the worker claimed it), ${gaps.length} gaps` },
      { group: GROUP, metric: `chain of ${CHAIN}: task-to-task latency p95`, value: percentile(gaps, 95), unit: 'ms' },
    );
  } finally {
    for (const w of workers) {
      w.child.kill('SIGTERM');
      await Promise.race([w.exited, new Promise((r) => setTimeout(r, 10_000))]);
      await w.kill();
    }
    await deletePrefix(REDIS_URL, prefix);
    await h.close();
  }
  return rows;
}
