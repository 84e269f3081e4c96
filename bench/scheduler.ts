// Scheduler benchmarks on SQLite: overhead per task instance (fan-out and chain, instant executor) beside
// the raw cost of the same DB writes, and peak RSS with 10,000 task instances queued (in a child process,
// so the figure is not inflated by the benchmarks that ran before it).
import { spawn } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { getDag } from '../src/cli/runtime.ts';
import type { SerializedDag } from '../src/dag/model.ts';
import type { Db } from '../src/db/connect.ts';
import { Scheduler, schedulerOptions } from '../src/scheduler/scheduler.ts';
import { tsxExecArgv } from '../test/helpers/tsx.ts';
import { nowIso } from '../src/util/time.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../test/helpers/floe.ts';
import { InstantExecutor } from './instant-executor.ts';
import type { BenchRow } from './types.ts';

/** Executor slots, DAG maxActiveTasks and default_pool size for the overhead runs (the pool's default). */
export const SLOTS = 128;
const FANOUT = 2000;
const CHAIN = 500;
const QUEUED = 10_000;
const TARGET_MS_PER_TASK = 2;
const RUN_TIMEOUT_MS = 60_000;
const CHILD_ENV = 'FLOE_BENCH_CHILD';

export const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

// DAG files for the benchmarks; no-op function tasks, explicit dependencies (no XCom reads).
export const fanoutDag = (dagId: string, n: number, maxActiveTasks: number): string => `${SDK_IMPORT}
dag({ dagId: '${dagId}', schedule: null, maxActiveTasks: ${maxActiveTasks} }, () => {
  const root = task('root', async () => null)();
  for (let i = 0; i < ${n}; i++) task('t' + String(i).padStart(5, '0'), async () => null)().after(root);
});
`;
export const chainDag = (dagId: string, n: number, maxActiveTasks: number, body = 'null'): string => `${SDK_IMPORT}
dag({ dagId: '${dagId}', schedule: null, maxActiveTasks: ${maxActiveTasks} }, () => {
  let prev = task('c00000', async () => ${body})();
  for (let i = 1; i < ${n}; i++) prev = task('c' + String(i).padStart(5, '0'), async () => ${body})().after(prev);
});
`;
export const independentDag = (dagId: string, n: number, maxActiveTasks: number): string => `${SDK_IMPORT}
dag({ dagId: '${dagId}', schedule: null, maxActiveTasks: ${maxActiveTasks} }, () => {
  for (let i = 0; i < ${n}; i++) task('t' + String(i).padStart(5, '0'), async () => null)();
});
`;

/** Runs `scheduler` until `done()`; throws (after stopping it) when `timeoutMs` passes first. */
export async function runUntil(scheduler: Scheduler, done: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let timedOut = false;
  await scheduler.run(() => done() || (timedOut = Date.now() > deadline));
  if (timedOut) throw new Error(`${what}: not finished after ${timeoutMs / 1000}s`);
}

/** Parses the harness's DAG folder and fails loudly on any import error (a broken bench DAG must not pass silently). */
export async function parseAll(h: FloeHarness): Promise<void> {
  const parsed = await h.parse();
  if (parsed.errors.length) throw new Error(`bench DAG import errors: ${parsed.errors.map((e) => `${e.fileloc}: ${e.message}`).join('; ')}`);
}

function schedulerFor(h: FloeHarness, executor: InstantExecutor, onRunFinished?: (dagId: string, runId: string, state: string) => void): Scheduler {
  return new Scheduler(schedulerOptions(h.rt, executor, { onRunFinished }));
}

/** One manual run of `dagId` by the real Scheduler with the instant executor; wall time from the first loop to the run's end. */
export async function timeSchedulerRun(h: FloeHarness, dagId: string): Promise<{ ms: number; cpuMs: number; tasks: number }> {
  const runId = await h.trigger(dagId);
  let state: string | null = null;
  let scheduler: Scheduler | null = null;
  const executor = new InstantExecutor(h.rt.db, { slots: SLOTS, wake: () => scheduler?.wake() });
  scheduler = schedulerFor(h, executor, (_d, r, s) => {
    if (r === runId) state = s;
  });
  await scheduler.start();
  gc();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  try {
    await runUntil(scheduler, () => state !== null, RUN_TIMEOUT_MS, `scheduler bench ${dagId}`);
  } finally {
    await scheduler.stop();
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const tis = await h.tis(dagId, runId);
  const ok = [...tis.values()].filter((t) => t.state === 'success' && t.try_number === 1).length;
  if (state !== 'success' || ok !== tis.size) throw new Error(`scheduler bench ${dagId}: run ended ${state} with ${ok}/${tis.size} tasks succeeded on try 1`);
  // CPU time too: on a busy machine it moves less than wall time.
  return { ms, cpuMs: (cpu.user + cpu.system) / 1000, tasks: tis.size };
}

/** Task ids by dependency level: every task of a level can be scheduled once the levels before it are done. */
export function levelsOf(dag: SerializedDag): string[][] {
  const level = new Map<string, number>();
  const byId = new Map(dag.tasks.map((t) => [t.taskId, t]));
  const depth = (id: string): number => {
    const known = level.get(id);
    if (known !== undefined) return known;
    // Iterative over the upstream chain so a 500-task chain does not recurse 500 frames per task.
    const stack = [id];
    while (stack.length) {
      const cur = stack[stack.length - 1];
      const pending = byId.get(cur)!.upstream.filter((u) => !level.has(u));
      if (pending.length) stack.push(...pending);
      else {
        stack.pop();
        level.set(cur, Math.max(-1, ...byId.get(cur)!.upstream.map((u) => level.get(u)!)) + 1);
      }
    }
    return level.get(id)!;
  };
  const out: string[][] = [];
  for (const t of dag.tasks) (out[depth(t.taskId)] ??= []).push(t.taskId);
  return out;
}

/**
 * The same task-instance writes a scheduler run makes, without reading or deciding anything: insert the rows
 * (chunks of 200, one transaction), then per level none→scheduled (chunks of 500), and per executor batch of
 * `slots` scheduled→queued (one transaction) and queued→running→success plus the history row per try (one
 * transaction), as the instant executor does. Returns wall ms.
 */
export async function timeRawWrites(db: Db, dagId: string, levels: string[][], slots: number): Promise<number> {
  const k = db.kysely;
  const runId = `raw__${Date.now()}`;
  gc();
  const t0 = performance.now();
  const t = nowIso();
  const all = levels.flat();
  await k.transaction().execute(async (trx) => {
    for (let i = 0; i < all.length; i += 200)
      await trx
        .insertInto('task_instance')
        .values(
          all.slice(i, i + 200).map((taskId) => ({
            dag_id: dagId, run_id: runId, task_id: taskId, map_index: -1, state: 'none', try_number: 0, max_tries: 0, pool: 'default_pool', pool_slots: 1,
            queue: 'default', priority_weight: 1, queued_at: null, start_date: null, end_date: null, next_retry_at: null, hostname: null, pid: null,
            queued_by_job_id: null, external_executor_id: null, last_heartbeat: null, reason: null, updated_at: t,
          })),
        )
        .execute();
  });
  const inChunks = async (ids: string[], size: number, fn: (part: string[]) => Promise<unknown>) => {
    for (let i = 0; i < ids.length; i += size) await fn(ids.slice(i, i + size));
  };
  for (const level of levels) {
    await k.transaction().execute((trx) =>
      inChunks(level, 500, (part) =>
        trx.updateTable('task_instance').set({ state: 'scheduled', updated_at: nowIso() }).where('dag_id', '=', dagId).where('run_id', '=', runId).where('task_id', 'in', part).where('state', '=', 'none').execute(),
      ),
    );
    for (let b = 0; b < level.length; b += slots) {
      const batch = level.slice(b, b + slots);
      await k.transaction().execute((trx) =>
        inChunks(batch, 500, (part) =>
          trx
            .updateTable('task_instance')
            .set((eb) => ({ state: 'queued', try_number: eb('try_number', '+', 1), queued_at: nowIso(), queued_by_job_id: 0, updated_at: nowIso() }))
            .where('dag_id', '=', dagId).where('run_id', '=', runId).where('task_id', 'in', part).where('state', '=', 'scheduled')
            .execute(),
        ),
      );
      await k.transaction().execute(async (trx) => {
        for (const taskId of batch) {
          const key = { dag_id: dagId, run_id: runId, task_id: taskId, map_index: -1 };
          const start = nowIso();
          await trx.updateTable('task_instance').set({ state: 'running', start_date: start, last_heartbeat: start, updated_at: start }).where((eb) => eb.and(key)).where('try_number', '=', 1).where('state', '=', 'queued').execute();
          const end = nowIso();
          await trx.updateTable('task_instance').set({ state: 'success', end_date: end, updated_at: end }).where((eb) => eb.and(key)).where('try_number', '=', 1).where('state', 'in', ['queued', 'running']).execute();
          await trx
            .insertInto('task_instance_history')
            .values({ ...key, try_number: 1, state: 'success', start_date: start, end_date: end, hostname: null, external_executor_id: null, reason: null, recorded_at: end })
            .execute();
        }
      });
    }
  }
  const ms = performance.now() - t0;
  const done = await k.selectFrom('task_instance').select((eb) => eb.fn.countAll<number>().as('n')).where('dag_id', '=', dagId).where('run_id', '=', runId).where('state', '=', 'success').executeTakeFirstOrThrow();
  if (Number(done.n) !== all.length) throw new Error(`raw writes ${dagId}: ${done.n}/${all.length} rows reached success`);
  return ms;
}

export interface QueuedRss {
  tasks: number;
  queueMs: number;
  rssBeforeMB: number;
  peakRssMB: number;
  rssAfterMB: number;
  heapBeforeMB: number;
  heapAfterMB: number;
}

const MB = 1024 * 1024;

/** In this process: a DAG of `n` independent tasks queued into an executor with `n` slots that never completes them. */
async function measureQueuedRss(n: number): Promise<QueuedRss> {
  const h = await startFloe('sqlite', { config: { core: { defaultPoolSlots: n } } });
  try {
    h.writeDag('queued.ts', independentDag('bench_queued', n, n));
    await parseAll(h);
    const runId = await h.trigger('bench_queued');
    let scheduler: Scheduler | null = null;
    const executor = new InstantExecutor(h.rt.db, { slots: n, complete: false, wake: () => scheduler?.wake() });
    scheduler = schedulerFor(h, executor);
    await scheduler.start();
    gc();
    gc();
    const before = process.memoryUsage();
    const t0 = performance.now();
    try {
      await runUntil(scheduler, () => executor.received >= n, RUN_TIMEOUT_MS, 'queued RSS bench');
    } finally {
      await scheduler.stop();
    }
    const queueMs = performance.now() - t0;
    const after = process.memoryUsage();
    // maxRSS is the process's high-water mark: it also catches peaks inside one synchronous stretch of work.
    const peak = Math.max(process.resourceUsage().maxRSS * 1024, after.rss);
    const queued = [...(await h.tis('bench_queued', runId)).values()].filter((t) => t.state === 'queued').length;
    if (queued !== n) throw new Error(`queued RSS bench: ${queued}/${n} task instances are queued`);
    return {
      tasks: n,
      queueMs,
      rssBeforeMB: before.rss / MB,
      peakRssMB: peak / MB,
      rssAfterMB: after.rss / MB,
      heapBeforeMB: before.heapUsed / MB,
      heapAfterMB: after.heapUsed / MB,
    };
  } finally {
    await h.close();
  }
}

/** Runs measureQueuedRss in a fresh Node process and reads its JSON answer. */
async function queuedRssInChild(n: number): Promise<QueuedRss> {
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, [...tsxExecArgv(), '--expose-gc', self], { env: { ...process.env, [CHILD_ENV]: `queued-rss:${n}` }, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_TIMEOUT_MS * 2);
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
  clearTimeout(timer);
  const last = out.trim().split('\n').at(-1) ?? '';
  if (code !== 0) throw new Error(`queued RSS bench child exited with ${code}: ${last}`);
  return JSON.parse(last) as QueuedRss;
}

const round = (v: number, digits = 3): number => Number(v.toPrecision(digits));

export async function benchScheduler(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  const h = await startFloe('sqlite', { config: { scheduler: { loopInterval: 1 } } });
  try {
    h.writeDag('warmup.ts', fanoutDag('bench_warmup', 300, SLOTS));
    h.writeDag('fanout.ts', fanoutDag('bench_fanout', FANOUT, SLOTS));
    h.writeDag('chain.ts', chainDag('bench_chain', CHAIN, SLOTS));
    await parseAll(h);
    // JIT, statement caches and the first DB pages: not part of any figure.
    await timeSchedulerRun(h, 'bench_warmup');
    await timeRawWrites(h.rt.db, 'raw_warmup', levelsOf(await getDag(h.rt, 'bench_warmup')), SLOTS);
    for (const [dagId, label] of [
      ['bench_fanout', `fan-out 1→${FANOUT.toLocaleString('en')}`],
      ['bench_chain', `chain of ${CHAIN}`],
    ] as const) {
      const run = await timeSchedulerRun(h, dagId);
      const raw = await timeRawWrites(h.rt.db, `raw_${dagId}`, levelsOf(await getDag(h.rt, dagId)), SLOTS);
      const perTask = run.ms / run.tasks;
      const rawPerTask = raw / run.tasks;
      rows.push({
        group: 'scheduler',
        metric: `${label}: scheduler overhead`,
        value: round(perTask),
        unit: 'ms/task',
        baseline: { metric: 'raw DB writes', value: round(rawPerTask), unit: 'ms/task' },
        ratio: round(perTask / rawPerTask),
        target: `≤ ${TARGET_MS_PER_TASK} ms/task`,
        note: `${run.tasks} TIs in ${(run.ms / 1000).toFixed(2)} s, CPU ${(run.cpuMs / run.tasks).toFixed(2)} ms/task; instant executor, ${SLOTS} slots; ratio = scheduler/raw`,
      });
    }
  } finally {
    await h.close();
  }
  const q = await queuedRssInChild(QUEUED);
  rows.push(
    {
      group: 'scheduler',
      metric: `peak RSS, ${QUEUED.toLocaleString('en')} TIs queued`,
      value: round(q.peakRssMB),
      unit: 'MB',
      baseline: { metric: 'RSS before', value: round(q.rssBeforeMB), unit: 'MB' },
      ratio: round(q.peakRssMB / q.rssBeforeMB),
      note: `growth ${(q.peakRssMB - q.rssBeforeMB).toFixed(0)} MB (${(((q.peakRssMB - q.rssBeforeMB) * 1024) / q.tasks).toFixed(1)} KB per queued TI); heap ${q.heapBeforeMB.toFixed(0)} → ${q.heapAfterMB.toFixed(0)} MB; ratio = peak/before`,
    },
    {
      group: 'scheduler',
      metric: `time to queue ${QUEUED.toLocaleString('en')} TIs`,
      value: round(q.queueMs / 1000),
      unit: 's',
      note: `from none to queued in one run, executor with ${QUEUED} slots that never completes`,
    },
  );
  return rows;
}

// Child-process entry of the RSS benchmark (see queuedRssInChild).
const childMode = process.env[CHILD_ENV];
if (childMode?.startsWith('queued-rss:') && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const r = await measureQueuedRss(Number(childMode.slice('queued-rss:'.length)));
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
