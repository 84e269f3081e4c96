// floe scheduler, floe standalone: long-running processes.
import type { ChildProcess } from 'node:child_process';
import type { Command } from '@commander-js/extra-typings';
import { folderSignature } from '../../dag/processor.ts';
import type { Runtime } from '../runtime.ts';

/** Re-parses the DAGs folder whenever its files change (checked every dagDirListInterval). */
function startDagProcessorLoop(rt: Runtime, parseDags: (rt: Runtime) => Promise<{ dags: unknown[]; errors: unknown[] }>, onParsed: () => void): () => void {
  let signature = folderSignature(rt.cfg.core.dagsFolder);
  let busy = false;
  const timer = setInterval(async () => {
    if (busy) return;
    const now = folderSignature(rt.cfg.core.dagsFolder);
    if (now === signature) return;
    busy = true;
    try {
      const r = await parseDags(rt);
      signature = now;
      rt.log.info({ dags: r.dags.length, importErrors: r.errors.length }, 'DAG files re-parsed');
      onParsed();
    } catch (e) {
      rt.log.error({ err: e }, 'DAG processing failed');
    } finally {
      busy = false;
    }
  }, Math.max(1, rt.cfg.scheduler.dagDirListInterval) * 1000);
  return () => clearInterval(timer);
}

async function runSchedulerProcess(executorName?: string, o: { api?: boolean } = {}): Promise<void> {
  // The DAG parser process starts while the rest loads; it is ended whatever happens next.
  const { startDagParser, stopDagParser } = await import('../../dag/parse-files.ts');
  const parser = startDagParser();
  try {
    await runScheduler(parser, executorName, o);
  } finally {
    stopDagParser(parser);
  }
}

async function runScheduler(parser: Promise<ChildProcess>, executorName?: string, o: { api?: boolean } = {}): Promise<void> {
  const [{ databaseUrl, loadConfig }, { acquireSqliteSchedulerLock }, { createScheduler, openRuntime, parseDags }] = await Promise.all([
    import('../../config/load.ts'),
    import('../../scheduler/scheduler-lock.ts'),
    import('../runtime.ts'),
  ]);
  const serving = o.api ? await import('./api-serve.ts') : null;
  const cfg = loadConfig();
  // standalone also serves the API and web UI; with no token configured it makes an admin token.
  const generatedToken = serving ? serving.ensureStandaloneToken(cfg) : null;
  // --executor overrides core.executor everywhere, including which tasks get their pods validated at parse time.
  if (executorName) cfg.core.executor = executorName as typeof cfg.core.executor;
  // One scheduler per SQLite file (several need PostgreSQL); taken before anything touches the DB.
  const lock = await acquireSqliteSchedulerLock(databaseUrl(cfg), cfg.home);
  const rt = await openRuntime({ cfg });
  const scheduler = await createScheduler(rt, rt.cfg.core.executor);
  // The executor starts (its libraries load, its watches open) while the DAG files are parsed.
  const [first] = await Promise.all([parseDags(rt, undefined, parser), scheduler.start()]);
  rt.log.info({ dags: first.dags.length, importErrors: first.errors.length, dagsFolder: rt.cfg.core.dagsFolder }, 'DAG files parsed');
  for (const e of first.errors) rt.log.warn({ file: e.fileloc, at: e.at }, `import error: ${e.message}`);
  const stopProcessor = startDagProcessorLoop(rt, parseDags, () => scheduler.wake());
  const api = serving ? await serving.serveApi(rt, { generatedToken }) : null;
  let stopped: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    rt.log.info({ signal }, 'stopping');
    stopProcessor();
    stopped ??= Promise.all([scheduler.stop(), api?.close()]).then(() => undefined);
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  await scheduler.run();
  // The loop ends when stop() was called: let it finish (executor, job row) before the DB closes.
  await stopped;
  await rt.close();
  await lock.release();
}

export function registerSchedulerCommands(program: Command): void {
  program
    .command('scheduler')
    .description('DAG processor + scheduler loop + the configured executor')
    .option('--executor <name>', 'override core.executor')
    .action((o) => runSchedulerProcess(o.executor));
  program
    .command('standalone')
    .description('everything in one process tree on the embedded default (SQLite + local executor), with the API and web UI')
    .option('--executor <name>', 'override core.executor')
    .action((o) => runSchedulerProcess(o.executor ?? 'local', { api: true }));
}
