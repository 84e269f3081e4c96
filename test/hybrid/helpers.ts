// Hybrid-executor test helpers: a Floe on `core.executor: hybrid` against the dev cluster (pods) and the
// machine's Redis (BullMQ), a scheduler in this process or as a `floe scheduler` child process, and the task
// bodies' own execution log (who ran which try: a queue worker or a pod).
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { databaseUrl } from '../../src/config/load.ts';
import { createHybridExecutor, type HybridExecutor } from '../../src/executors/hybrid/hybrid-executor.ts';
import { Scheduler, schedulerOptions } from '../../src/scheduler/scheduler.ts';
import { sleep } from '../../src/util/time.ts';
import { BIN_DIR, type K8sHarness, startK8sFloe } from '../kubernetes/executor/helpers.ts';
import { deletePrefix, REDIS_URL, redisAvailable, startCliWorker, uniquePrefix, type WorkerProc, workerEnv } from '../queue/helpers.ts';

export { REDIS_URL, redisAvailable };

export interface HybridHarness extends K8sHarness {
  prefix: string;
  /** `floe worker` processes started with startWorker (killed by close). */
  workers: WorkerProc[];
  startWorker(name: string, queues: string, concurrency: number): Promise<WorkerProc>;
  /** Environment of a `floe scheduler` process on this Floe (hybrid executor, test-sized intervals). */
  schedulerEnv(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

/** Scheduler settings every hybrid test uses: fast loops, a quick verdict on dead schedulers, quick reconciliation. */
const SCHEDULER = { loopInterval: 0.2, healthCheckThreshold: 3, taskHeartbeatInterval: 0.5 };

export async function startHybridFloe(what: string): Promise<HybridHarness> {
  const prefix = uniquePrefix(`hybrid-${what}`);
  const k = await startK8sFloe(
    { deleteWorkerPods: 'never' },
    { core: { executor: 'hybrid', parallelism: 8 }, queue: { redisUrl: REDIS_URL, prefix, reconcileInterval: 1 }, scheduler: SCHEDULER },
  );
  const workers: WorkerProc[] = [];
  return {
    ...k,
    prefix,
    workers,
    async startWorker(name, queues, concurrency) {
      const w = startCliWorker(k.h, workerEnv(k.h, { redisUrl: REDIS_URL, prefix }), ['--queues', queues, '--concurrency', String(concurrency), '--name', name], name);
      workers.push(w);
      await w.waitFor(new RegExp(`floe worker ${name}: queues`));
      return w;
    },
    schedulerEnv(extra = {}) {
      return {
        FLOE_HOME: k.h.home,
        FLOE_CONFIG: '',
        FLOE_DAGS_FOLDER: k.h.dagsFolder,
        FLOE_DATABASE_URL: databaseUrl(k.h.rt.cfg),
        FLOE__LOGGING__LEVEL: 'info',
        FLOE__CORE__EXECUTOR: 'hybrid',
        FLOE__CORE__PARALLELISM: '8',
        FLOE__KUBERNETES__KUBECONFIG: k.cluster.kubeconfigPath,
        FLOE__KUBERNETES__DELETE_WORKER_PODS: 'never',
        FLOE__KUBERNETES__API_QPS: '100',
        FLOE__KUBERNETES__API_BURST: '200',
        FLOE__QUEUE__REDIS_URL: REDIS_URL,
        FLOE__QUEUE__PREFIX: prefix,
        FLOE__QUEUE__RECONCILE_INTERVAL: '1',
        FLOE__SCHEDULER__LOOP_INTERVAL: String(SCHEDULER.loopInterval),
        FLOE__SCHEDULER__HEALTH_CHECK_THRESHOLD: String(SCHEDULER.healthCheckThreshold),
        FLOE__SCHEDULER__TASK_HEARTBEAT_INTERVAL: String(SCHEDULER.taskHeartbeatInterval),
        ...extra,
      };
    },
    async close() {
      await Promise.all(workers.map((w) => w.kill()));
      await deletePrefix(REDIS_URL, prefix).catch(() => {});
      await k.close();
    },
  };
}

/** A Scheduler in this process whose executor is the hybrid executor, as `core.executor: hybrid` builds it. */
export function hybridScheduler(k: HybridHarness): { scheduler: Scheduler; executor: HybridExecutor } {
  let scheduler: Scheduler | null = null;
  const rt = k.h.rt;
  const executor = createHybridExecutor(rt, { wake: () => scheduler?.wake() });
  scheduler = new Scheduler(schedulerOptions(rt, executor));
  return { scheduler, executor };
}

export interface SchedulerProc {
  child: ChildProcess;
  output(): string;
  exited: Promise<void>;
}

/** `floe scheduler` (bin/floe.js) as a child process with `env`; its stderr (pino lines) goes to a file. */
export function startSchedulerProcess(k: HybridHarness, name: string, env: Record<string, string>): SchedulerProc {
  const logFile = path.join(k.h.home, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const args = [path.join(BIN_DIR, 'floe.js'), 'scheduler'];
  const child = spawn(process.execPath, args, { cwd: k.h.home, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, output: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '') };
}

/** Stops a scheduler process: SIGTERM, then SIGKILL if it is still there after `graceMs`. */
export async function stopSchedulerProcess(p: SchedulerProc, graceMs = 10_000): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  p.child.kill('SIGTERM');
  const done = await Promise.race([p.exited.then(() => true), sleep(graceMs).then(() => false)]);
  if (!done) {
    p.child.kill('SIGKILL');
    await p.exited;
  }
}

/**
 * Task body helper source for DAG files: appends `S|E task try pid runner ms` lines to $FLOE_HOME/exec.log,
 * where runner is the queue worker's name, or `pod:<pod name>` inside a pod (the dev cluster sets HOSTNAME).
 * test/queue/helpers.ts `readExecutions` reads the file.
 */
export const MARK_SOURCE = `import { appendFileSync } from 'node:fs';
const mark = (what, ctx) => appendFileSync(process.env.FLOE_HOME + '/exec.log', [what, ctx.taskId, ctx.tryNumber, process.pid, process.env.FLOE_WORKER_NAME ?? 'pod:' + process.env.HOSTNAME, Date.now()].join(' ') + '\\n');
`;

export const execLogOf = (k: HybridHarness): string => path.join(k.h.home, 'exec.log');
