// `floe tasks run`: the task runner's command, what every pod and queue worker starts for a try. It loads
// only what running a try needs (no Kubernetes client, no queue library), so a try starts fast.
import type { Command } from '@commander-js/extra-typings';
import { parseIntArg } from './common-args.ts';

export function registerTaskRun(tasks: Command): void {
  tasks
    .command('run <dagId> <taskId> <runId>')
    .description('the task runner: run one queued try, record its state, XCom and log (what every executor runs)')
    .option('--try <n>', 'try number (default: the try the task instance is queued for)')
    .option('--map-index <n>', 'map index', '-1')
    .option('--launch <id>', 'the launch of the try this runner was started for (executors pass it; a launch taken back is not run)')
    .action(async (dagId, taskId, runId, o) => {
      const [{ databaseUrl, loadConfig }, { openDb }, { getTI }, { runTaskTry }] = await Promise.all([
        import('../../config/load.ts'),
        import('../../db/connect.ts'),
        import('../../db/task-instances.ts'),
        import('../../worker/runner.ts'),
      ]);
      const cfg = loadConfig();
      const db = await openDb(databaseUrl(cfg));
      try {
        const key = { dagId, taskId, runId, mapIndex: parseIntArg(o.mapIndex, '--map-index') };
        const ti = await getTI(db.kysely, key);
        if (!ti) throw new Error(`no task instance ${dagId}.${taskId} in run ${runId}`);
        const tryNumber = o.try ? parseIntArg(o.try, '--try') : ti.try_number;
        const deps = { db, logsFolder: cfg.logging.logsFolder!, heartbeatSeconds: cfg.scheduler.taskHeartbeatInterval, echoLog: true, cfg };
        const outcome = await runTaskTry(deps, key, tryNumber, 'run', { launchId: o.launch });
        if (!outcome.ran) {
          console.error(`not run: ${outcome.reason}`);
          process.exitCode = 2;
          return;
        }
        console.log(`${dagId}.${taskId} try ${tryNumber}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ''}`);
        if (outcome.state !== 'success') process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
}
