// Local executor benchmarks on SQLite: no-op task throughput with warm runners against a raw loop that
// spawns `node -e ""` at the same parallelism, and task-to-task latency along a chain of light tasks.
import { spawn } from 'node:child_process';
import { createScheduler } from '../src/cli/runtime.ts';
import type { Scheduler } from '../src/scheduler/scheduler.ts';
import { startFloe, type FloeHarness } from '../test/helpers/floe.ts';
import { chainDag, gc, independentDag, parseAll, runUntil } from './scheduler.ts';
import type { BenchRow } from './types.ts';

const PARALLELISM = 4;
const NOOP_TASKS = 200;
/** Fewer raw spawns than tasks keep the bench short; the figure is a rate either way. */
const RAW_SPAWNS = 100;
const CHAIN = 40;
const TARGET_P50_MS = 20;
const RUN_TIMEOUT_MS = 120_000;

/** `count` processes of `node -e ""`, at most `parallelism` at once; returns tasks/s. */
export async function rawSpawnRate(count: number, parallelism: number): Promise<number> {
  let started = 0;
  const worker = async () => {
    while (started < count) {
      started++;
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`node -e "" exited with ${code}`))));
      });
    }
  };
  const t0 = performance.now();
  await Promise.all(Array.from({ length: parallelism }, worker));
  return count / ((performance.now() - t0) / 1000);
}

/** Nearest-rank percentile of `values` (p in 0..100). */
export function percentile(values: number[], p: number): number {
  if (!values.length) throw new Error('percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

/** Triggers `dagId` and runs the (already started) scheduler until that run ends; returns run id and wall ms. */
async function runOnce(h: FloeHarness, scheduler: Scheduler, finished: Map<string, string>, dagId: string): Promise<{ runId: string; ms: number }> {
  const runId = await h.trigger(dagId);
  scheduler.wake();
  gc();
  const t0 = performance.now();
  await runUntil(scheduler, () => finished.has(runId), RUN_TIMEOUT_MS, `local executor bench ${dagId}`);
  const ms = performance.now() - t0;
  if (finished.get(runId) !== 'success') {
    const bad = [...(await h.tis(dagId, runId))].filter(([, t]) => t.state !== 'success').slice(0, 3);
    throw new Error(`local executor bench ${dagId}: run ended ${finished.get(runId)}; e.g. ${bad.map(([id, t]) => `${id}=${t.state} (${t.reason})`).join(', ')}`);
  }
  return { runId, ms };
}

/** Gaps between each task's start and its upstream's end, from the task_instance rows of a chain run (ms). */
async function chainGaps(h: FloeHarness, dagId: string, runId: string): Promise<number[]> {
  const rows = await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'start_date', 'end_date']).where('dag_id', '=', dagId).where('run_id', '=', runId).orderBy('task_id').execute();
  const gaps: number[] = [];
  for (let i = 1; i < rows.length; i++) {
    const up = rows[i - 1].end_date;
    const down = rows[i].start_date;
    if (!up || !down) throw new Error(`chain bench: ${rows[i - 1].task_id} or ${rows[i].task_id} has no end/start date`);
    gaps.push(Date.parse(down) - Date.parse(up));
  }
  return gaps;
}

export async function benchLocalExecutor(): Promise<BenchRow[]> {
  const h = await startFloe('sqlite', { config: { core: { parallelism: PARALLELISM }, scheduler: { loopInterval: 1 } } });
  const rows: BenchRow[] = [];
  try {
    h.writeDag('warm.ts', independentDag('bench_warm', PARALLELISM * 4, NOOP_TASKS));
    h.writeDag('noop.ts', independentDag('bench_noop', NOOP_TASKS, NOOP_TASKS));
    h.writeDag('chain40.ts', chainDag('bench_chain40', CHAIN, CHAIN, "({ ok: true })"));
    await parseAll(h);
    const finished = new Map<string, string>();
    const scheduler = await createScheduler(h.rt, 'local', { onRunFinished: (_d, runId, state) => finished.set(runId, state) });
    await scheduler.start();
    try {
      // The first run starts the warm runner processes (and loads the DAG file in them): reported on its own.
      const cold = await runOnce(h, scheduler, finished, 'bench_warm');
      const noop = await runOnce(h, scheduler, finished, 'bench_noop');
      const chain = await runOnce(h, scheduler, finished, 'bench_chain40');
      const floeRate = NOOP_TASKS / (noop.ms / 1000);
      const rawRate = await rawSpawnRate(RAW_SPAWNS, PARALLELISM);
      rows.push({
        group: 'local executor',
        metric: `no-op tasks/s (${NOOP_TASKS} tasks, parallelism ${PARALLELISM}, warm runners)`,
        value: Number(floeRate.toFixed(1)),
        unit: 'tasks/s',
        baseline: { metric: `raw spawn node -e "" ×${RAW_SPAWNS}`, value: Number(rawRate.toFixed(1)), unit: 'tasks/s' },
        ratio: Number((floeRate / rawRate).toFixed(2)),
        note: 'ratio = Floe/raw (> 1: Floe is faster); scheduler + DB writes + runner per task included',
      });
      rows.push({
        group: 'local executor',
        metric: `cold start: first run of ${PARALLELISM * 4} no-op tasks`,
        value: Number((cold.ms / 1000).toFixed(2)),
        unit: 's',
        note: `includes starting ${PARALLELISM} warm runner processes`,
      });
      const gaps = await chainGaps(h, 'bench_chain40', chain.runId);
      const p50 = percentile(gaps, 50);
      rows.push(
        {
          group: 'local executor',
          metric: `chain of ${CHAIN}: task-to-task latency p50`,
          value: p50,
          unit: 'ms',
          target: `≤ ${TARGET_P50_MS} ms`,
          note: `upstream end_date → downstream start_date, ${gaps.length} gaps; Airflow 2.7 ≈ 2,900 ms`,
        },
        { group: 'local executor', metric: `chain of ${CHAIN}: task-to-task latency p95`, value: percentile(gaps, 95), unit: 'ms' },
        { group: 'local executor', metric: `chain of ${CHAIN}: end to end`, value: Number((chain.ms / 1000).toFixed(2)), unit: 's', note: 'trigger → run success' },
      );
    } finally {
      await scheduler.stop();
    }
  } finally {
    await h.close();
  }
  return rows;
}
