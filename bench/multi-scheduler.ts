// Several schedulers on one database: task instances scheduled per second with 1, 2 and 3 schedulers on
// PostgreSQL, and 1 on SQLite, each scheduler in its own process (as deployed) with the instant executor
// (bench/instant-executor.ts: claim + finish in the DB, no task process), so the figure is the schedulers'
// own throughput. Each figure is the median of REPEATS runs on a fresh database.
//
// Method: the parent writes the DAGs, parses them and triggers one run of each (queued, nothing running),
// forks the scheduler processes, waits until each has started (job row, executor), then says "go" to all
// at once and times until every run has finished; then it checks every task instance succeeded on try 1.
import { type ChildProcess, fork } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pino from 'pino';
import { openDb } from '../src/db/connect.ts';
import { Scheduler } from '../src/scheduler/scheduler.ts';
import { tsxExecArgv } from '../test/helpers/tsx.ts';
import { type Dialect, postgresAvailable, SDK_IMPORT, startFloe } from '../test/helpers/floe.ts';
import { closeHarness } from '../test/multi-scheduler/helpers.ts';
import { InstantExecutor } from './instant-executor.ts';
import { parseAll } from './scheduler.ts';
import type { BenchRow } from './types.ts';

const DAGS = 20;
/** Tasks per DAG: a root, then this many leaves after it (a dependency step plus wide queueing). */
const LEAVES = 99;
/** Instant-executor slots per scheduler and each DAG's maxActiveTasks (the defaults' order of size). */
const SLOTS = 128;
/** scheduler.loopInterval default: a scheduler sleeps this long when its own executor reports nothing. */
const LOOP_INTERVAL_MS = 1000;
const REPEATS = 3;
const RUN_TIMEOUT_MS = 120_000;
const CHILD_ENV = 'FLOE_BENCH_MULTI_SCHEDULER_CHILD';

interface ChildSettings {
  dbUrl: string;
}
type ToChild = { type: 'go' } | { type: 'stop' };
type FromChild = { type: 'ready'; jobId: number } | { type: 'stopped'; received: number; cpuMs: number };

const dagFile = (): string => `${SDK_IMPORT}
for (let d = 0; d < ${DAGS}; d++)
  dag({ dagId: 'bench_ms_' + String(d).padStart(2, '0'), schedule: null, maxActiveTasks: ${SLOTS} }, () => {
    const root = task('root', async () => null)();
    for (let i = 0; i < ${LEAVES}; i++) task('t' + String(i).padStart(3, '0'), async () => null)().after(root);
  });
`;

function startChild(settings: ChildSettings): { child: ChildProcess; ready: Promise<number>; stopped: Promise<{ received: number; cpuMs: number }> } {
  const self = fileURLToPath(import.meta.url);
  const child = fork(self, [], { execArgv: tsxExecArgv(), env: { ...process.env, [CHILD_ENV]: JSON.stringify(settings) }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`scheduler process exited early (${signal ?? code})`))));
  exited.catch(() => {});
  const message = <T extends FromChild['type']>(type: T) =>
    Promise.race([exited, new Promise<Extract<FromChild, { type: T }>>((resolve) => child.on('message', (m: FromChild) => m.type === type && resolve(m as Extract<FromChild, { type: T }>)))]);
  return { child, ready: message('ready').then((m) => m.jobId), stopped: message('stopped').then((m) => ({ received: m.received, cpuMs: m.cpuMs })) };
}

/** One timed run: `n` scheduler processes on a fresh database of `dialect`. Returns task instances per second. */
export async function timeRun(dialect: Dialect, n: number): Promise<{ perSecond: number; tis: number; seconds: number; cpuMsPerTi: number }> {
  const h = await startFloe(dialect, { config: { core: { defaultPoolSlots: 100_000 } } });
  const children: ChildProcess[] = [];
  try {
    h.writeDag('bench_ms.ts', dagFile());
    await parseAll(h);
    for (let d = 0; d < DAGS; d++) await h.trigger(`bench_ms_${String(d).padStart(2, '0')}`);
    const procs = Array.from({ length: n }, () => startChild({ dbUrl: h.rt.db.url }));
    children.push(...procs.map((p) => p.child));
    await Promise.all(procs.map((p) => p.ready));
    const finished = async () =>
      Number((await h.rt.db.kysely.selectFrom('dag_run').select((eb) => eb.fn.countAll<number>().as('n')).where('state', 'in', ['success', 'failed']).executeTakeFirstOrThrow()).n);
    const t0 = performance.now();
    for (const p of procs) p.child.send({ type: 'go' } satisfies ToChild);
    const deadline = Date.now() + RUN_TIMEOUT_MS;
    while ((await finished()) < DAGS) {
      if (Date.now() > deadline) throw new Error(`multi-scheduler bench (${dialect}, ${n}): runs not finished after ${RUN_TIMEOUT_MS / 1000}s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    const seconds = (performance.now() - t0) / 1000;
    for (const p of procs) p.child.send({ type: 'stop' } satisfies ToChild);
    const stopped = await Promise.all(procs.map((p) => p.stopped));
    const received = stopped.map((s) => s.received);
    const rows = await h.rt.db.kysely.selectFrom('task_instance').select(['state', 'try_number']).execute();
    const ok = rows.filter((r) => r.state === 'success' && r.try_number === 1).length;
    const expected = DAGS * (LEAVES + 1);
    if (ok !== expected || rows.length !== expected) throw new Error(`multi-scheduler bench (${dialect}, ${n}): ${ok}/${expected} task instances succeeded on try 1`);
    if (received.reduce((a, b) => a + b, 0) !== expected) throw new Error(`multi-scheduler bench (${dialect}, ${n}): executors received ${received.join('+')} workloads for ${expected} tries`);
    return { perSecond: expected / seconds, tis: expected, seconds, cpuMsPerTi: stopped.reduce((a, s) => a + s.cpuMs, 0) / expected };
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await closeHarness(h);
  }
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const round = (v: number, digits = 3): number => Number(v.toPrecision(digits));

async function measure(dialect: Dialect, n: number): Promise<{ median: number; all: number[]; tis: number; cpuMsPerTi: number }> {
  const all: number[] = [];
  const cpu: number[] = [];
  let tis = 0;
  for (let i = 0; i < REPEATS; i++) {
    const r = await timeRun(dialect, n);
    all.push(r.perSecond);
    cpu.push(r.cpuMsPerTi);
    tis = r.tis;
  }
  return { median: median(all), all, tis, cpuMsPerTi: median(cpu) };
}

export async function benchMultiScheduler(): Promise<BenchRow[]> {
  if (!(await postgresAvailable())) throw new Error(`the multi-scheduler benchmark needs PostgreSQL (FLOE_TEST_PG_URL)`);
  const group = 'multi-scheduler';
  const rows: BenchRow[] = [];
  // Warm-up: first database, first child processes, OS caches; not part of any figure.
  await timeRun('postgres', 1);
  const pg: Record<number, Awaited<ReturnType<typeof measure>>> = {};
  for (const n of [1, 2, 3]) pg[n] = await measure('postgres', n);
  const sqlite = await measure('sqlite', 1);
  // Scheduler CPU per TI (all scheduler processes, PostgreSQL's own CPU not included): steadier than wall time on a busy machine.
  const spread = (m: { all: number[]; cpuMsPerTi: number }) => `runs ${m.all.map((v) => v.toFixed(0)).join(', ')} TI/s; scheduler CPU ${m.cpuMsPerTi.toFixed(2)} ms/TI`;
  const shape = `${DAGS} DAGs × (root → ${LEAVES} leaves) = ${pg[1].tis} TIs; instant executor, ${SLOTS} slots per scheduler; median of ${REPEATS}; ${os.cpus().length} CPUs`;
  for (const n of [1, 2, 3]) {
    rows.push({
      group,
      metric: `PostgreSQL, ${n} scheduler${n > 1 ? 's' : ''}: TIs scheduled`,
      value: round(pg[n].median),
      unit: 'TI/s',
      ...(n > 1 ? { baseline: { metric: '1 scheduler', value: round(pg[1].median), unit: 'TI/s' }, ratio: round(pg[n].median / pg[1].median) } : {}),
      note: `${n === 1 ? `${shape}; ` : ''}${spread(pg[n])}${n > 1 ? `; ratio = ${n} schedulers / 1 (scaling)` : ''}`,
    });
  }
  rows.push({
    group,
    metric: 'SQLite, 1 scheduler: TIs scheduled',
    value: round(sqlite.median),
    unit: 'TI/s',
    baseline: { metric: 'PostgreSQL, 1 scheduler', value: round(pg[1].median), unit: 'TI/s' },
    ratio: round(sqlite.median / pg[1].median),
    note: `${spread(sqlite)}; ratio = SQLite / PostgreSQL`,
  });
  return rows;
}

// Child-process entry: one scheduler with the instant executor, started, then run between "go" and "stop".
async function childMain(settings: ChildSettings): Promise<void> {
  const db = await openDb(settings.dbUrl);
  const log = pino({ level: process.env.FLOE_BENCH_LOG_LEVEL ?? 'silent' }, pino.destination(2));
  let scheduler: Scheduler | null = null;
  const executor = new InstantExecutor(db, { slots: SLOTS, wake: () => scheduler?.wake() });
  scheduler = new Scheduler({ db, executor, log, loopIntervalMs: LOOP_INTERVAL_MS, zombieThresholdMs: 60_000, healthCheckThresholdMs: 30_000 });
  const s = scheduler;
  let stop = false;
  const go = new Promise<void>((resolve) =>
    process.on('message', (m: ToChild) => {
      if (m.type === 'go') resolve();
      else if (m.type === 'stop') {
        stop = true;
        s.wake();
      }
    }),
  );
  // The parent went away: do not linger.
  process.on('disconnect', () => process.exit(1));
  await s.start();
  process.send!({ type: 'ready', jobId: s.jobId } satisfies FromChild);
  await go;
  const cpu0 = process.cpuUsage();
  await s.run(() => stop);
  const cpu = process.cpuUsage(cpu0);
  await s.stop();
  await db.close();
  process.send!({ type: 'stopped', received: executor.received, cpuMs: (cpu.user + cpu.system) / 1000 } satisfies FromChild, () => process.exit(0));
}

const childSettings = process.env[CHILD_ENV];
if (childSettings && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await childMain(JSON.parse(childSettings) as ChildSettings);
else if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  // `node --import tsx bench/multi-scheduler.ts`: this module alone.
  for (const r of await benchMultiScheduler()) console.log(JSON.stringify(r));
}
