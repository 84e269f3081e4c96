// Assembles the pieces the commands need from configuration: DB, logger, DAG processor, executor, scheduler.
import path from 'node:path';
import pino, { type Logger } from 'pino';
import { type KubernetesPodConfig, loadPodTemplates, type PodTemplates, validateDagPods } from '../kubernetes/pod/index.ts';
import { type LoadedConfig, databaseUrl, loadConfig } from '../config/load.ts';
import type { SerializedDag } from '../dag/model.ts';
import { type DagCheck, type ProcessResult, processDagFolder } from '../dag/processor.ts';
import { type Db, openDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrations.ts';
import { POD_SETTING_KEYS } from '../sdk/types.ts';
import { LocalExecutor } from '../executors/local/local-executor.ts';
import { KubernetesExecutor } from '../executors/kubernetes/kubernetes-executor.ts';
import { createHybridExecutor } from '../executors/hybrid/hybrid-executor.ts';
import { createQueueExecutor } from '../executors/queue/queue-executor.ts';
import { type Executor, type ExecutorOptions, type TIKey, tiKeyString } from '../executors/types.ts';
import { importErrorNaming } from '../core-queries/dags.ts';
import { liveSchedulerIds } from '../db/jobs.ts';
import { readTries, tryIsOver } from '../db/task-instances.ts';
import { KubeApi, makeKubeConfig } from '../kubernetes/client.ts';
import { Scheduler, type SchedulerOptions } from '../scheduler/scheduler.ts';

export interface Runtime {
  cfg: LoadedConfig;
  db: Db;
  log: Logger;
  close(): Promise<void>;
}

export async function openRuntime(opts: { migrate?: boolean; logLevel?: string; cfg?: LoadedConfig } = {}): Promise<Runtime> {
  const cfg = opts.cfg ?? loadConfig();
  const log = pino({ level: opts.logLevel ?? cfg.logging.level }, pino.destination(2));
  const db = await openDb(databaseUrl(cfg));
  if (opts.migrate ?? true) {
    const applied = await migrateToLatest(db.kysely, db.dialect);
    // core.defaultPoolSlots sizes default_pool when the DB is created; `floe pools set` changes it later.
    if (applied.includes('0001_initial')) await db.kysely.updateTable('pool').set({ slots: cfg.core.defaultPoolSlots }).where('name', '=', 'default_pool').execute();
  }
  return { cfg, db, log, close: () => db.close() };
}

/** The pod pipeline's slice of the configuration; relative paths resolve against the config file's folder. */
export function kubernetesPodConfig(cfg: LoadedConfig): KubernetesPodConfig {
  const k = cfg.kubernetes;
  return {
    namespace: k.namespace,
    podTemplateFile: k.podTemplateFile,
    podTemplates: k.podTemplates,
    queueTemplates: k.queueTemplates,
    podMutationHook: k.podMutationHook,
    workerImage: k.workerImage,
    baseDir: cfg.configFile ? path.dirname(cfg.configFile) : process.cwd(),
  };
}

/** Tasks whose pods the DAG processor builds and validates: every task that will run in a pod, and any task that sets pod settings. */
export function kubernetesBoundTasks(cfg: LoadedConfig, dag: SerializedDag): string[] {
  const executor = cfg.core.executor;
  return dag.tasks
    .filter((t) => {
      if (executor === 'kubernetes') return true;
      if (executor === 'hybrid' && t.queue === cfg.hybrid.kubernetesQueue) return true;
      const ec = t.executorConfig ?? {};
      return POD_SETTING_KEYS.some((key) => ec[key] != null);
    })
    .map((t) => t.taskId);
}

/** Per-DAG checks beyond the SDK's own validation: pods of Kubernetes-bound tasks are built and validated at parse time. */
function dagChecksFor(rt: Runtime): DagCheck[] {
  const podCfg = kubernetesPodConfig(rt.cfg);
  let templates: Promise<PodTemplates> | null = null;
  return [
    async (dag) => {
      const tasks = kubernetesBoundTasks(rt.cfg, dag);
      if (!tasks.length) return { errors: [], warnings: [] };
      templates ??= loadPodTemplates(podCfg);
      let loaded: PodTemplates;
      try {
        loaded = await templates;
      } catch (e) {
        templates = null;
        return { errors: [{ dagId: dag.dagId, taskId: null, at: null, message: `pod templates: ${(e as Error).message}` }], warnings: [] };
      }
      const r = await validateDagPods(dag, tasks, podCfg, loaded);
      return {
        errors: r.errors.map((e) => ({ dagId: dag.dagId, taskId: e.taskId, at: null, message: `task ${e.taskId}: ${e.path ? `${e.path}: ` : ''}${e.message}` })),
        warnings: r.warnings.map((w) => ({ dagId: dag.dagId, taskId: w.taskId, at: null, message: `task ${w.taskId}: ${w.message}` })),
      };
    },
  ];
}

export function parseDags(rt: Runtime, files?: string[]): Promise<ProcessResult> {
  const checks = dagChecksFor(rt);
  const check: DagCheck | undefined = checks.length
    ? async (dag) => {
        const results = await Promise.all(checks.map((c) => c(dag)));
        return { errors: results.flatMap((r) => r.errors), warnings: results.flatMap((r) => r.warnings) };
      }
    : undefined;
  return processDagFolder(rt.db, {
    dagsFolder: rt.cfg.core.dagsFolder,
    timeoutMs: rt.cfg.core.dagFileProcessorTimeout * 1000,
    defaults: { defaultRetryDelay: rt.cfg.core.defaultRetryDelay, maxActiveRuns: rt.cfg.core.maxActiveRunsPerDag, maxActiveTasks: rt.cfg.core.maxActiveTasksPerDag },
    check,
    files,
  });
}

export function createExecutor(rt: Runtime, name: string, opts: ExecutorOptions): Executor {
  if (name === 'local')
    return new LocalExecutor(
      {
        parallelism: rt.cfg.core.parallelism,
        isolate: rt.cfg.core.isolateTasks,
        runner: { dbUrl: databaseUrl(rt.cfg), logsFolder: rt.cfg.logging.logsFolder!, heartbeatSeconds: rt.cfg.scheduler.taskHeartbeatInterval },
      },
      opts,
    );
  if (name === 'kubernetes') return createKubernetesExecutor(rt, opts);
  if (name === 'queue') return createQueueExecutor(rt.cfg, rt.db, opts, rt.log);
  if (name === 'hybrid') return createHybridExecutor(rt, opts);
  throw new Error(`core.executor: unknown executor "${name}" (available: local, kubernetes, queue, hybrid)`);
}

/** The Kubernetes API as configured (kubernetes.kubeconfig / context / inCluster, apiQps / apiBurst). */
export function kubeApi(cfg: LoadedConfig): KubeApi {
  const k = cfg.kubernetes;
  return new KubeApi(makeKubeConfig({ kubeconfig: k.kubeconfig, context: k.context, inCluster: k.inCluster }), { qps: k.apiQps, burst: k.apiBurst });
}

export function createKubernetesExecutor(rt: Runtime, opts: ExecutorOptions): KubernetesExecutor {
  const k = rt.cfg.kubernetes;
  const api = kubeApi(rt.cfg);
  const namespaces = [...new Set([k.namespace, ...(k.multiNamespaceMode ? k.multiNamespaces : [])])];
  return new KubernetesExecutor(
    api,
    {
      pod: kubernetesPodConfig(rt.cfg),
      namespaces,
      parallelism: rt.cfg.core.parallelism,
      batchSize: k.podCreationBatchSize,
      concurrency: k.podCreationConcurrency,
      publishMaxRetries: k.taskPublishMaxRetries,
      deletePolicy: k.deleteWorkerPods,
      pendingTimeoutMs: k.podPendingTimeout * 1000,
      fastFailReasons: k.fastFailReasons,
      sweepIntervalMs: k.orphanSweepInterval * 1000,
      logsFolder: rt.cfg.logging.logsFolder,
    },
    {
      ...opts,
      log: rt.log,
      tryIsOver: (tries) => triesAreOver(rt.db, tries),
      // The orphan sweep leaves live schedulers' pods to them.
      schedulersAlive: (ids) => liveSchedulerIds(rt.db.kysely, ids, rt.cfg.scheduler.healthCheckThreshold * 1000),
    },
  );
}

/** For each try: true when the DB says it is over (a final state, a later try, or no such task instance). */
export async function triesAreOver(db: Db, tries: { key: TIKey; tryNumber: number }[]): Promise<boolean[]> {
  const rows = await readTries(db.kysely, tries.map((t) => t.key));
  return tries.map((t) => tryIsOver(rows.get(tiKeyString(t.key)), t.tryNumber));
}

/** The scheduler's settings from the configuration, around a given executor; `extra` overrides. */
export function schedulerOptions(rt: Pick<Runtime, 'cfg' | 'db' | 'log'>, executor: Executor, extra: Partial<SchedulerOptions> = {}): SchedulerOptions {
  return {
    db: rt.db,
    executor,
    log: rt.log,
    loopIntervalMs: rt.cfg.scheduler.loopInterval * 1000,
    zombieThresholdMs: rt.cfg.scheduler.zombieThreshold * 1000,
    healthCheckThresholdMs: rt.cfg.scheduler.healthCheckThreshold * 1000,
    launchFailureRetries: rt.cfg.kubernetes.podLaunchFailureRetries,
    ...extra,
  };
}

export function createScheduler(rt: Runtime, executorName: string, extra: Partial<SchedulerOptions> = {}): Scheduler {
  let scheduler: Scheduler | null = null;
  const executor = createExecutor(rt, executorName, { wake: () => scheduler?.wake() });
  scheduler = new Scheduler(schedulerOptions(rt, executor, extra));
  return scheduler;
}

export async function getDag(rt: Runtime, dagId: string): Promise<SerializedDag> {
  const row = await rt.db.kysely.selectFrom('dag').select('serialized').where('dag_id', '=', dagId).executeTakeFirst();
  if (!row) {
    const err = await importErrorNaming(rt.db.kysely, dagId);
    throw new Error(err ? `DAG ${dagId} failed to import from ${err.fileloc}: ${err.message}` : `no DAG "${dagId}" (run "floe dags list" to see the DAGs found in ${rt.cfg.core.dagsFolder})`);
  }
  return JSON.parse(row.serialized) as SerializedDag;
}
