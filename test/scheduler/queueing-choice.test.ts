// chooseToQueue: which scheduled candidates (already in priority order) fit executor slots, pools and maxActiveTasks.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chooseToQueue, taskRunCommand, type Candidate } from '../../src/scheduler/queueing.ts';

let seq = 0;
function c(task_id: string, o: Partial<Candidate> = {}): Candidate {
  return { dag_id: 'd', run_id: 'r1', task_id, map_index: -1, try_number: seq++ % 3, pool: 'default_pool', pool_slots: 1, ...o };
}
const ids = (cs: Candidate[]) => cs.map((x) => x.task_id);
const limits = (slots: number, pools: Record<string, number>, dags: Record<string, number> = { d: 100 }) => ({
  slots, poolFree: new Map(Object.entries(pools)), dagFree: new Map(Object.entries(dags)),
});

describe('chooseToQueue', () => {
  it('takes candidates in the given order up to the executor slots', () => {
    const cands = ['a', 'b', 'c', 'd', 'e'].map((id) => c(id));
    assert.deepEqual(ids(chooseToQueue(cands, limits(3, { default_pool: 100 }))), ['a', 'b', 'c']);
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { default_pool: 100 }))), ['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(chooseToQueue(cands, limits(0, { default_pool: 100 })), []);
    assert.deepEqual(chooseToQueue([], limits(5, { default_pool: 100 })), []);
  });

  it('returns the candidate objects themselves, in input order', () => {
    const cands = [c('z'), c('a'), c('m')];
    const got = chooseToQueue(cands, limits(5, { default_pool: 5 }));
    assert.deepEqual(got, cands);
    got.forEach((g, i) => assert.equal(g, cands[i]));
  });

  it('a full pool holds back its tasks but not other pools\' (order kept)', () => {
    const cands = [c('p1', { pool: 'p' }), c('p2', { pool: 'p' }), c('q1', { pool: 'q' }), c('p3', { pool: 'p' }), c('q2', { pool: 'q' })];
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { p: 1, q: 5 }))), ['p1', 'q1', 'q2']);
  });

  it('a pool with no free slot queues nothing; negative free (over-full pool) too', () => {
    const cands = [c('a', { pool: 'p' }), c('b', { pool: 'p' })];
    assert.deepEqual(chooseToQueue(cands, limits(10, { p: 0 })), []);
    assert.deepEqual(chooseToQueue(cands, limits(10, { p: -3 })), []);
  });

  it('poolSlots > 1 takes that many slots; a smaller task behind a big one still fits', () => {
    const cands = [c('big1', { pool: 'p', pool_slots: 2 }), c('big2', { pool: 'p', pool_slots: 2 }), c('small', { pool: 'p', pool_slots: 1 })];
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { p: 3 }))), ['big1', 'small']);
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { p: 4 }))), ['big1', 'big2']);
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { p: 5 }))), ['big1', 'big2', 'small']);
  });

  it('a task needing more slots than the pool has is never chosen, and blocks nobody', () => {
    const cands = [c('huge', { pool: 'p', pool_slots: 10 }), c('a', { pool: 'p' })];
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { p: 4 }))), ['a']);
  });

  it('respects each DAG\'s free maxActiveTasks separately', () => {
    const cands = [c('x1', { dag_id: 'x' }), c('x2', { dag_id: 'x' }), c('y1', { dag_id: 'y' }), c('x3', { dag_id: 'x' }), c('y2', { dag_id: 'y' })];
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { default_pool: 100 }, { x: 2, y: 1 }))), ['x1', 'x2', 'y1']);
  });

  it('a DAG missing from dagFree (paused or unknown) gets nothing; zero or negative free too', () => {
    const cands = [c('x1', { dag_id: 'x' }), c('y1', { dag_id: 'y' }), c('z1', { dag_id: 'z' })];
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { default_pool: 100 }, { y: 0, z: -1 }))), []);
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { default_pool: 100 }, { z: 1 }))), ['z1']);
  });

  it('a candidate held back by its DAG does not use up pool slots', () => {
    const cands = [c('x1', { dag_id: 'x', pool: 'p' }), c('y1', { dag_id: 'y', pool: 'p' })];
    assert.deepEqual(ids(chooseToQueue(cands, limits(10, { p: 1 }, { x: 0, y: 1 }))), ['y1']);
  });

  it('candidates held back do not use up executor slots', () => {
    const cands = [c('a', { pool: 'full' }), c('b', { pool: 'missing' }), c('c', { dag_id: 'paused' }), c('d'), c('e')];
    assert.deepEqual(ids(chooseToQueue(cands, limits(2, { full: 0, default_pool: 10 }))), ['d', 'e']);
  });

  it('a missing pool: the callback hears about each such candidate, and it is not queued', () => {
    const seen: string[] = [];
    const cands = [c('a', { pool: 'nope' }), c('b'), c('c', { pool: 'nope' }), c('d', { pool: 'other' })];
    const got = chooseToQueue(cands, limits(10, { default_pool: 10 }), (x) => seen.push(`${x.task_id}:${x.pool}`));
    assert.deepEqual(ids(got), ['b']);
    assert.deepEqual(seen, ['a:nope', 'c:nope', 'd:other']);
  });

  it('a missing pool without a callback is skipped silently', () => {
    assert.deepEqual(ids(chooseToQueue([c('a', { pool: 'nope' }), c('b')], limits(10, { default_pool: 10 }))), ['b']);
  });

  it('candidates after the slots ran out are not reported as missing a pool', () => {
    const seen: string[] = [];
    chooseToQueue([c('a'), c('b', { pool: 'nope' })], limits(1, { default_pool: 10 }), (x) => seen.push(x.task_id));
    assert.deepEqual(seen, []);
  });

  it('does not modify the limits it is given', () => {
    const l = limits(10, { p: 2 }, { d: 2 });
    chooseToQueue([c('a', { pool: 'p' }), c('b', { pool: 'p' })], l);
    assert.deepEqual([...l.poolFree], [['p', 2]]);
    assert.deepEqual([...l.dagFree], [['d', 2]]);
  });

  it('random inputs: limits hold, order is kept, and every candidate left out had a reason', () => {
    const rng = mulberry32(20261125);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];
    for (let round = 0; round < 500; round++) {
      const pools = ['p', 'q', 'r', 'ghost'];
      const dags = ['x', 'y', 'z', 'paused'];
      const poolFree = new Map(pools.slice(0, 3).map((p) => [p, Math.floor(rng() * 7) - 1]));
      const dagFree = new Map(dags.slice(0, 3).map((d) => [d, Math.floor(rng() * 5) - 1]));
      const slots = Math.floor(rng() * 8);
      const cands = Array.from({ length: Math.floor(rng() * 20) }, (_, i) =>
        c(`t${i}`, { pool: pick(pools), dag_id: pick(dags), pool_slots: 1 + Math.floor(rng() * 3) }));
      const missing: Candidate[] = [];
      const got = chooseToQueue(cands, { slots, poolFree, dagFree }, (x) => missing.push(x));
      const where = `round ${round}`;
      assert.ok(got.length <= slots, where);
      // Order kept: the chosen are a subsequence of the candidates.
      let k = 0;
      for (const x of cands) if (x === got[k]) k++;
      assert.equal(k, got.length, `${where}: order`);
      // Replay: track what is left and check each candidate's fate.
      const poolLeft = new Map(poolFree);
      const dagLeft = new Map(dagFree);
      let queued = 0;
      const chosen = new Set(got);
      for (const x of cands) {
        if (queued >= slots) {
          assert.ok(!chosen.has(x), `${where}: ${x.task_id} beyond the slots`);
          continue;
        }
        const pf = poolLeft.get(x.pool);
        const df = dagLeft.get(x.dag_id) ?? 0;
        const fits = pf !== undefined && pf >= x.pool_slots && df > 0;
        assert.equal(chosen.has(x), fits, `${where}: ${x.task_id} pool=${x.pool}(${pf}) needs ${x.pool_slots}, dag=${x.dag_id}(${df})`);
        if (pf === undefined) assert.ok(missing.includes(x), `${where}: ${x.task_id} reported as missing its pool`);
        if (fits) {
          poolLeft.set(x.pool, pf - x.pool_slots);
          dagLeft.set(x.dag_id, df - 1);
          queued++;
        }
      }
      for (const [p, left] of poolLeft) assert.ok(left >= Math.min(0, poolFree.get(p)!), `${where}: pool ${p} over-filled`);
      for (const [d, left] of dagLeft) assert.ok(left >= Math.min(0, dagFree.get(d)!), `${where}: DAG ${d} over its maxActiveTasks`);
    }
  });
});

describe('taskRunCommand', () => {
  it('is the floe tasks run command with try, map index and launch', () => {
    assert.deepEqual(taskRunCommand({ dagId: 'etl', runId: 'manual__2030', taskId: 'load', mapIndex: -1 }, 3, '4.17'), [
      'floe', 'tasks', 'run', 'etl', 'load', 'manual__2030', '--try', '3', '--map-index', '-1', '--launch', '4.17',
    ]);
  });
});

/** Seeded PRNG (mulberry32): the same inputs on every run. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
