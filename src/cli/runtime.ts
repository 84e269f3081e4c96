// Assembles the pieces the commands need from configuration: DB, logger, DAG processor, executor, scheduler.
import pino, { type Logger } from 'pino';
import { type LoadedConfig, databaseUrl, loadConfig } from '../config/load.ts';
import type { SerializedDag } from '../dag/model.ts';
import { type DagCheck, type ProcessResult, processDagFolder } from '../dag/processor.ts';
import { type Db, openDb } from '../db/connect.ts';
import { LocalExecutor } from '../executors/local/local-executor.ts';
import type { Executor, ExecutorOptions } from '../executors/types.ts';
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
  const db = await openDb(databaseUrl(cfg), { migrate: opts.migrate ?? true });
  if (opts.migrate ?? true) await db.kysely.updateTable('pool').set({ slots: cfg.core.defaultPoolSlots }).where('name', '=', 'default_pool').execute();
  return { cfg, db, log, close: () => db.close() };
}

/** Per-DAG checks beyond the SDK's own validation, by configuration (Kubernetes pod validation plugs in here). */
function dagChecksFor(_rt: Runtime): DagCheck[] {
  return [];
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
  throw new Error(`core.executor: the "${name}" executor is not available in this build yet (available: local)`);
}

export function createScheduler(rt: Runtime, executorName: string, extra: Partial<SchedulerOptions> = {}): Scheduler {
  let scheduler: Scheduler | null = null;
  const executor = createExecutor(rt, executorName, { wake: () => scheduler?.wake() });
  scheduler = new Scheduler({
    db: rt.db,
    executor,
    log: rt.log,
    loopIntervalMs: rt.cfg.scheduler.loopInterval * 1000,
    zombieThresholdMs: rt.cfg.scheduler.zombieThreshold * 1000,
    healthCheckThresholdMs: rt.cfg.scheduler.healthCheckThreshold * 1000,
    ...extra,
  });
  return scheduler;
}

export async function getDag(rt: Runtime, dagId: string): Promise<SerializedDag> {
  const row = await rt.db.kysely.selectFrom('dag').select('serialized').where('dag_id', '=', dagId).executeTakeFirst();
  if (!row) {
    const err = await rt.db.kysely.selectFrom('import_error').select(['fileloc', 'message']).where('dag_id', '=', dagId).executeTakeFirst();
    throw new Error(err ? `DAG ${dagId} failed to import from ${err.fileloc}: ${err.message}` : `no DAG "${dagId}" (run "floe dags list" to see the DAGs found in ${rt.cfg.core.dagsFolder})`);
  }
  return JSON.parse(row.serialized) as SerializedDag;
}
