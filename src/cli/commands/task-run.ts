// `floe tasks run`: the task runner's command, what every pod and queue worker starts for a try. It loads
// only what running a try needs (no Kubernetes client, no queue library), so a try starts fast.
import type { Command } from '@commander-js/extra-typings';
import type { RunnerDeps } from '../../worker/runner.ts';
import type { WarmPod } from '../../worker/warm-pod.ts';
import { parseIntArg } from './common-args.ts';

export function registerTaskRun(tasks: Command): void {
  tasks
    .command('run <dagId> <taskId> <runId>')
    .description('the task runner: run one queued try, record its state, XCom and log (what every executor runs)')
    .option('--try <n>', 'try number (default: the try the task instance is queued for)')
    .option('--map-index <n>', 'map index', '-1')
    .option('--launch <id>', 'the launch of the try this runner was started for (executors pass it; a launch taken back is not run)')
    .option('--warm-pod <namespace/name>', 'this runner is warm pod NAME (kubernetes.warmPods): after its try, serve further tries with the same spec key')
    .option('--spec-key <key>', 'the warm pod\'s spec key')
    .option('--scheduler-id <id>', 'the scheduler whose executor hands the warm pod its tries')
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
        let deps: RunnerDeps = { db, logsFolder: cfg.logging.logsFolder!, heartbeatSeconds: cfg.scheduler.taskHeartbeatInterval, echoLog: true, cfg };
        let warm: WarmPod | null = null;
        if (o.warmPod) {
          // A warm pod: it offers itself again with each try's outcome (see src/worker/warm-pod.ts).
          const [namespace, podName] = o.warmPod.split('/');
          if (!namespace || !podName || !o.specKey || !o.schedulerId) throw new Error('--warm-pod needs NAMESPACE/NAME, --spec-key and --scheduler-id');
          const w = cfg.kubernetes.warmPods;
          const { WarmPod } = await import('../../worker/warm-pod.ts');
          warm = new WarmPod(db, { podName, namespace, schedulerId: o.schedulerId, specKey: o.specKey, idleSeconds: w.idleSeconds, maxTriesPerPod: w.maxTriesPerPod, maxWarmPods: w.maxWarmPods ?? cfg.core.parallelism });
          deps = { ...deps, afterTry: warm.afterTry };
        }
        const outcome = await runTaskTry(deps, key, tryNumber, 'run', { launchId: o.launch });
        if (!outcome.ran) {
          console.error(`not run: ${outcome.reason}`);
          process.exitCode = 2;
          return;
        }
        console.log(`${dagId}.${taskId} try ${tryNumber}: ${outcome.state}${outcome.reason ? ` (${outcome.reason})` : ''}`);
        if (warm) {
          // A warm pod's exit code is no try's: each try's outcome is in the database.
          console.log(`warm pod ${o.warmPod}: ${await warm.serve(deps)}`);
          return;
        }
        // A sensor waiting for its next poke or a skipped task did not fail: its process (pod) ends successfully.
        if (outcome.state === 'failed' || outcome.state === 'up_for_retry') process.exitCode = 1;
      } finally {
        await db.close();
      }
    });
}
