// floe tasks …
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command, Option } from '@commander-js/extra-typings';
import { getTI } from '../../db/task-instances.ts';
import { runTaskTry } from '../../worker/runner.ts';
import { registerTaskRun } from './task-run.ts';
import { taskLogPath } from '../../worker/task-log.ts';
import { parseFormat, printRows } from '../output.ts';
import { followPodLog, podRefOf, readPodLog } from '../../kubernetes/pod-logs.ts';
import { getDag, kubeApi, type Runtime } from '../runtime.ts';
import { parseIntArg, withRuntime } from './common.ts';
import { triggerRun } from '../../scheduler/dag-runs.ts';

const outputOption = () => new Option('-o, --output <format>', 'table or json').default('table').argParser(parseFormat);

function runnerDeps(rt: Runtime) {
  return { db: rt.db, logsFolder: rt.cfg.logging.logsFolder!, heartbeatSeconds: rt.cfg.scheduler.taskHeartbeatInterval };
}

export function registerTasksCommands(program: Command): void {
  const tasks = program.command('tasks').description('task instances: run, test, states, logs');

  tasks
    .command('list <dagId>')
    .description('tasks of a DAG with their upstream tasks and options')
    .addOption(outputOption())
    .action((dagId, o) =>
      withRuntime(async (rt) => {
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
    .action((dagId, taskId, runOrDate) =>
      withRuntime(async (rt) => {
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
        const outcome = await runTaskTry(runnerDeps(rt), { dagId, taskId, runId: runId!, mapIndex: -1 }, 1, 'test');
        if (!outcome.ran) throw new Error(outcome.reason);
        console.log(JSON.stringify({ state: outcome.state, reason: outcome.reason, value: outcome.value ?? null }, null, 2));
        if (outcome.state !== 'success') process.exitCode = 1;
      }),
    );

  tasks
    .command('states-for-dag-run <dagId> <runId>')
    .description('state, tries and failure reason of every task of a DAG run')
    .addOption(outputOption())
    .action((dagId, runId, o) =>
      withRuntime(async (rt) => {
        const rows = await rt.db.kysely
          .selectFrom('task_instance')
          .select(['task_id', 'map_index', 'state', 'try_number', 'start_date', 'end_date', 'hostname', 'external_executor_id', 'reason'])
          .where('dag_id', '=', dagId)
          .where('run_id', '=', runId)
          .orderBy('task_id')
          .execute();
        if (!rows.length) throw new Error(`no task instances for DAG ${dagId} run ${runId}`);
        printRows(rows, o.output);
      }),
    );

  tasks
    .command('history <dagId> <runId>')
    .description('every try of every task of a DAG run, with launch failures (runner never started) in between')
    .addOption(outputOption())
    .action((dagId, runId, o) =>
      withRuntime(async (rt) => {
        const tries = await rt.db.kysely
          .selectFrom('task_instance_history')
          .select(['task_id', 'try_number', 'state', 'start_date', 'end_date', 'reason'])
          .where('dag_id', '=', dagId)
          .where('run_id', '=', runId)
          .execute();
        const launches = await rt.db.kysely
          .selectFrom('task_launch_failure')
          .select(['task_id', 'try_number', 'recorded_at', 'reason'])
          .where('dag_id', '=', dagId)
          .where('run_id', '=', runId)
          .execute();
        const rows = [
          ...tries.map((t) => ({ ...t, at: t.end_date ?? '' })),
          ...launches.map((l) => ({ task_id: l.task_id, try_number: l.try_number, state: 'launch_failed', start_date: null, end_date: l.recorded_at, reason: l.reason, at: l.recorded_at })),
        ]
          // Launch failures of a try come before the row that ended it (same millisecond included).
          .sort((a, b) => a.task_id.localeCompare(b.task_id) || a.try_number - b.try_number || Number(a.state !== 'launch_failed') - Number(b.state !== 'launch_failed') || a.at.localeCompare(b.at));
        printRows(rows.map(({ at: _at, ...r }) => r), o.output);
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
        const ti = await getTI(rt.db.kysely, key);
        let tryNumber = o.try ? parseIntArg(o.try, '--try') : null;
        const dir = path.dirname(taskLogPath(rt.cfg.logging.logsFolder!, key, 1));
        const tries = existsSync(dir) ? readdirSync(dir).map((f) => /^attempt=(\d+)\.log$/.exec(f)?.[1]).filter(Boolean).map(Number) : [];
        tryNumber ??= Math.max(ti?.try_number ?? 0, ...tries);
        const file = taskLogPath(rt.cfg.logging.logsFolder!, key, tryNumber);
        // The current try of a task instance that ran in a pod: its log may be only in the pod so far.
        const pod = ti && ti.try_number === tryNumber ? podRefOf(ti.external_executor_id) : null;
        if (pod && (o.follow || !existsSync(file))) {
          const api = kubeApi(rt.cfg);
          if (o.follow) await followPodLog(api, pod, process.stdout);
          else process.stdout.write(await readPodLog(api, pod));
          return;
        }
        if (!tryNumber || !existsSync(file)) throw new Error(`no log for ${dagId}.${taskId} run ${runId}${tryNumber ? ` try ${tryNumber}: ${file} does not exist` : ` in ${dir}`}`);
        process.stdout.write(readFileSync(file));
      }),
    );
}
