// Assembles the pieces the commands need from configuration: DB, logger, DAG processor, scheduler + executor.
// Only what every such command needs is imported here; executors, the pod pipeline and their libraries load
// when a command uses them.
import type { Logger } from 'pino';
import { type LoadedConfig, databaseUrl, loadConfig } from '../config/load.ts';
import type { SerializedDag } from '../dag/model.ts';
import { type DagCheck, type ProcessOptions, type ProcessResult, processDagFolder } from '../dag/processor.ts';
import { type Db, openDb } from '../db/connect.ts';
import { migrateToLatest } from '../db/migrations.ts';
import { importErrorNaming } from '../core-queries/dags.ts';
import { createExecutor } from '../executors/factory.ts';
import { kubernetesBoundTasks, kubernetesPodConfig } from '../kubernetes/pod/config.ts';
import { Scheduler, schedulerOptions, type SchedulerOptions } from '../scheduler/scheduler.ts';
import { configureMasker } from '../secrets/settings.ts';
import { stderrLogger } from '../util/logger.ts';

export interface Runtime {
  cfg: LoadedConfig;
  db: Db;
  log: Logger;
  close(): Promise<void>;
}

export async function openRuntime(opts: { migrate?: boolean; logLevel?: string; cfg?: LoadedConfig } = {}): Promise<Runtime> {
  const cfg = opts.cfg ?? loadConfig();
  configureMasker(cfg);
  const log = stderrLogger(opts.logLevel ?? cfg.logging.level, cfg.logging.format);
  const db = await openDb(databaseUrl(cfg));
  if (opts.migrate ?? true) {
    const applied = await migrateToLatest(db.kysely, db.dialect);
    // core.defaultPoolSlots sizes default_pool when the DB is created; `floe pools set` changes it later.
    if (applied.includes('0001_initial')) await db.kysely.updateTable('pool').set({ slots: cfg.core.defaultPoolSlots }).where('name', '=', 'default_pool').execute();
  }
  return { cfg, db, log, close: () => db.close() };
}

/** Per-DAG check beyond the SDK's own validation: pods of Kubernetes-bound tasks are built and validated at parse time. */
function podCheck(rt: Runtime): DagCheck {
  const podCfg = kubernetesPodConfig(rt.cfg);
  let templates: Promise<import('../kubernetes/pod/index.ts').PodTemplates> | null = null;
  return async (dag) => {
    const tasks = kubernetesBoundTasks(rt.cfg, dag);
    if (!tasks.length) return { errors: [], warnings: [] };
    // The pod pipeline (and the Kubernetes models it validates with) loads only for DAGs that need it.
    const { loadPodTemplates, validateDagPods } = await import('../kubernetes/pod/index.ts');
    templates ??= loadPodTemplates(podCfg);
    let loaded;
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
  };
}

/** Parses the DAGs folder (or `files`) into the DB; `parser`: a parser process started ahead (startDagParser). */
export function parseDags(rt: Runtime, files?: string[], parser?: ProcessOptions['parser']): Promise<ProcessResult> {
  return processDagFolder(rt.db, {
    parser,
    dagsFolder: rt.cfg.core.dagsFolder,
    timeoutMs: rt.cfg.core.dagFileProcessorTimeout * 1000,
    defaults: { defaultRetryDelay: rt.cfg.core.defaultRetryDelay, maxActiveRuns: rt.cfg.core.maxActiveRunsPerDag, maxActiveTasks: rt.cfg.core.maxActiveTasksPerDag, maxMapLength: rt.cfg.core.maxMapLength },
    check: podCheck(rt),
    files,
  });
}

/** A scheduler around the named executor, both as configured; `extra` overrides scheduler settings. */
export async function createScheduler(rt: Runtime, executorName: string, extra: Partial<SchedulerOptions> = {}): Promise<Scheduler> {
  let scheduler: Scheduler | null = null;
  const executor = await createExecutor(rt, executorName, { wake: () => scheduler?.wake() });
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
