// floe dags …
import { type Command, Option } from '@commander-js/extra-typings';
import type { Scheduler } from '../../scheduler/scheduler.ts';
import { parseFormat, printRows } from '../output.ts';
import type { Runtime } from '../runtime.ts';
import { parseDateArg, parseIntArg, parseJsonObject, withRuntime } from './common.ts';

/** What the dags commands use, loaded when one runs. */
async function load() {
  const [runtime, queries, runs, dagRuns] = await Promise.all([
    import('../runtime.ts'),
    import('../../core-queries/dags.ts'),
    import('../../core-queries/runs.ts'),
    import('../../scheduler/dag-runs.ts'),
  ]);
  return { ...runtime, ...queries, ...runs, ...dagRuns };
}

const outputOption = () => new Option('-o, --output <format>', 'table or json').default('table').argParser(parseFormat);

/** Runs a scheduler scoped to the given runs until they all finished; returns their final states. */
export async function runScoped(rt: Runtime, dagId: string, runIds: string[], scheduler: Scheduler): Promise<Map<string, string>> {
  await scheduler.start();
  const states = new Map<string, string>();
  try {
    await scheduler.run(async () => {
      const rows = await rt.db.kysely.selectFrom('dag_run').select(['run_id', 'state']).where('dag_id', '=', dagId).where('run_id', 'in', runIds).execute();
      for (const r of rows) states.set(r.run_id, r.state);
      return rows.every((r) => r.state === 'success' || r.state === 'failed');
    });
  } finally {
    await scheduler.stop();
  }
  return states;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/**
 * What `dags list` says on stderr about what it could not list: the pod templates' error once (it is a
 * configuration error, not one per DAG, and makes the command fail), and a count of the other import errors.
 * `podTemplatesError` is the message loading the configured templates gives, or null when they load.
 */
export function importErrorNotice(
  errors: readonly { fileloc: string; message: string }[],
  podTemplatesError: string | null,
): { error: string | null; hint: string | null } {
  const fromTemplates = podTemplatesError ? errors.filter((e) => e.message.includes(podTemplatesError)) : [];
  const rest = errors.filter((e) => !fromTemplates.includes(e));
  const files = new Set(rest.map((e) => e.fileloc)).size;
  return {
    error: fromTemplates.length
      ? `the Kubernetes pod templates cannot be loaded, so ${plural(fromTemplates.length, 'DAG')} with tasks that run in pods failed to import: ${podTemplatesError}`
      : null,
    hint: rest.length ? `${plural(rest.length, 'import error')} in ${plural(files, 'file')} (not listed above); run "floe dags list-import-errors" to see them` : null,
  };
}

/** The error loading the configured pod templates gives, or null when they load. */
async function podTemplatesError(rt: Runtime): Promise<string | null> {
  const [{ loadPodTemplates }, { kubernetesPodConfig }] = await Promise.all([import('../../kubernetes/pod/index.ts'), import('../../kubernetes/pod/config.ts')]);
  try {
    await loadPodTemplates(kubernetesPodConfig(rt.cfg));
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/** `backfill --rerun-failed`: clears the failed task instances of runs already there; returns the runs to run again. */
async function rerunFailed(rt: Runtime, dag: import('../../dag/model.ts').SerializedDag, runIds: string[]): Promise<string[]> {
  const { clearTaskInstances } = await import('../../core-queries/operations.ts');
  const out: string[] = [];
  for (const runId of runIds) if ((await clearTaskInstances(rt.db.kysely, dag, { runId, onlyFailed: true })).cleared.length) out.push(runId);
  return out;
}

export function registerDagsCommands(program: Command): void {
  const dags = program.command('dags').description('DAGs: list, trigger, test, backfill, pause');

  dags
    .command('list')
    .description('parse the DAGs folder and list the DAGs found')
    .addOption(outputOption())
    .action(async (o) => {
      // The parser process starts while the configuration and database open.
      const { startDagParser, stopDagParser } = await import('../../dag/parse-files.ts');
      const parser = startDagParser();
      try {
        await withRuntime(async (rt) => {
        const { parseDags, listDags } = await load();
        const parsed = await parseDags(rt, undefined, parser);
        const { rows } = await listDags(rt.db.kysely);
        printRows(
          rows.map((r) => ({ dag_id: r.dagId, fileloc: r.fileloc, schedule: r.dag.schedule, tasks: r.dag.tasks.length, paused: r.isPaused, tags: r.dag.tags.join(',') })),
          o.output,
        );
        // On stderr, so `-o json` stays parseable; an unloadable pod template fails the command.
        const notice = importErrorNotice(parsed.errors, parsed.errors.length ? await podTemplatesError(rt) : null);
        if (notice.hint) process.stderr.write(`${notice.hint}\n`);
        if (notice.error) throw new Error(notice.error);
        });
      } finally {
        stopDagParser(parser);
      }
    });

  dags
    .command('list-import-errors')
    .description('DAG files that failed to import, with file, line and message')
    .option('--warnings', 'also list warnings (e.g. deprecated executorConfig keys)')
    .addOption(outputOption())
    .action((o) =>
      withRuntime(async (rt) => {
        const { parseDags, listImportErrors } = await load();
        await parseDags(rt);
        const { rows } = await listImportErrors(rt.db.kysely, { kinds: o.warnings ? ['error', 'warning'] : ['error'] });
        printRows(rows.map((r) => ({ kind: r.kind, fileloc: r.fileloc, line: r.line, dag_id: r.dag_id, task_id: r.task_id, message: r.message })), o.output);
      }),
    );

  for (const [name, paused] of [['pause', 1], ['unpause', 0]] as const)
    dags
      .command(`${name} <dagId>`)
      .description(`${name} a DAG (paused DAGs get no new runs and queue no tasks)`)
      .action((dagId) =>
        withRuntime(async (rt) => {
          const { setDagPaused } = await load();
          if (!(await setDagPaused(rt.db.kysely, dagId, paused === 1))) throw new Error(`no DAG "${dagId}"`);
          console.log(`${dagId} is ${paused ? 'paused' : 'unpaused'}`);
        }),
      );

  dags
    .command('trigger <dagId>')
    .description('create a manual DAG run (the scheduler runs it)')
    .option('-c, --conf <json>', 'run conf, a JSON object (merged over params)')
    .option('-e, --logical-date <date>', 'logical date (default now)')
    .option('-r, --run-id <id>', 'run id (default manual__<logical date>)')
    .action((dagId, o) =>
      withRuntime(async (rt) => {
        const { getDag, triggerDagRun } = await load();
        const dag = await getDag(rt, dagId);
        const runId = await triggerDagRun(rt.db.kysely, dag, {
          conf: o.conf ? parseJsonObject(o.conf, '--conf') : undefined,
          logicalDate: o.logicalDate ? parseDateArg(o.logicalDate, '--logical-date') : undefined,
          runId: o.runId,
        });
        console.log(`created run ${runId} of ${dagId}`);
      }),
    );

  dags
    .command('list-runs')
    .description('DAG runs, newest first')
    .option('-d, --dag-id <dagId>', 'only this DAG')
    .option('--state <state>', 'only runs in this state')
    .option('--limit <n>', 'at most this many', '50')
    .addOption(outputOption())
    .action((o) =>
      withRuntime(async (rt) => {
        const { listDagRuns } = await load();
        const { rows } = await listDagRuns(rt.db.kysely, { dagId: o.dagId, states: o.state ? [o.state] : undefined, limit: parseIntArg(o.limit, '--limit') });
        printRows(rows.map((r) => ({ dag_id: r.dag_id, run_id: r.run_id, run_type: r.run_type, state: r.state, logical_date: r.logical_date, start_date: r.start_date, end_date: r.end_date })), o.output);
      }),
    );

  dags
    .command('test <dagId> [logicalDate]')
    .description('run one DAG run now, without a separate scheduler (tries in local task processes); exits 1 if it fails')
    .option('-c, --conf <json>', 'run conf, a JSON object')
    .action((dagId, date, o) =>
      withRuntime(async (rt) => {
        const { parseDags, getDag, triggerRun, createScheduler } = await load();
        await parseDags(rt);
        const dag = await getDag(rt, dagId);
        const logicalDate = date ? parseDateArg(date, 'logicalDate') : new Date();
        const runId = await triggerRun(rt.db.kysely, dag, { logicalDate, conf: o.conf ? parseJsonObject(o.conf, '--conf') : undefined, runType: 'test' });
        // The tries run in task processes of the local executor, as under `floe standalone`: a task that loops,
        // crashes or exits cannot take this command (or its timeouts) down with it.
        const scheduler = await createScheduler(rt, 'local', { loopIntervalMs: 200, scope: { dagId, runIds: [runId] } });
        const states = await runScoped(rt, dagId, [runId], scheduler);
        const tis = await rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'try_number', 'reason']).where('dag_id', '=', dagId).where('run_id', '=', runId).orderBy('task_id').execute();
        printRows(tis, 'table');
        const state = states.get(runId);
        console.log(`run ${runId}: ${state}`);
        if (state !== 'success') process.exitCode = 1;
      }),
    );

  dags
    .command('backfill <dagId>')
    .description('create and run the DAG runs whose logical dates fall in [start, end]')
    .requiredOption('-s, --start-date <date>', 'first logical date')
    .requiredOption('-e, --end-date <date>', 'last logical date (inclusive)')
    .option('--dry-run', 'only list the runs that would be created')
    .option('--rerun-failed', 'also run again the failed and upstream_failed task instances of runs already in the range')
    .action((dagId, o) =>
      withRuntime(async (rt) => {
        const { parseDags, getDag, backfillPlan, createBackfillRuns, runIdFor, createScheduler } = await load();
        await parseDags(rt);
        const dag = await getDag(rt, dagId);
        const from = parseDateArg(o.startDate, '--start-date');
        const to = parseDateArg(o.endDate, '--end-date');
        const { due, notEnded } = backfillPlan(dag, from, to, new Date());
        if (notEnded.length)
          console.log(
            `not backfilled: ${notEnded.length} period(s) whose data interval has not ended yet (${notEnded.map((i) => i.logicalDate.toISOString()).join(', ')}); the scheduler runs them when due`,
          );
        if (o.dryRun) {
          for (const i of due) console.log(runIdFor('backfill', i.logicalDate));
          return;
        }
        const { runIds, existing: present } = await createBackfillRuns(rt.db.kysely, dag, due);
        const rerun = o.rerunFailed ? await rerunFailed(rt, dag, present) : [];
        const existing = present.filter((r) => !rerun.includes(r));
        if (rerun.length) console.log(`already present, failed task instances cleared to run again: ${rerun.join(', ')}`);
        if (existing.length) console.log(`already present (left as they are): ${existing.join(', ')}`);
        runIds.push(...rerun);
        if (!runIds.length) {
          console.log('nothing to backfill');
          return;
        }
        const tty = process.stdout.isTTY;
        const bar = tty ? new (await import('cli-progress')).SingleBar({ format: 'backfill {bar} {value}/{total} runs | failed: {failed}' }) : null;
        let done = 0;
        let failed = 0;
        bar?.start(runIds.length, 0, { failed: 0 });
        if (!tty) console.log(`backfill ${dagId}: ${runIds.length} runs`);
        const scheduler = await createScheduler(rt, rt.cfg.core.executor, {
          scope: { dagId, runIds },
          onRunFinished: (_d, runId, state) => {
            done++;
            if (state === 'failed') failed++;
            if (bar) bar.update(done, { failed });
            else console.log(`[${done}/${runIds.length}] ${runId}: ${state} (failures: ${failed})`);
          },
        });
        await runScoped(rt, dagId, runIds, scheduler);
        bar?.stop();
        console.log(`backfill done: ${runIds.length - failed} succeeded, ${failed} failed`);
        if (failed) process.exitCode = 1;
      }),
    );
}

