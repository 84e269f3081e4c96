// Issue #17 on the queue executor: mapped instances are jobs like any other (one retried alone), a branch records
// its decision from a worker's task process, and a reschedule-mode sensor is enqueued again per poke under the
// same try number (each poke is its own launch, so its own job).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';
import { deletePrefix, queueScheduler, REDIS_URL, redisAvailable, runFinished, runScheduler, startCliWorker, uniquePrefix, type WorkerProc, workerEnv } from './helpers.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'floe-poke-'));
const DAG = `import { dag, task, branch, sensor } from 'floe';
import { existsSync, writeFileSync } from 'node:fs';
dag({ dagId: 'q_authoring', schedule: null }, () => {
  const nums = task('nums', async () => [1, 2, 3]);
  const squares = task({ taskId: 'square', retries: 1, retryDelay: 0 }, async (ctx, n: number) => {
    if (ctx.mapIndex === 0 && ctx.tryNumber === 1) throw new Error('instance 0 fails its first try');
    return n * n;
  }).expand(nums());
  const total = task('total', async (ctx, xs: number[]) => xs.reduce((a, b) => a + b, 0))(squares);
  const pick = branch('pick', async (ctx, t: number) => (t > 10 ? 'big' : 'small'))(total);
  pick.before([task('big', async () => 'big')(), task('small', async () => 'small')()]);
  // The first poke finds nothing (and leaves a mark for the next): a poke in another process, even another pod.
  sensor({ taskId: 'wait', mode: 'reschedule', pokeInterval: 0.5, timeout: 60 }, async (ctx) => {
    const mark = ${JSON.stringify(scratch)} + '/' + ctx.runId.replace(/[^a-z0-9]/gi, '');
    if (existsSync(mark)) return true;
    writeFileSync(mark, '1');
    return false;
  })();
});
`;

for (const dialect of (await redisAvailable()) ? (['sqlite'] as const) : []) describe(`queue executor: mapping, branching, a reschedule-mode sensor (${dialect})`, () => {
  let h: FloeHarness;
  const prefix = uniquePrefix('authoring');
  let worker: WorkerProc;
  before(async () => {
    h = await startFloe(dialect);
    h.writeDag('q_authoring.ts', DAG);
    assert.deepEqual((await h.parse()).errors, []);
    worker = startCliWorker(h, workerEnv(h, { redisUrl: REDIS_URL, prefix }), ['--queues', 'default', '--concurrency', '3', '--name', 'w1'], 'w1');
    await worker.waitFor(/floe worker \w+: queues/);
  });
  after(async () => {
    await worker?.kill();
    await deletePrefix(REDIS_URL, prefix);
    await h?.close();
  });

  test('every feature runs through the workers', async () => {
    const runId = await h.trigger('q_authoring');
    const { scheduler, executor } = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 1000 });
    await runScheduler(scheduler, async () => (await runFinished(h, 'q_authoring', runId)) && executor.inFlight().length === 0, 90_000, 'q_authoring run');
    const rows = await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'map_index', 'state', 'try_number']).where('run_id', '=', runId).orderBy('task_id').orderBy('map_index').execute();
    assert.deepEqual(Object.fromEntries(rows.map((r) => [r.map_index >= 0 ? `${r.task_id}[${r.map_index}]` : r.task_id, [r.state, r.try_number]])), {
      big: ['success', 1], nums: ['success', 1], pick: ['success', 1], small: ['skipped', 0],
      'square[0]': ['success', 2], 'square[1]': ['success', 1], 'square[2]': ['success', 1], total: ['success', 1], wait: ['success', 1],
    });
    const pokes = await h.rt.db.kysely.selectFrom('task_reschedule').select('try_number').where('run_id', '=', runId).where('task_id', '=', 'wait').execute();
    assert.equal(pokes.length, 1, 'the first poke gave its slot back; the sensor was enqueued again for the second');
    assert.ok(pokes.every((p) => p.try_number === 1));
    assert.match(worker.output(), /finished q_authoring\.wait run \S+ try 1: up_for_reschedule/);
  });
});
