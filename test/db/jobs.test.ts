// Which schedulers count as alive: running and beaten within the health-check threshold.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { liveSchedulerIds } from '../../src/db/jobs.ts';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';

let h: FloeHarness;
before(async () => {
  h = await startFloe('sqlite');
});
after(async () => h.close());

test('live scheduler ids: running with a fresh heartbeat only; stale, stopped, unknown and non-numeric ids are not', async () => {
  const now = new Date('2026-11-25T12:00:00Z');
  const at = (s: number) => new Date(now.getTime() - s * 1000).toISOString();
  const add = async (state: string, beatSecondsAgo: number) =>
    String((await h.rt.db.kysely.insertInto('job').values({ job_type: 'scheduler', hostname: 'h', pid: 1, state, start_date: at(600), latest_heartbeat: at(beatSecondsAgo) }).returning('id').executeTakeFirstOrThrow()).id);
  const fresh = await add('running', 5);
  const stale = await add('running', 45);
  const stopped = await add('stopped', 1);
  const alive = await liveSchedulerIds(h.rt.db.kysely, [fresh, stale, stopped, '999999', 'abc', ''], 30_000, now);
  assert.deepEqual([...alive], [fresh]);
  assert.deepEqual([...(await liveSchedulerIds(h.rt.db.kysely, [], 30_000, now))], []);
});
