// floe tasks clear / mark, floe dags delete / next-run / mark-run: what users do to runs besides triggering
// them. The work is core-queries/operations.ts, shared with the REST API, so both behave alike.
import { type Command, Option } from '@commander-js/extra-typings';
import { parseFormat, printRows } from '../output.ts';
import { confirmOrRefuse } from './confirm.ts';
import { parseDateArg, parseIntArg, withRuntime } from './common.ts';

const ops = () => import('../../core-queries/operations.ts');
const outputOption = () => new Option('-o, --output <format>', 'table or json').default('table').argParser(parseFormat);
const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function sub(program: Command, name: string): Command {
  const c = program.commands.find((x) => x.name() === name);
  if (!c) throw new Error(`no "${name}" command to add to`);
  return c as unknown as Command;
}

export function registerOperationCommands(program: Command): void {
  const tasks = sub(program, 'tasks');
  const dags = sub(program, 'dags');

  tasks
    .command('clear <dagId>')
    .description('clear task instances so the scheduler runs them again (finished runs go back to queued)')
    .option('-t, --task-regex <regex>', 'only tasks whose id this regular expression finds')
    .option('-s, --start-date <date>', 'only runs with a logical date on or after this')
    .option('-e, --end-date <date>', 'only runs with a logical date on or before this')
    .option('-r, --run-id <runId>', 'only this run')
    .option('-d, --downstream', 'also the downstream tasks of the selected ones')
    .option('-u, --upstream', 'also the upstream tasks of the selected ones')
    .option('-f, --only-failed', 'only failed and upstream_failed task instances')
    .option('--dry-run', 'only list what would be cleared')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((dagId, o) =>
      withRuntime(async (rt) => {
        const [{ getDag }, { clearTaskInstances }] = await Promise.all([import('../runtime.ts'), ops()]);
        const dag = await getDag(rt, dagId);
        const opts = {
          runId: o.runId,
          taskRegex: o.taskRegex,
          startDate: o.startDate ? parseDateArg(o.startDate, '--start-date') : undefined,
          endDate: o.endDate ? parseDateArg(o.endDate, '--end-date') : undefined,
          includeDownstream: !!o.downstream,
          includeUpstream: !!o.upstream,
          onlyFailed: !!o.onlyFailed,
        };
        const plan = await clearTaskInstances(rt.db.kysely, dag, { ...opts, dryRun: true });
        for (const n of plan.notCleared) process.stderr.write(`not cleared: ${n.taskId} in ${n.runId}: ${n.reason}\n`);
        if (!plan.cleared.length) {
          console.log('nothing to clear');
          return;
        }
        printRows(plan.cleared.map((c) => ({ run_id: c.runId, task_id: c.taskId, map_index: c.mapIndex, state: c.state })), 'table');
        if (o.dryRun) {
          console.log(`${plural(plan.cleared.length, 'task instance')} would be cleared (dry run)`);
          return;
        }
        if (!(await confirmOrRefuse(`Clear these ${plural(plan.cleared.length, 'task instance')}?`, `tasks clear would clear ${plural(plan.cleared.length, 'task instance')}`, o.yes))) {
          console.log('nothing cleared');
          return;
        }
        const r = await clearTaskInstances(rt.db.kysely, dag, opts);
        console.log(`cleared ${plural(r.cleared.length, 'task instance')}${r.requeuedRuns.length ? `; runs queued again: ${r.requeuedRuns.join(', ')}` : ''}`);
      }),
    );

  tasks
    .command('mark <dagId> <taskId> <runId> <state>')
    .description('set a task instance to success or failed by hand (success also clears its upstream_failed downstream tasks)')
    .option('--map-index <n>', 'map index', '-1')
    .option('--dry-run', 'only say what would change')
    .action((dagId, taskId, runId, state, o) =>
      withRuntime(async (rt) => {
        if (state !== 'success' && state !== 'failed') throw new Error(`state: expected "success" or "failed", got "${state}"`);
        const [{ getDag }, { markTaskInstance }] = await Promise.all([import('../runtime.ts'), ops()]);
        const dag = await getDag(rt, dagId);
        const key = { dagId, taskId, runId, mapIndex: parseIntArg(o.mapIndex, '--map-index') };
        const r = await markTaskInstance(rt.db.kysely, dag, key, state, { dryRun: !!o.dryRun });
        const what = `${dagId}.${taskId} in ${runId}`;
        const verb = r.dryRun ? 'would be' : 'is';
        console.log(r.changed ? `${what} ${verb} ${state} (was ${r.taskInstance.state})` : `${what} is already ${state}`);
        if (r.clearedDownstream.length) console.log(`downstream cleared to run: ${r.clearedDownstream.map((c) => c.taskId).join(', ')}`);
        if (r.requeuedRun) console.log(`run ${runId} queued again`);
      }),
    );

  dags
    .command('mark-run <dagId> <runId> <state>')
    .description('set a DAG run to success, failed or queued by hand (as the API\'s PATCH dagRun)')
    .action((dagId, runId, state) =>
      withRuntime(async (rt) => {
        if (state !== 'success' && state !== 'failed' && state !== 'queued') throw new Error(`state: expected "success", "failed" or "queued", got "${state}"`);
        const { setDagRunState } = await ops();
        const r = await setDagRunState(rt.db.kysely, dagId, runId, state);
        for (const t of r.taskInstances) console.log(`${t.taskId}: ${t.state} → ${t.newState}`);
        console.log(`run ${runId} of ${dagId}: ${r.previousState} → ${r.state}`);
      }),
    );

  dags
    .command('delete <dagId>')
    .description("delete a DAG's metadata: runs, task instances, history, XComs (not its file or task logs)")
    .option('-y, --yes', 'do not ask for confirmation')
    .action((dagId, o) =>
      withRuntime(async (rt) => {
        const { deleteDag } = await ops();
        const runs = await rt.db.kysely.selectFrom('dag_run').select((eb) => eb.fn.countAll<number>().as('n')).where('dag_id', '=', dagId).executeTakeFirstOrThrow();
        const known = await rt.db.kysely.selectFrom('dag').select('dag_id').where('dag_id', '=', dagId).executeTakeFirst();
        if (!known && !Number(runs.n)) throw new Error(`no DAG "${dagId}"`);
        if (!(await confirmOrRefuse(`Delete DAG ${dagId} and its ${plural(Number(runs.n), 'run')} from the metadata database?`, `dags delete removes DAG ${dagId} and its ${plural(Number(runs.n), 'run')}`, o.yes))) {
          console.log('nothing deleted');
          return;
        }
        const r = await deleteDag(rt.db.kysely, dagId);
        console.log(`deleted DAG ${dagId}: ${plural(r.runs, 'run')}, ${plural(r.taskInstances, 'task instance')}, ${plural(r.tries, 'try')} in history, ${plural(r.xcoms, 'XCom')}`);
        process.stderr.write('its file and task logs are untouched; while the file defines the DAG, the next parse adds it again\n');
      }),
    );

  dags
    .command('next-run <dagId>')
    .description('the next scheduled run(s) the scheduler will create: logical date, data interval, when it is due')
    .option('-n, --num <n>', 'how many', '1')
    .addOption(outputOption())
    .action((dagId, o) =>
      withRuntime(async (rt) => {
        const [{ getDag }, { upcomingRuns }] = await Promise.all([import('../runtime.ts'), import('../../core-queries/dag-stats.ts')]);
        const dag = await getDag(rt, dagId);
        const n = parseIntArg(o.num, '--num');
        if (n < 1) throw new Error(`--num: expected 1 or more, got ${n}`);
        if (dag.schedule === null) {
          console.log(`none: DAG ${dagId} has no schedule (schedule: null), it runs only when triggered`);
          return;
        }
        const paused = await rt.db.kysely.selectFrom('dag').select('is_paused').where('dag_id', '=', dagId).executeTakeFirst();
        const runs = await upcomingRuns(rt.db.kysely, dag, new Date(), n);
        if (!runs.length) console.log(`none: DAG ${dagId} has no further scheduled run (its endDate or @once run is past)`);
        else printRows(runs.map((r) => ({ logical_date: r.logicalDate, data_interval_start: r.dataIntervalStart, data_interval_end: r.dataIntervalEnd, due_at: r.dataIntervalEnd })), o.output);
        if (paused?.is_paused) process.stderr.write(`DAG ${dagId} is paused: the scheduler creates no run until it is unpaused\n`);
      }),
    );
}
