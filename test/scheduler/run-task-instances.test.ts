// The scheduler's incremental read of a run's task instances returns what a full read returns, whatever other
// writers do to the rows between passes (property test over random state changes, inserts included).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { RunTaskInstances } from '../../src/scheduler/run-task-instances.ts';
import { FINISHED_STATES, TI_STATES, type TIState, canTransition } from '../../src/scheduler/states.ts';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';

let h: FloeHarness;
before(async () => {
  h = await startFloe('sqlite');
});
after(async () => h.close());

function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const sorted = <T extends { task_id: string; map_index: number }>(rows: T[]) => [...rows].sort((a, b) => a.task_id.localeCompare(b.task_id) || a.map_index - b.map_index);

test('incremental reads equal full reads under random changes by other writers', async () => {
  const db = h.rt.db.kysely;
  const runId = 'prop';
  const t0 = new Date().toISOString();
  const row = (taskId: string, state: TIState, mapIndex = -1) => ({
    dag_id: 'd', run_id: runId, task_id: taskId, map_index: mapIndex, state, try_number: 0, max_tries: 0, pool: 'default_pool', pool_slots: 1, queue: 'default', priority_weight: 1, updated_at: t0,
  });
  let n = 20;
  await db.insertInto('task_instance').values(Array.from({ length: n }, (_, i) => row(`t${i}`, 'none'))).execute();
  const cache = new RunTaskInstances();
  const rand = prng(7);
  const full = () => db.selectFrom('task_instance').select(['task_id', 'map_index', 'state', 'try_number', 'next_retry_at']).where('dag_id', '=', 'd').where('run_id', '=', runId).execute();
  let clock = 1_000_000;
  for (let step = 0; step < 300; step++) {
    // Another writer moves a few rows along allowed transitions (finished → another finished state never
    // happens outside the full-read backstop, so it is not drawn), sometimes adds a task.
    const rows = await full();
    for (const r of rows) {
      if (rand() > 0.15) continue;
      const from = r.state as TIState;
      const options = TI_STATES.filter((to) => to !== from && canTransition(from, to) && !(FINISHED_STATES.has(from) && FINISHED_STATES.has(to)));
      if (!options.length) continue;
      const to = options[Math.floor(rand() * options.length)];
      await db.updateTable('task_instance').set((eb) => ({ state: to, try_number: eb('try_number', '+', to === 'queued' ? 1 : 0) })).where('dag_id', '=', 'd').where('run_id', '=', runId).where('task_id', '=', r.task_id).where('map_index', '=', r.map_index).execute();
    }
    if (rand() < 0.05) await db.insertInto('task_instance').values(row(`t${n++}`, 'none')).execute();
    // Another scheduler expands a mapped task: its placeholder becomes instance 0, more instances appear (some
    // finish before this cache looks again).
    const placeholder = rows.find((r) => r.map_index === -1 && r.state === 'none' && rand() < 0.1);
    if (placeholder) {
      await db.updateTable('task_instance').set({ map_index: 0, state: 'scheduled' }).where('dag_id', '=', 'd').where('run_id', '=', runId).where('task_id', '=', placeholder.task_id).where('map_index', '=', -1).execute();
      const more = 1 + Math.floor(rand() * 3);
      await db.insertInto('task_instance').values(Array.from({ length: more }, (_, i) => row(placeholder.task_id, rand() < 0.5 ? 'success' : 'scheduled', i + 1))).execute();
    }
    // Sometimes this scheduler changes rows itself and says so.
    if (rand() < 0.1) {
      const pick = rows[Math.floor(rand() * rows.length)];
      if (pick.state === 'none') {
        await db.updateTable('task_instance').set({ state: 'skipped' }).where('dag_id', '=', 'd').where('run_id', '=', runId).where('task_id', '=', pick.task_id).where('map_index', '=', pick.map_index).where('state', '=', 'none').execute();
        cache.changed('d', runId, [{ taskId: pick.task_id, mapIndex: pick.map_index }]);
      }
    }
    clock += 100; // well within the full-read interval: these are incremental reads
    const got = await cache.read(db, 'd', runId, clock);
    assert.deepEqual(sorted(got), sorted(await full()), `step ${step}`);
  }
});

test('a finished row changed to another finished state by someone else is seen at the next full read', async () => {
  const db = h.rt.db.kysely;
  const runId = 'backstop';
  const t = new Date().toISOString();
  await db.insertInto('task_instance').values({ dag_id: 'd', run_id: runId, task_id: 'a', map_index: -1, state: 'failed', try_number: 1, max_tries: 0, pool: 'default_pool', pool_slots: 1, queue: 'default', priority_weight: 1, updated_at: t }).execute();
  const cache = new RunTaskInstances();
  assert.equal((await cache.read(db, 'd', runId, 0))[0].state, 'failed');
  await db.updateTable('task_instance').set({ state: 'success' }).where('run_id', '=', runId).execute();
  assert.equal((await cache.read(db, 'd', runId, 1_000))[0].state, 'failed', 'between full reads the cached finished state stands');
  assert.equal((await cache.read(db, 'd', runId, 31_000))[0].state, 'success');
});
