// Warm pods vs cold pods on the dev cluster with its realistic pod start (scheduling, sandbox, a cached image,
// container start: about 1.3 s, DEFAULT_STARTUP_DELAY), the same scheduler and executor, run one after the other:
// (1) task start latency — from a try being queued to its task's first log line — along a chain of tasks (each
//     downstream task can start in the pod its upstream just left);
// (2) 200 same-spec short tasks end to end, and the pods created for them.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevCluster } from '../src/devcluster/index.ts';
import { DEFAULT_STARTUP_DELAY } from '../src/devcluster/startup.ts';
import { taskLogPath } from '../src/worker/task-log.ts';
import { startFloe } from '../test/helpers/floe.ts';
import { chainDag, independentDag } from './scheduler.ts';
import type { BenchRow } from './types.ts';

const GROUP = 'kubernetes warm pods';
const CHAIN = 10;
const FANOUT = Number(process.env.FLOE_BENCH_WARM_TASKS ?? 200);
const PARALLELISM = 8;
const BIN_DIR = fileURLToPath(new URL('../bin', import.meta.url));

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Run {
  latencies: number[];
  fanoutMs: number;
  podsCreated: number;
}

async function runOnce(warm: boolean): Promise<Run> {
  const home = mkdtempSync(path.join(tmpdir(), `floe-bench-warm-${warm}-`));
  const cluster = await startDevCluster({
    env: { FLOE_HOME: home, FLOE_DATABASE_URL: `sqlite://${path.join(home, 'floe.db')}`, FLOE__LOGGING__LEVEL: 'warn', FLOE_CONFIG: '', FLOE__KUBERNETES__WARM_PODS: `{enabled: ${warm}, idleSeconds: 30}` },
    pathPrepend: [BIN_DIR, path.dirname(process.execPath)],
    startupDelay: DEFAULT_STARTUP_DELAY,
  });
  const h = await startFloe('sqlite', {
    home,
    config: {
      core: { executor: 'kubernetes', parallelism: PARALLELISM },
      scheduler: { loopInterval: 1 },
      kubernetes: { kubeconfig: cluster.kubeconfigPath, apiQps: 200, apiBurst: 400, warmPods: { enabled: warm, idleSeconds: 30 } },
    },
  });
  try {
    h.writeDag('chain.ts', chainDag('warm_chain', CHAIN, CHAIN, "({ ok: true })"));
    h.writeDag('fanout.ts', independentDag('warm_fanout', FANOUT, FANOUT));
    const parsed = await h.parse();
    if (parsed.errors.length) throw new Error(JSON.stringify(parsed.errors));
    // (1) chain: queued → the runner's first log line of each try.
    const chainRun = await h.trigger('warm_chain');
    await h.runUntilRunDone('warm_chain', chainRun, 300_000);
    const tis = await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'queued_at', 'state']).where('run_id', '=', chainRun).execute();
    const latencies: number[] = [];
    for (const ti of tis) {
      if (ti.state !== 'success') throw new Error(`warm=${warm}: ${ti.task_id} ended ${ti.state}`);
      const log = readFileSync(taskLogPath(h.rt.cfg.logging.logsFolder!, { dagId: 'warm_chain', runId: chainRun, taskId: ti.task_id, mapIndex: -1 }, 1), 'utf8');
      const first = /^\[([^\]]+)\]/.exec(log)![1];
      latencies.push(Date.parse(first) - Date.parse(ti.queued_at!));
    }
    // (2) fan-out: 200 same-spec tasks, end to end.
    const podsBefore = cluster.podCreationLog.length;
    const fanRun = await h.trigger('warm_fanout');
    const t0 = Date.now();
    await h.runUntilRunDone('warm_fanout', fanRun, 900_000);
    const fanoutMs = Date.now() - t0;
    const bad = await h.rt.db.kysely.selectFrom('task_instance').select('task_id').where('run_id', '=', fanRun).where('state', '!=', 'success').execute();
    if (bad.length) throw new Error(`warm=${warm}: ${bad.length} fan-out tasks did not succeed`);
    return { latencies, fanoutMs, podsCreated: cluster.podCreationLog.length - podsBefore };
  } finally {
    await h.close().catch(() => {});
    await cluster.stop();
    rmSync(home, { recursive: true, force: true });
  }
}

export async function benchWarmPods(): Promise<BenchRow[]> {
  const cold = await runOnce(false);
  const warm = await runOnce(true);
  const coldLat = median(cold.latencies);
  const warmLat = median(warm.latencies);
  return [
    {
      group: GROUP,
      metric: `task start latency, queued → first log line (median of a ${CHAIN}-task chain), warm pods`,
      value: Math.round(warmLat),
      unit: 'ms',
      baseline: { metric: 'cold pods', value: Math.round(coldLat), unit: 'ms' },
      ratio: warmLat / coldLat,
      target: '<= 0.1',
      note: `dev cluster pod start ${DEFAULT_STARTUP_DELAY.schedulingMs + DEFAULT_STARTUP_DELAY.sandboxMs + DEFAULT_STARTUP_DELAY.containerStartMs} ms for a cached image (plus ${DEFAULT_STARTUP_DELAY.pullMs} ms for each node's first pull); warm latencies ${warm.latencies.map(Math.round).join(', ')} ms; cold ${cold.latencies.map(Math.round).join(', ')} ms`,
    },
    {
      group: GROUP,
      metric: `${FANOUT} same-spec short tasks end to end, warm pods (parallelism ${PARALLELISM})`,
      value: Number((warm.fanoutMs / 1000).toFixed(1)),
      unit: 's',
      baseline: { metric: 'cold pods', value: Number((cold.fanoutMs / 1000).toFixed(1)), unit: 's' },
      ratio: cold.fanoutMs / warm.fanoutMs,
      target: '>= 5x faster',
      note: 'ratio: cold time / warm time',
    },
    { group: GROUP, metric: `pods created for the ${FANOUT} tasks, warm pods`, value: warm.podsCreated, unit: 'pods', baseline: { metric: 'cold pods', value: cold.podsCreated, unit: 'pods' } },
  ];
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const { renderTable } = await import('./run.ts');
  process.stdout.write(renderTable(await benchWarmPods()));
}
