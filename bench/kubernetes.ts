// Kubernetes executor benchmarks against the dev cluster, run in its own process (as an API server is, so
// its CPU does not count against the client's):
// (1) pods launched per second by the real Scheduler + KubernetesExecutor for 500 queued no-op tasks (one DAG
//     run of 500 independent tasks), with the kubelet paused so pods are only created, vs the raw official
//     client creating the same pod bodies with the same number of requests in flight (client-side rate
//     limit off on both) — with the same keep-alive HTTP agent the executor's KubeApi uses, and as
//     client-node comes (a new connection per request);
// (2) cold task latency with the kubelet running: queued → pod Running → task success for light tasks
//     (a chain, so each pod starts on a quiet machine), vs the dev cluster's own create → Running latency.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, type V1Pod, Watch } from '@kubernetes/client-node';
import { createKubernetesExecutor } from '../src/executors/kubernetes/factory.ts';
import { statusCode, useKeepAliveAgents } from '../src/kubernetes/client.ts';
import type { ExecutorEvent } from '../src/executors/types.ts';
import { Scheduler, schedulerOptions } from '../src/scheduler/scheduler.ts';
import { type FloeHarness, startFloe } from '../test/helpers/floe.ts';
import { runScheduler } from '../test/queue/helpers.ts';
import { percentile } from './local-executor.ts';
import { chainDag, gc, independentDag, parseAll } from './scheduler.ts';
import type { BenchRow } from './types.ts';

const GROUP = 'kubernetes executor';
const LAUNCH_TASKS = 500;
const LAUNCH_DAG = 'bench_k8s_launch';
/**
 * Rounds of (raw keep-alive, raw default, executor), after one executor warm-up run. The shared 2-CPU machine's
 * load moves single rates by ±50 %, so the ratio is the median of per-round ratios (a raw run and the executor
 * run seconds after it share the machine's mood), rates are medians, and every round is in the note.
 */
const ROUNDS = 6;
/** Then rounds with API_LATENCY_MS added to every API request (the dev cluster's latencyMs fault). */
const LATENCY_ROUNDS = 3;
const API_LATENCY_MS = 20;
/** kubernetes.podCreationConcurrency / podCreationBatchSize defaults; the raw client gets the same concurrency. */
const CONCURRENCY = 8;
const BATCH = 16;
const CHAIN = 8;
const RAW_LATENCY_PODS = 20;
const TARGET_RATIO = 0.9;
const CHILD_ENV = 'FLOE_BENCH_K8S_CLUSTER';
const BIN_DIR = fileURLToPath(new URL('../bin', import.meta.url));
const THIS_FILE = fileURLToPath(import.meta.url);
/** Effectively no client-side rate limit: the comparison is about the executor, not the token bucket. */
const NO_LIMIT = { apiQps: 1_000_000, apiBurst: 1_000_000 };

interface ClusterProc {
  url: string;
  kubeconfigPath: string;
  child: ChildProcess;
  admin(method: 'GET' | 'POST' | 'PUT' | 'DELETE', p: string, body?: object): Promise<unknown>;
  stop(): Promise<void>;
}

/** Starts the dev cluster in a child process (this file, in child mode); its pods get `podEnv`. */
async function startClusterProcess(podEnv: Record<string, string>): Promise<ClusterProc> {
  const child = spawn(process.execPath, ['--import', 'tsx', THIS_FILE], {
    env: { ...process.env, [CHILD_ENV]: JSON.stringify(podEnv) },
    // stdin is a pipe so the child notices (EOF) when this process dies without stopping it.
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const info = await new Promise<{ url: string; kubeconfigPath: string }>((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error('bench: the dev cluster process did not start within 60 s')), 60_000);
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{'));
      if (line) {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { url: string; kubeconfigPath: string });
      }
    });
    child.once('exit', (code) => reject(new Error(`bench: the dev cluster process exited with code ${code} before it was ready`)));
  });
  return {
    ...info,
    child,
    async admin(method, p, body) {
      const r = await fetch(`${info.url}/_floe/${p}`, { method, body: body ? JSON.stringify(body) : undefined });
      if (!r.ok) throw new Error(`bench: dev cluster admin ${method} ${p}: HTTP ${r.status}`);
      return r.json();
    },
    async stop() {
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Child mode: run the dev cluster until SIGTERM or the parent goes away, then kill its pods' processes. */
async function clusterChild(podEnv: Record<string, string>): Promise<void> {
  const { startDevCluster } = await import('../src/devcluster/index.ts');
  const cluster = await startDevCluster({
    nodes: 2,
    cpu: '64',
    memory: '256Gi',
    env: podEnv,
    pathPrepend: [BIN_DIR, path.dirname(process.execPath)],
    bookmarkIntervalMs: 1000,
  });
  process.stdout.write(`${JSON.stringify({ url: cluster.url, kubeconfigPath: cluster.kubeconfigPath })}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.stdin.once('end', () => resolve());
    process.stdin.resume();
  });
  await cluster.stop();
}

/** A pod body as the executor sent it (read back, server fields dropped), to create under other names. */
function bodyLike(p: V1Pod, name: string, namespace: string): V1Pod {
  const { labels, annotations } = p.metadata!;
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels, annotations }, spec: p.spec };
}

/** Raw client: `count` creates of `body` with CONCURRENCY in flight, no rate limit. */
async function rawCreateRate(core: CoreV1Api, namespace: string, count: number, body: V1Pod, prefix: string): Promise<LaunchResult> {
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const create = () => core.createNamespacedPod({ namespace, body: bodyLike(body, `${prefix}-${i}`, namespace) });
      try {
        await create();
      } catch (e) {
        // A reused connection the loaded server has just closed ("socket hang up"): retry once, as the
        // executor would; 409 then means the first attempt did create the pod.
        if (statusCode(e) !== null) throw e;
        await create().catch((e2: unknown) => {
          if (statusCode(e2) !== 409) throw e2;
        });
      }
    }
  };
  gc();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const ms = performance.now() - t0;
  const d = process.cpuUsage(cpu0);
  return { rate: count / (ms / 1000), cpuMsPerPod: (d.user + d.system) / 1000 / count };
}

async function deleteAllPods(core: CoreV1Api, namespace: string): Promise<void> {
  await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
}

/** The real Scheduler with the real KubernetesExecutor; hooks only observe queue() and sync(). */
function observedScheduler(h: FloeHarness, onQueue: () => void, onEvents: (evs: ExecutorEvent[], syncMs: number) => void): Scheduler {
  let scheduler: Scheduler | null = null;
  const executor = createKubernetesExecutor(h.rt, { wake: () => scheduler?.wake() });
  const queue = executor.queue.bind(executor);
  const sync = executor.sync.bind(executor);
  executor.queue = (w) => {
    onQueue();
    queue(w);
  };
  executor.sync = async () => {
    const t = performance.now();
    const evs = await sync();
    onEvents(evs, performance.now() - t);
    return evs;
  };
  scheduler = new Scheduler(schedulerOptions(h.rt, executor));
  return scheduler;
}

interface LaunchResult {
  rate: number;
  /** Scheduler loops (executor.sync() calls) within the window (executor only). */
  loops?: number;
  /** Bench-process CPU per pod (scheduler, executor, client; the API server runs in its own process). */
  cpuMsPerPod: number;
}

/** Floe set up for launch runs: one 500-task DAG, parsed once; each run is a new DAG run. */
async function launchHarness(cluster: ClusterProc, namespace: string): Promise<FloeHarness> {
  const h = await startFloe('sqlite', {
    config: {
      core: { executor: 'kubernetes', parallelism: LAUNCH_TASKS * 2, defaultPoolSlots: LAUNCH_TASKS * 2, maxActiveTasksPerDag: LAUNCH_TASKS * 2 },
      scheduler: { loopInterval: 1 },
      kubernetes: { kubeconfig: cluster.kubeconfigPath, namespace, ...NO_LIMIT, podCreationConcurrency: CONCURRENCY, podCreationBatchSize: BATCH, deleteWorkerPods: 'never', podPendingTimeout: 3600, orphanSweepInterval: 3600 },
    },
  });
  h.writeDag('launch.ts', independentDag(LAUNCH_DAG, LAUNCH_TASKS, LAUNCH_TASKS));
  await parseAll(h);
  return h;
}

/**
 * (1) One DAG run of 500 no-op tasks, kubelet paused: from the first queue() to the 500th pod acknowledged by
 * the API (the executor's `running` event). Afterwards the run is failed in the DB (so the next scheduler
 * does not adopt or relaunch its tries) and its pods are deleted.
 */
async function executorLaunchRate(h: FloeHarness, cluster: ClusterProc, core: CoreV1Api, namespace: string, batch: number): Promise<LaunchResult> {
  h.rt.cfg.kubernetes.podCreationBatchSize = batch;
  const runId = await h.trigger(LAUNCH_DAG);
  const before = ((await cluster.admin('GET', 'pod-creations')) as { items: unknown[] }).items.length;
  let t0 = 0;
  let t1 = 0;
  let launched = 0;
  let failed: ExecutorEvent | null = null;
  let cpu0: NodeJS.CpuUsage | null = null;
  let cpu = 0;
  let loops = 0;
  const s = observedScheduler(
    h,
    () => {
      if (!t0) {
        t0 = performance.now();
        cpu0 = process.cpuUsage();
      }
    },
    (evs, syncMs) => {
      if (t0 && !t1) loops++;
      for (const e of evs) {
        if (e.state === 'running') launched++;
        else failed ??= e;
      }
      if (launched >= LAUNCH_TASKS && !t1) {
        t1 = performance.now();
        const d = process.cpuUsage(cpu0!);
        cpu = (d.user + d.system) / 1000;
      }
    },
  );
  gc();
  await runScheduler(s, () => t1 > 0 || failed !== null, 120_000, 'executor launch');
  if (failed) throw new Error(`bench executor launch: a try failed to launch: ${(failed as ExecutorEvent).reason}`);
  const created = ((await cluster.admin('GET', 'pod-creations')) as { items: unknown[] }).items.length - before;
  if (created !== LAUNCH_TASKS) throw new Error(`bench executor launch: ${created} pods created for ${LAUNCH_TASKS} tries`);
  const t = new Date().toISOString();
  await h.rt.db.kysely.updateTable('task_instance').set({ state: 'failed', end_date: t }).where('run_id', '=', runId).execute();
  await h.rt.db.kysely.updateTable('dag_run').set({ state: 'failed', end_date: t }).where('run_id', '=', runId).execute();
  return { rate: LAUNCH_TASKS / ((t1 - t0) / 1000), cpuMsPerPod: cpu / LAUNCH_TASKS, loops };
}

/** Pod name → when (epoch ms) it was first seen at all (≈ created) and Running, from one watch. */
function watchPhases(kc: KubeConfig, namespace: string, labelSelector?: string): { seen: Map<string, { added: number; running?: number; pod?: V1Pod }>; stop(): void; ready: Promise<void> } {
  const seen = new Map<string, { added: number; running?: number; pod?: V1Pod }>();
  let ctl: AbortController | null = null;
  const ready = new Watch(kc)
    .watch(
      `/api/v1/namespaces/${namespace}/pods`,
      labelSelector ? { labelSelector } : {},
      (_type: string, p: V1Pod) => {
        const now = Date.now();
        const name = p.metadata?.name;
        if (!name) return;
        let e = seen.get(name);
        if (!e) seen.set(name, (e = { added: now }));
        e.pod = p;
        if (p.status?.phase === 'Running' && e.running === undefined) e.running = now;
        // A pod whose container ended before the kubelet reported Running: it ran by this moment at the latest.
        if ((p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') && e.running === undefined) e.running = now;
      },
      () => {},
    )
    .then((c) => {
      ctl = c;
    });
  return { seen, ready, stop: () => ctl?.abort() };
}

/** (2b) the dev cluster's own create → Running, pods created one at a time (the runner is not involved). */
async function rawRunningLatencies(kc: KubeConfig, core: CoreV1Api, namespace: string): Promise<number[]> {
  const w = watchPhases(kc, namespace);
  await w.ready;
  const out: number[] = [];
  try {
    for (let i = 0; i < RAW_LATENCY_PODS; i++) {
      const name = `lat-${i}`;
      const t0 = Date.now();
      await core.createNamespacedPod({ namespace, body: { metadata: { name }, spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'busybox', command: ['sleep', '30'] }] } } });
      const deadline = t0 + 30_000;
      while (w.seen.get(name)?.running === undefined) {
        if (Date.now() > deadline) throw new Error(`bench: raw pod ${name} not Running after 30 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      out.push(w.seen.get(name)!.running! - t0);
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 });
    }
  } finally {
    w.stop();
  }
  return out;
}

interface ColdLatency {
  queuedToRunning: number[];
  queuedToCreated: number[];
  runningToSuccess: number[];
  queuedToSuccess: number[];
}

/** (2a) a chain of light tasks in pods: per task, queued_at → pod Running (watch) → end_date (runner). */
async function coldTaskLatency(h: FloeHarness, kc: KubeConfig, namespace: string): Promise<ColdLatency> {
  const dagId = 'bench_k8s_cold';
  h.writeDag('cold.ts', chainDag(dagId, CHAIN, CHAIN));
  await parseAll(h);
  const runId = await h.trigger(dagId);
  const w = watchPhases(kc, namespace, 'floe.dev/worker=true');
  await w.ready;
  try {
    const s = observedScheduler(h, () => {}, () => {});
    await runScheduler(
      s,
      async () => {
        const r = await h.rt.db.kysely.selectFrom('dag_run').select('state').where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirstOrThrow();
        return r.state === 'success' || r.state === 'failed';
      },
      120_000,
      'cold task latency',
    );
  } finally {
    w.stop();
  }
  const tis = await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'try_number', 'queued_at', 'end_date', 'reason']).where('dag_id', '=', dagId).where('run_id', '=', runId).execute();
  const bad = tis.filter((t) => t.state !== 'success' || t.try_number !== 1);
  if (bad.length) throw new Error(`bench cold latency: ${bad.length} tasks not successful on try 1, e.g. ${bad.slice(0, 2).map((t) => `${t.task_id}=${t.state} (${t.reason})`).join(', ')}`);
  const byTask = new Map([...w.seen.values()].filter((e) => e.pod).map((e) => [e.pod!.metadata!.annotations!['floe.dev/task-id'], e]));
  const out: ColdLatency = { queuedToRunning: [], queuedToCreated: [], runningToSuccess: [], queuedToSuccess: [] };
  for (const t of tis) {
    const e = byTask.get(t.task_id);
    if (!e?.running || !t.queued_at || !t.end_date) throw new Error(`bench cold latency: no pod Running / queued / end time seen for ${t.task_id}`);
    const q = Date.parse(t.queued_at);
    const end = Date.parse(t.end_date);
    out.queuedToCreated.push(e.added - q);
    out.queuedToRunning.push(e.running - q);
    out.runningToSuccess.push(end - e.running);
    out.queuedToSuccess.push(end - q);
  }
  return out;
}

const round = (v: number, digits = 1) => Number(v.toFixed(digits));

const median = (xs: number[]) => percentile(xs, 50);

type Which = 'raw' | 'rawDefault' | 'rawWatch' | 'exec';

/**
 * `rounds` rounds of (raw keep-alive, raw default, executor at the default podCreationBatchSize). The ratio is
 * against the raw client with the executor's HTTP agent (keep-alive), so it measures what the executor adds on
 * top of the client; the default client (a new connection per request) is shown beside it.
 */
async function launchRows(h: FloeHarness, cluster: ClusterProc, raw: { keepAlive: CoreV1Api; plain: CoreV1Api; kc: KubeConfig }, sample: V1Pod, n: number, latencyMs: number, warm: LaunchResult | null): Promise<BenchRow[]> {
  const rounds: Record<Which, LaunchResult>[] = [];
  for (let i = 0; i < n; i++) {
    const rawKA = await rawCreateRate(raw.keepAlive, 'bench-raw', LAUNCH_TASKS, sample, `k${latencyMs}-${i}`);
    await deleteAllPods(raw.plain, 'bench-raw');
    // Diagnostic: the same with a watch open on the namespace, as the executor's informer has — the API
    // server then also encodes and sends every created pod once more.
    const w = watchPhases(raw.kc, 'bench-raw');
    await w.ready;
    const rawWatch = await rawCreateRate(raw.keepAlive, 'bench-raw', LAUNCH_TASKS, sample, `w${latencyMs}-${i}`);
    w.stop();
    await deleteAllPods(raw.plain, 'bench-raw');
    const rawDefault = await rawCreateRate(raw.plain, 'bench-raw', LAUNCH_TASKS, sample, `r${latencyMs}-${i}`);
    await deleteAllPods(raw.plain, 'bench-raw');
    const exec = await executorLaunchRate(h, cluster, raw.plain, 'bench-exec', BATCH);
    await deleteAllPods(raw.plain, 'bench-exec');
    rounds.push({ raw: rawKA, rawDefault, rawWatch, exec });
  }
  const rates = (which: Which) => rounds.map((r) => r[which].rate);
  const list = (which: Which) => rates(which).map((x) => round(x, 0)).join(', ');
  const where = latencyMs ? `, API +${latencyMs} ms` : '';
  const ratios = rounds.map((r) => r.exec.rate / r.raw.rate);
  const vsDefault = rounds.map((r) => r.exec.rate / r.rawDefault.rate);
  const cpu = (which: Which) => round(median(rounds.map((r) => r[which].cpuMsPerPod)), 2);
  return [
    {
      group: GROUP,
      metric: `pods launched/s, ${LAUNCH_TASKS} queued no-op tasks (defaults${where})`,
      value: round(median(rates('exec'))),
      unit: 'pods/s',
      baseline: { metric: `raw client create, keep-alive, ${CONCURRENCY} in flight${where}`, value: round(median(rates('raw'))), unit: 'pods/s' },
      ratio: round(median(ratios), 3),
      target: `ratio ≥ ${TARGET_RATIO}`,
      note:
        `podCreationBatchSize ${BATCH}, podCreationConcurrency ${CONCURRENCY} (the defaults); medians of ${n} rounds (${list('exec')} pods/s; raw keep-alive ${list('raw')}); ` +
        `ratio = median of round ratios (${ratios.map((r) => r.toFixed(2)).join(', ')}); ` +
        `vs the default client (a new connection per request: ${list('rawDefault')} pods/s) ${round(median(vsDefault), 2)}; ` +
        `raw keep-alive with a watch open on the namespace ${list('rawWatch')} pods/s (executor/that ${round(median(rounds.map((r) => r.exec.rate / r.rawWatch.rate)), 2)}); ` +
        `${round(median(rounds.map((r) => r.exec.loops!)), 0)} scheduler loops in the window; ` +
        `bench-process CPU ${cpu('exec')} ms/pod vs raw keep-alive ${cpu('raw')}, raw default ${cpu('rawDefault')}` +
        (warm
          ? `. Method: real Scheduler + KubernetesExecutor, client rate limit off, kubelet paused; first queue() → ${LAUNCH_TASKS}th pod acknowledged; raw = CoreV1Api.createNamespacedPod of the same pod bodies, ${CONCURRENCY} in flight; a warm-up run (${round(warm.rate, 0)} pods/s) is not counted`
          : '') +
        (latencyMs ? `; dev cluster fault latencyMs ${latencyMs} on every request` : ''),
    },
  ];
}

export async function benchKubernetes(): Promise<BenchRow[]> {
  // The Floe whose task runners the pods of part (2) run against: the cluster's pods get its home and DB.
  const home = mkdtempSync(path.join(tmpdir(), 'floe-bench-k8s-'));
  const podEnv = { FLOE_HOME: home, FLOE_DATABASE_URL: `sqlite://${path.join(home, 'floe.db')}`, FLOE__LOGGING__LEVEL: 'warn', FLOE_CONFIG: '' };
  const cluster = await startClusterProcess(podEnv);
  const rows: BenchRow[] = [];
  let launch: FloeHarness | null = null;
  let h: FloeHarness | null = null;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const kcKeepAlive = new KubeConfig();
    kcKeepAlive.loadFromFile(cluster.kubeconfigPath);
    useKeepAliveAgents(kcKeepAlive);
    const raw = { keepAlive: kcKeepAlive.makeApiClient(CoreV1Api), plain: core, kc: kcKeepAlive };
    for (const ns of ['bench-exec', 'bench-raw', 'bench-cold', 'bench-lat']) await core.createNamespace({ body: { metadata: { name: ns } } });

    // (1) Launch rate, kubelet paused: pods are only created. Raw and executor runs alternate and each ratio
    // compares runs seconds apart, so the machine's changing load skews the ratio less than the rates.
    await cluster.admin('POST', 'kubelet/pause');
    launch = await launchHarness(cluster, 'bench-exec');
    const warm = await executorLaunchRate(launch, cluster, core, 'bench-exec', BATCH);
    const sample = (await core.listNamespacedPod({ namespace: 'bench-exec', limit: 1 })).items[0];
    await deleteAllPods(core, 'bench-exec');
    rows.push(...(await launchRows(launch, cluster, raw, sample, ROUNDS, 0, warm)));
    // The same with every API request 20 ms slower, as on a real cluster: the client is no longer CPU-bound
    // and what counts is keeping CONCURRENCY requests in flight.
    await cluster.admin('PUT', 'faults', { latencyMs: API_LATENCY_MS });
    rows.push(...(await launchRows(launch, cluster, raw, sample, LATENCY_ROUNDS, API_LATENCY_MS, null)));
    await cluster.admin('PUT', 'faults', { latencyMs: 0 });
    await launch.close();
    launch = null;
    await cluster.admin('POST', 'kubelet/resume');

    // (2) Cold task latency, kubelet running.
    h = await startFloe('sqlite', {
      home,
      config: {
        core: { executor: 'kubernetes', parallelism: 8 },
        scheduler: { loopInterval: 1 },
        kubernetes: { kubeconfig: cluster.kubeconfigPath, namespace: 'bench-cold', ...NO_LIMIT },
      },
    });
    const cold = await coldTaskLatency(h, kc, 'bench-cold');
    const lat = await rawRunningLatencies(kc, core, 'bench-lat');
    const rawP50 = percentile(lat, 50);
    rows.push(
      {
        group: GROUP,
        metric: `cold task: queued → pod Running p50`,
        value: percentile(cold.queuedToRunning, 50),
        unit: 'ms',
        baseline: { metric: 'dev cluster create → Running p50', value: rawP50, unit: 'ms' },
        ratio: round(percentile(cold.queuedToRunning, 50) / rawP50, 2),
        note: `chain of ${CHAIN} light tasks (one pod at a time); queued_at (DB) → Running seen on a watch; of which queued → pod created p50 ${percentile(cold.queuedToCreated, 50)} ms; baseline: ${RAW_LATENCY_PODS} raw pods created one at a time; ratio = Floe/raw`,
      },
      { group: GROUP, metric: `cold task: queued → pod Running p95`, value: percentile(cold.queuedToRunning, 95), unit: 'ms', baseline: { metric: 'dev cluster create → Running p95', value: percentile(lat, 95), unit: 'ms' } },
      {
        group: GROUP,
        metric: `cold task: queued → task success p50`,
        value: percentile(cold.queuedToSuccess, 50),
        unit: 'ms',
        note: `to the runner's end_date; pod Running → success p50 ${percentile(cold.runningToSuccess, 50)} ms is the task runner process (node + tsx start, DAG import, task, DB writes)`,
      },
      { group: GROUP, metric: `cold task: queued → task success p95`, value: percentile(cold.queuedToSuccess, 95), unit: 'ms' },
    );
  } finally {
    await launch?.close().catch(() => {});
    await h?.close().catch(() => {});
    await cluster.stop();
    rmSync(home, { recursive: true, force: true });
  }
  return rows;
}

if (process.env[CHILD_ENV] && process.argv[1] === THIS_FILE) await clusterChild(JSON.parse(process.env[CHILD_ENV]) as Record<string, string>);
