// The DAG processor: every kind of bad DAG file is an import error with file, line and message, and
// every good DAG beside it still loads.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

let h: FloeHarness;
before(async () => {
  h = await startFloe('sqlite', { config: { core: { dagFileProcessorTimeout: 2 } } });
});
after(() => h.close());

async function errorsFor(file: string) {
  return h.rt.db.kysely.selectFrom('import_error').selectAll().where('fileloc', 'like', `%/${file}`).where('kind', '=', 'error').execute();
}

test('bad DAG files become precise import errors; good ones load', async () => {
  h.writeDag('good.ts', `${SDK_IMPORT}\ndag({ dagId: 'good', schedule: null }, () => { task('a', async () => 1)(); });\n`);
  h.writeDag('throws.ts', `${SDK_IMPORT}\n\nconst x = 1;\nthrow new Error('exploded at import');\n`);
  h.writeDag('hangs.ts', `${SDK_IMPORT}\nwhile (true) {}\n`);
  h.writeDag('exits.ts', `${SDK_IMPORT}\nprocess.exit(3);\n`);
  h.writeDag('syntax.ts', `${SDK_IMPORT}\nconst = ;\n`);
  h.writeDag('cycle.ts', `${SDK_IMPORT}
dag({ dagId: 'cyclic', schedule: null }, () => {
  const a = task('a', async () => 1)();
  const b = task('b', async () => 1)().after(a);
  a.after(b);
});`);
  h.writeDag('dup_task.ts', `${SDK_IMPORT}
dag({ dagId: 'dup_task', schedule: null }, () => {
  shell({ taskId: 'same', command: 'true' });
  shell({ taskId: 'same', command: 'true' });
});`);
  h.writeDag('bad_rule.ts', `${SDK_IMPORT}
dag({ dagId: 'bad_rule', schedule: null }, () => {
  task({ taskId: 't', triggerRule: 'all_sucess' as never }, async () => 1)();
});`);
  h.writeDag('bad_schedule.ts', `${SDK_IMPORT}\ndag({ dagId: 'bad_schedule', schedule: '61 * * * *', startDate: '2024-01-01' }, () => {});\n`);
  h.writeDag('dup_dag.ts', `${SDK_IMPORT}\ndag({ dagId: 'good', schedule: null }, () => {});\n`);

  const r = await h.parse();
  assert.deepEqual(r.dags.map((d) => d.dagId), ['good']);

  const [throws] = await errorsFor('throws.ts');
  assert.match(throws.message, /Error: exploded at import/);
  assert.equal(throws.line, 4);
  assert.match((await errorsFor('hangs.ts'))[0].message, /DagImportTimeout: importing the file took longer than 2s/);
  assert.match((await errorsFor('exits.ts'))[0].message, /DagImportCrash/);
  assert.match((await errorsFor('syntax.ts'))[0].message, /syntax\.ts|Expected|Unexpected/i);
  assert.match((await errorsFor('cycle.ts'))[0].message, /cycle between tasks: (a → b → a|b → a → b)/);
  const dup = (await errorsFor('dup_task.ts'))[0];
  assert.match(dup.message, /duplicate task id "same" in DAG "dup_task"/);
  assert.equal(dup.line, 4);
  assert.match((await errorsFor('bad_rule.ts'))[0].message, /triggerRule: expected one of all_success, all_failed/);
  assert.match((await errorsFor('bad_schedule.ts'))[0].message, /61 \* \* \* \*/);
  // Files are read in name order: the later definition of a dagId is the error.
  assert.match((await errorsFor('good.ts'))[0].message, /duplicate dagId "good": also defined in .*dup_dag\.ts/);
});

test('a DAG whose file is removed stops being active; a fixed file clears its error', async () => {
  rmSync(`${h.dagsFolder}/good.ts`);
  h.writeDag('throws.ts', `${SDK_IMPORT}\ndag({ dagId: 'fixed', schedule: null }, () => { task('a', async () => 1)(); });\n`);
  const r = await h.parse();
  assert.ok(r.dags.some((d) => d.dagId === 'fixed'));
  assert.equal((await errorsFor('throws.ts')).length, 0);
  const good = await h.rt.db.kysely.selectFrom('dag').select(['dag_id', 'is_active']).where('dag_id', '=', 'good').executeTakeFirstOrThrow();
  // dup_dag.ts still defines 'good' and is now the only one: it loads from there.
  assert.equal(good.is_active, 1);
  rmSync(`${h.dagsFolder}/dup_dag.ts`);
  await h.parse();
  const gone = await h.rt.db.kysely.selectFrom('dag').select('is_active').where('dag_id', '=', 'good').executeTakeFirstOrThrow();
  assert.equal(gone.is_active, 0);
});

test('a bad podOverride is an import error at parse time, with the field path and the task\'s line; legacy keys warn', async () => {
  h.writeDag('pods.ts', `${SDK_IMPORT}
dag({ dagId: 'bad_pod', schedule: null }, () => {
  task({ taskId: 't', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', resources: { limits: { cpu: 'lots' } } }] } } } }, async () => 1)();
});
dag({ dagId: 'legacy_pod', schedule: null }, () => {
  task({ taskId: 'old', executorConfig: { KubernetesExecutor: { request_memory: '1Gi' } } }, async () => 1)();
});`);
  const r = await h.parse();
  assert.ok(!r.dags.some((d) => d.dagId === 'bad_pod'));
  assert.ok(r.dags.some((d) => d.dagId === 'legacy_pod'), 'legacy keys still work');
  const [err] = await errorsFor('pods.ts');
  assert.equal(err.dag_id, 'bad_pod');
  assert.match(err.message, /executorConfig\.podOverride\.spec\.containers\[name=base\]\.resources\.limits\.cpu/);
  assert.equal(err.line, 3, 'the line of the task\'s definition');
  const warnings = await h.rt.db.kysely.selectFrom('import_error').selectAll().where('kind', '=', 'warning').execute();
  assert.equal(warnings.length, 1);
  assert.match(warnings[0].message, /deprecated; write this instead: executorConfig: \{ podOverride: .*"memory":"1Gi"/);
  assert.equal(warnings[0].line, 6);
});
