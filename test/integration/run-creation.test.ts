// Scheduled run creation steps past logical dates already held by manual/backfill runs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { getDag } from '../../src/cli/runtime.ts';
import { createDueRuns, triggerRun } from '../../src/scheduler/dag-runs.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

const DAY = 86_400_000;
let h: FloeHarness;
before(async () => {
  h = await startFloe('sqlite');
  const start = Math.floor(Date.now() / DAY) * DAY - 3 * DAY;
  h.writeDag('daily.ts', `${SDK_IMPORT}\ndag({ dagId: 'daily', schedule: '@daily', startDate: new Date(${start}), catchup: true }, () => { task('t', async () => 1)(); });`);
  assert.deepEqual((await h.parse()).errors, []);
});
after(() => h.close());

test('a manual run holding a scheduled slot does not stop the schedule', async () => {
  const dag = await getDag(h.rt, 'daily');
  const first = new Date(dag.startDate!);
  await triggerRun(h.rt.db.kysely, dag, { logicalDate: first });
  assert.equal(await createDueRuns(h.rt.db.kysely, dag, new Date()), 2);
  const runs = await h.runs('daily');
  assert.deepEqual(runs.map((r) => r.run_id.split('__')[0]), ['manual', 'scheduled', 'scheduled']);
  assert.equal(await createDueRuns(h.rt.db.kysely, dag, new Date()), 0, 'nothing more is due');
});
