// `npm run demo`: runs the example DAGs end to end on the embedded default (SQLite + local executor) in a
// fresh FLOE_HOME, prints the runs and task states, and exits 0 only if every run ended as expected.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../src/cli/output.ts';
import { createScheduler, getDag, openRuntime, parseDags } from '../src/cli/runtime.ts';
import { triggerRun } from '../src/scheduler/dag-runs.ts';

const root = path.resolve(fileURLToPath(new URL('..', import.meta.url)));
process.env.FLOE_HOME = mkdtempSync(path.join(tmpdir(), 'floe-demo-'));
process.env.FLOE_CONFIG = path.join(root, 'floe.yaml');
process.env.FLOE__LOGGING__LEVEL ??= 'warn';

/** What each example must end as: run state, and the final state (and try count) of chosen tasks. */
const EXPECTED: Record<string, { runs: number; state: string; tasks?: Record<string, [state: string, tries: number]> }> = {
  k8s_executor_example: { runs: 1, state: 'success', tasks: { get_testing_increase: ['success', 1] } },
  etl_fanout: { runs: 1, state: 'success', tasks: { extract: ['success', 1], load: ['success', 1], report: ['success', 1] } },
  retries_example: {
    runs: 1,
    state: 'success',
    tasks: { flaky: ['success', 2], always_fails: ['failed', 2], notify_failure: ['success', 1], report: ['success', 1] },
  },
  cron_catchup: { runs: 3, state: 'success', tasks: { process_day: ['success', 1] } },
  authoring_example: {
    runs: 1,
    state: 'success',
    tasks: {
      list_files: ['success', 1],
      'measure[0]': ['success', 1],
      'measure[1]': ['success', 2],
      'measure[2]': ['success', 1],
      total_rows: ['success', 1],
      choose_load: ['success', 1],
      bulk_load: ['success', 1],
      incremental_load: ['skipped', 0],
      any_file_over_2000_rows: ['success', 1],
      alert_large_file: ['skipped', 0],
      write_marker: ['success', 1],
      wait_for_marker: ['success', 1],
      publish: ['success', 1],
    },
  },
  hybrid_example: {
    runs: 1,
    state: 'success',
    tasks: Object.fromEntries(['make_batches', 'sum_batch_0', 'sum_batch_1', 'sum_batch_2', 'sum_batch_3', 'combine', 'report'].map((t) => [t, ['success', 1] as [string, number]])),
  },
};
const TIMEOUT_MS = 120_000;

const rt = await openRuntime();
console.log(`FLOE_HOME=${process.env.FLOE_HOME}\nDAGs folder: ${rt.cfg.core.dagsFolder}`);
const parsed = await parseDags(rt);
for (const e of parsed.errors) console.log(`import error: ${e.fileloc}: ${e.message}`);
// DAGs without a schedule get a manual run; scheduled ones are created by the scheduler itself.
for (const dagId of ['etl_fanout', 'retries_example', 'hybrid_example', 'authoring_example']) await triggerRun(rt.db.kysely, await getDag(rt, dagId));

const scheduler = await createScheduler(rt, 'local');
await scheduler.start();
const started = Date.now();
const finished = async () => {
  const runs = await rt.db.kysely.selectFrom('dag_run').select(['dag_id', 'state']).execute();
  const done = Object.entries(EXPECTED).every(([dagId, exp]) => runs.filter((r) => r.dag_id === dagId && (r.state === 'success' || r.state === 'failed')).length >= exp.runs);
  return done || Date.now() - started > TIMEOUT_MS;
};
await scheduler.run(finished);
await scheduler.stop();

const runs = await rt.db.kysely.selectFrom('dag_run').select(['dag_id', 'run_id', 'state', 'logical_date']).orderBy('dag_id').orderBy('logical_date').execute();
const tis = (
  await rt.db.kysely.selectFrom('task_instance').select(['dag_id', 'run_id', 'task_id', 'map_index', 'state', 'try_number', 'reason']).orderBy('dag_id').orderBy('run_id').orderBy('task_id').orderBy('map_index').execute()
  // A mapped task's instances are `task[i]`.
).map(({ map_index, ...t }) => ({ ...t, task_id: map_index >= 0 ? `${t.task_id}[${map_index}]` : t.task_id }));
console.log(`\nDAG runs (${((Date.now() - started) / 1000).toFixed(1)}s)\n${formatTable(runs)}`);
console.log(`Task instances\n${formatTable(tis.map((t) => ({ ...t, reason: t.reason?.slice(0, 60) ?? null })))}`);

const problems: string[] = [];
for (const [dagId, exp] of Object.entries(EXPECTED)) {
  const mine = runs.filter((r) => r.dag_id === dagId);
  if (mine.length !== exp.runs) problems.push(`${dagId}: expected ${exp.runs} run(s), found ${mine.length}`);
  for (const run of mine) {
    if (run.state !== exp.state) problems.push(`${dagId} ${run.run_id}: expected run ${exp.state}, got ${run.state}`);
    for (const [taskId, [state, tries]] of Object.entries(exp.tasks ?? {})) {
      const ti = tis.find((t) => t.dag_id === dagId && t.run_id === run.run_id && t.task_id === taskId);
      if (!ti || ti.state !== state || ti.try_number !== tries)
        problems.push(`${dagId} ${run.run_id} ${taskId}: expected ${state} after ${tries} tr${tries === 1 ? 'y' : 'ies'}, got ${ti ? `${ti.state} after ${ti.try_number}` : 'no task instance'}`);
    }
  }
}
await rt.close();
if (problems.length) {
  console.log(`DEMO FAILED:\n- ${problems.join('\n- ')}`);
  process.exit(1);
}
console.log('Every example DAG run ended as expected.');
console.log('Next: node bin/floe.js standalone runs the scheduler with the API and web UI; open the URL it prints and log in with the token it prints.');
