// floe tasks …
import { readFileSync } from 'node:fs';
import { type Command, Option } from '@commander-js/extra-typings';
import { registerTaskRun } from './task-run.ts';
import { parseFormat, printRows } from '../output.ts';
import type { Runtime } from '../runtime.ts';
import { parseIntArg, withRuntime } from './common.ts';

const outputOption = () => new Option('-o, --output <format>', 'table or json').default('table').argParser(parseFormat);

function runnerDeps(rt: Runtime) {
  return { db: rt.db, logsFolder: rt.cfg.logging.logsFolder!, heartbeatSeconds: rt.cfg.scheduler.taskHeartbeatInterval, cfg: rt.cfg };
}

export function registerTasksCommands(program: Command): void {
  const tasks = program.command('tasks').description('task instances: run, test, states, logs');

  tasks
    .command('list <dagId>')
    .description('tasks of a DAG with their upstream tasks and options')
    .addOption(outputOption())
    .action((dagId, o) =>
      withRuntime(async (rt) => {
        const { getDag } = await import('../runtime.ts');
        const dag = await getDag(rt, dagId);
        printRows(
          dag.tasks.map((t) => ({ task_id: t.taskId, kind: t.kind, upstream: t.upstream.join(','), trigger_rule: t.triggerRule, retries: t.retries, pool: t.pool, queue: t.queue })),
          o.output,
        );
      }),
    );

  registerTaskRun(tasks);

  tasks
    .command('test <dagId> <taskId> [runIdOrDate]')
    .description('run one task now without recording state (reads XCom of the given run if it exists)')
    .option('--map-index <n>', 'for a mapped task: the instance to run (its elements come from the given run)', '-1')
    .action((dagId, taskId, runOrDate, o) =>
      withRuntime(async (rt) => {
        const [{ getDag }, { triggerRun }, { runTaskTry }] = await Promise.all([import('../runtime.ts'), import('../../scheduler/dag-runs.ts'), import('../../worker/runner.ts')]);
        const dag = await getDag(rt, dagId);
        let runId = runOrDate;
        const exists = runId && (await rt.db.kysely.selectFrom('dag_run').select('run_id').where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirst());
        if (!exists) {
          const date = runOrDate ? new Date(runOrDate) : new Date();
          if (Number.isNaN(date.getTime())) throw new Error(`"${runOrDate}" is neither a run id of ${dagId} nor a date`);
          runId = await triggerRun(rt.db.kysely, dag, { logicalDate: date, runType: 'test' });
          await rt.db.kysely.updateTable('dag_run').set({ state: 'success', end_date: new Date().toISOString() }).where('dag_id', '=', dagId).where('run_id', '=', runId).execute();
        }
        if (!dag.tasks.some((t) => t.taskId === taskId)) throw new Error(`DAG ${dagId} has no task "${taskId}"`);
        const mapIndex = parseIntArg(o.mapIndex, '--map-index');
        if (mapIndex < 0 && dag.tasks.find((t) => t.taskId === taskId)?.mapped) throw new Error(`task ${taskId} is mapped: give --map-index N to test its instance N`);
        const outcome = await runTaskTry(runnerDeps(rt), { dagId, taskId, runId: runId!, mapIndex }, 1, 'test');
        if (!outcome.ran) throw new Error(outcome.reason);
        // What the try read as secrets (its connections' passwords, values it registered) prints as ***.
        const { globalMasker } = await import('../../secrets/masker.ts');
        console.log(globalMasker().mask(JSON.stringify({ state: outcome.state, reason: outcome.reason, value: outcome.value ?? null }, null, 2)));
        if (outcome.state !== 'success') process.exitCode = 1;
      }),
    );

  tasks
    .command('states-for-dag-run <dagId> <runId>')
    .description('state, tries and failure reason of every task of a DAG run')
    .addOption(outputOption())
    .action((dagId, runId, o) =>
      withRuntime(async (rt) => {
        const { taskInstancesOfRun } = await import('../../core-queries/task-instances.ts');
        const { rows } = await taskInstancesOfRun(rt.db.kysely, dagId, runId);
        if (!rows.length) throw new Error(`no task instances for DAG ${dagId} run ${runId}`);
        printRows(
          rows.map((r) => ({ task_id: r.task_id, map_index: r.map_index, state: r.state, try_number: r.try_number, start_date: r.start_date, end_date: r.end_date, hostname: r.hostname, external_executor_id: r.external_executor_id, reason: r.reason })),
          o.output,
        );
      }),
    );

  tasks
    .command('history <dagId> <runId>')
    .description('every try of every task of a DAG run, with launch failures (runner never started) in between')
    .addOption(outputOption())
    .action((dagId, runId, o) =>
      withRuntime(async (rt) => {
        const { tryHistory } = await import('../../core-queries/task-instances.ts');
        const rows = await tryHistory(rt.db.kysely, dagId, runId);
        printRows(rows.map((r) => ({ task_id: r.task_id, map_index: r.map_index, try_number: r.try_number, state: r.state, start_date: r.start_date, end_date: r.end_date, reason: r.reason })), o.output);
      }),
    );

  tasks
    .command('logs <dagId> <taskId> <runId>')
    .description('print the log of a try (default: the latest); a try running in a pod is read through the Kubernetes API')
    .option('--try <n>', 'try number')
    .option('--map-index <n>', 'map index', '-1')
    .option('-f, --follow', 'for a try running in a pod: keep streaming until it ends')
    .action((dagId, taskId, runId, o) =>
      withRuntime(async (rt) => {
        const key = { dagId, taskId, runId, mapIndex: parseIntArg(o.mapIndex, '--map-index') };
        const { locateTaskLog } = await import('../../core-queries/logs.ts');
        const src = await locateTaskLog(rt.db.kysely, rt.cfg.logging.logsFolder!, key, o.try ? parseIntArg(o.try, '--try') : null, { preferPod: !!o.follow });
        if (src.kind === 'pod') {
          const [{ kubeApiFromConfig }, { followPodLog, readPodLog }] = await Promise.all([import('../../kubernetes/client.ts'), import('../../kubernetes/pod-logs.ts')]);
          const api = kubeApiFromConfig(rt.cfg);
          if (o.follow) await followPodLog(api, src.pod, process.stdout);
          else process.stdout.write(await readPodLog(api, src.pod));
          return;
        }
        process.stdout.write(readFileSync(src.file));
      }),
    );
}
