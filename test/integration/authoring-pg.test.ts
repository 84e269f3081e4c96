// Issue #17 on PostgreSQL (several schedulers' database): a mapped task expands (its placeholder's primary key
// changes to map index 0), one instance is retried alone, a branch skips, a reschedule-mode sensor pokes again
// under the same try, and clearing the mapped task expands it again.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getDag } from '../../src/cli/runtime.ts';
import { clearTaskInstances } from '../../src/core-queries/operations.ts';
import { type FloeHarness, postgresAvailable, startFloe } from '../helpers/floe.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'floe-poke-'));
const DAG = `import { dag, task, branch, sensor } from 'floe';
import { existsSync, writeFileSync } from 'node:fs';
dag({ dagId: 'pg_authoring', schedule: null }, () => {
  const nums = task('nums', async () => [1, 2, 3, 4]);
  const sq = task({ taskId: 'square', retries: 1, retryDelay: 0 }, async (ctx, n: number) => {
    if (ctx.mapIndex === 3 && ctx.tryNumber === 1) throw new Error('instance 3 fails once');
    return n * n;
  }).expand(nums());
  const total = task('total', async (ctx, xs: number[]) => xs.reduce((a, b) => a + b, 0))(sq);
  const pick = branch('pick', async (ctx, t: number) => (t === 30 ? 'right' : 'wrong'))(total);
  pick.before([task('right', async () => 1)(), task('wrong', async () => 2)()]);
  // The first poke finds nothing (and leaves a mark for the next): a poke in another process, even another pod.
  sensor({ taskId: 'wait', mode: 'reschedule', pokeInterval: 0.5, timeout: 60 }, async (ctx) => {
    const mark = ${JSON.stringify(scratch)} + '/' + ctx.runId.replace(/[^a-z0-9]/gi, '');
    if (existsSync(mark)) return true;
    writeFileSync(mark, '1');
    return false;
  })();
});
`;

for (const dialect of (await postgresAvailable()) ? (['postgres'] as const) : []) describe(`mapping, branching and sensors on ${dialect}`, () => {
  let h: FloeHarness;
  before(async () => {
    h = await startFloe(dialect);
    h.writeDag('pg_authoring.ts', DAG);
    assert.deepEqual((await h.parse()).errors, []);
  });
  after(() => h.close());

  test('a run, then a clear of the mapped task', async () => {
    const runId = await h.trigger('pg_authoring');
    await h.runUntilRunDone('pg_authoring', runId, 90_000);
    const rows = async () =>
      Object.fromEntries(
        (await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'map_index', 'state', 'try_number']).where('run_id', '=', runId).orderBy('task_id').orderBy('map_index').execute()).map((r) => [
          r.map_index >= 0 ? `${r.task_id}[${r.map_index}]` : r.task_id,
          [r.state, r.try_number],
        ]),
      );
    assert.deepEqual(await rows(), {
      nums: ['success', 1], pick: ['success', 1], right: ['success', 1], wrong: ['skipped', 0],
      'square[0]': ['success', 1], 'square[1]': ['success', 1], 'square[2]': ['success', 1], 'square[3]': ['success', 2],
      total: ['success', 1], wait: ['success', 1],
    });
    assert.equal((await h.rt.db.kysely.selectFrom('task_reschedule').select('try_number').where('run_id', '=', runId).execute()).length, 1, 'one poke gave the slot back');
    const cleared = await clearTaskInstances(h.rt.db.kysely, await getDag(h.rt, 'pg_authoring'), { runId, taskIds: ['square'], includeDownstream: true, onlyFailed: false });
    assert.ok(cleared.cleared.length >= 4);
    await h.runUntilRunDone('pg_authoring', runId, 90_000);
    const after = await rows();
    assert.deepEqual(['square[0]', 'square[1]', 'square[2]', 'square[3]', 'total', 'right'].map((k) => after[k]?.[0]), ['success', 'success', 'success', 'success', 'success', 'success']);
    assert.equal(after.square, undefined, 'no placeholder left after the second expansion');
  });
});
