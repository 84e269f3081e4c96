// Property tests of the multi-scheduler queueing decision, on random pools, limits, DAGs and task states:
// 1. chooseToQueue (pure): fits every limit, keeps priority order, and is greedy-maximal (no candidate is
//    passed over while it fits), for any input.
// 2. queueScheduledTasks from several "schedulers" at once (each its own PostgreSQL connection pool and job
//    id) against the real database: no try is handed to two executors, no pool or maxActiveTasks is ever
//    exceeded, only eligible task instances are queued, and a final sweep leaves nothing queueable behind.
// Seeds are random per run; a failure names its seed (replay: FLOE_TEST_SEED=<seed>).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import type { SerializedDag } from '../../src/dag/model.ts';
import { type Db, openDb } from '../../src/db/connect.ts';
import type { Executor, ExecutorEvent, TaskRef, Workload } from '../../src/executors/types.ts';
import { type Candidate, chooseToQueue, queueScheduledTasks } from '../../src/scheduler/queueing.ts';
import { type FloeHarness, postgresAvailable, startFloe } from '../helpers/floe.ts';
import { closeHarness } from './helpers.ts';
import { type Rng, rng, seeds } from './random.ts';

// ---------------------------------------------------------------------------------------------------
// 1. chooseToQueue

interface Limits {
  slots: number;
  poolFree: Map<string, number>;
  dagFree: Map<string, number>;
}

function randomChoice(r: Rng): { candidates: Candidate[]; limits: Limits } {
  const pools = Array.from({ length: r.int(0, 4) }, (_, i) => `p${i}`);
  const dags = Array.from({ length: r.int(1, 5) }, (_, i) => `d${i}`);
  const poolFree = new Map(pools.map((p) => [p, r.int(-2, 8)] as const));
  // A DAG missing from dagFree is paused or unknown to this scheduler.
  const dagFree = new Map(dags.filter(() => r.chance(0.85)).map((d) => [d, r.int(-1, 6)] as const));
  const candidates: Candidate[] = Array.from({ length: r.int(0, 40) }, (_, i) => ({
    dag_id: r.pick(dags),
    run_id: `run${r.int(0, 2)}`,
    task_id: `t${i}`,
    map_index: -1,
    try_number: r.int(0, 3),
    pool: r.chance(0.1) ? 'ghost' : pools.length ? r.pick(pools) : 'ghost',
    pool_slots: r.int(1, 4),
  }));
  return { candidates, limits: { slots: r.int(0, 20), poolFree, dagFree } };
}

/** Why `c` cannot be queued after `before` were chosen, or null when it fits. */
function blocker(c: Candidate, before: Candidate[], limits: Limits): string | null {
  if (before.length >= limits.slots) return 'slots';
  const pf = limits.poolFree.get(c.pool);
  if (pf === undefined) return 'no pool';
  const poolUsed = before.filter((b) => b.pool === c.pool).reduce((s, b) => s + b.pool_slots, 0);
  if (poolUsed + c.pool_slots > pf) return 'pool';
  const dagUsed = before.filter((b) => b.dag_id === c.dag_id).length;
  if (dagUsed + 1 > (limits.dagFree.get(c.dag_id) ?? 0)) return 'dag';
  return null;
}

describe('chooseToQueue on random pools, limits and candidates', () => {
  test('fits every limit, keeps priority order, never passes over a candidate that fits', () => {
    for (const seed of seeds(3000)) {
      const r = rng(seed);
      const { candidates, limits } = randomChoice(r);
      const frozen = JSON.stringify([[...limits.poolFree], [...limits.dagFree]]);
      const noPool: Candidate[] = [];
      const chosen = chooseToQueue(candidates, limits, (c) => noPool.push(c));
      const at = `seed ${seed}`;
      assert.equal(JSON.stringify([[...limits.poolFree], [...limits.dagFree]]), frozen, `${at}: limits were mutated`);
      // A subsequence of the candidates, in their (priority) order.
      const idx = chosen.map((c) => candidates.indexOf(c));
      assert.ok(idx.every((i, k) => i >= 0 && (k === 0 || i > idx[k - 1])), `${at}: not an ordered subsequence`);
      assert.ok(chosen.length <= Math.max(0, limits.slots), `${at}: ${chosen.length} chosen > ${limits.slots} slots`);
      // Each pick fitted given the picks before it; each candidate passed over did not fit then.
      const picked = new Set(chosen);
      const before: Candidate[] = [];
      for (const c of candidates) {
        const why = blocker(c, before, limits);
        if (picked.has(c)) {
          assert.equal(why, null, `${at}: ${c.task_id} chosen although blocked by ${why}`);
          before.push(c);
        } else assert.notEqual(why, null, `${at}: ${c.task_id} (pool ${c.pool}, dag ${c.dag_id}) fitted but was passed over`);
      }
      // Totals, independently of the walk above.
      for (const [pool, free] of limits.poolFree) {
        const used = chosen.filter((c) => c.pool === pool).reduce((s, c) => s + c.pool_slots, 0);
        assert.ok(used <= Math.max(0, free), `${at}: pool ${pool} over-filled: ${used} > ${free}`);
      }
      for (const dag of new Set(candidates.map((c) => c.dag_id))) {
        const n = chosen.filter((c) => c.dag_id === dag).length;
        assert.ok(n <= Math.max(0, limits.dagFree.get(dag) ?? 0), `${at}: DAG ${dag} over its free task count`);
      }
      assert.ok(chosen.every((c) => limits.poolFree.has(c.pool)), `${at}: a task of a missing pool was chosen`);
      // Missing pools are reported for the candidates looked at (all of them until the slots ran out).
      const lookedAt = chosen.length >= limits.slots && chosen.length > 0 ? candidates.slice(0, candidates.indexOf(chosen.at(-1)!) + 1) : candidates;
      assert.deepEqual(noPool, limits.slots > 0 ? lookedAt.filter((c) => !limits.poolFree.has(c.pool)) : [], `${at}: missing-pool reports`);
      assert.deepEqual(chooseToQueue(candidates, limits), chosen, `${at}: not deterministic`);
    }
  });
});

// ---------------------------------------------------------------------------------------------------
// 2. queueScheduledTasks, concurrently, on PostgreSQL

/** An executor that only records what it is handed; its open slots are set before each call. */
class RecordingExecutor implements Executor {
  readonly name = 'recording';
  readonly received: Workload[] = [];
  constructor(private readonly slots: number) {}
  async start(): Promise<void> {}
  queue(work: Workload): void {
    this.received.push(work);
  }
  async sync(): Promise<ExecutorEvent[]> {
    return [];
  }
  openSlots(): number {
    return this.slots - this.received.length;
  }
  async revoke(): Promise<void> {}
  async adopt(running: TaskRef[]): Promise<TaskRef[]> {
    return running;
  }
  async stop(): Promise<void> {}
}

function serializedDag(dagId: string, maxActiveTasks: number, taskIds: string[]): SerializedDag {
  return {
    dagId,
    fileloc: `/dags/${dagId}.ts`,
    schedule: null,
    timezone: 'UTC',
    startDate: null,
    endDate: null,
    catchup: false,
    maxActiveRuns: 16,
    maxActiveTasks,
    params: {},
    tags: [],
    description: null,
    tasks: taskIds.map((taskId) => ({
      taskId,
      kind: 'function',
      upstream: [],
      retries: 0,
      retryDelay: 300,
      retryExponentialBackoff: false,
      maxRetryDelay: null,
      executionTimeout: null,
      triggerRule: 'all_success',
      pool: 'default_pool',
      poolSlots: 1,
      queue: 'default',
      executorConfig: null,
      doc: null,
    })),
  };
}

interface World {
  pools: Map<string, number>;
  dags: Map<string, { dag: SerializedDag; paused: boolean }>;
}

const TASKS_PER_RUN = 12;

/** Random pools, DAGs, runs and task instances, written to the DB; initial queued/running within limits. */
async function seedWorld(db: Db, r: Rng): Promise<World> {
  const k = db.kysely;
  await k.deleteFrom('task_instance').execute();
  await k.deleteFrom('dag_run').execute();
  await k.deleteFrom('pool').execute();
  const pools = new Map<string, number>(Array.from({ length: r.int(1, 4) }, (_, i) => [`p${i}`, r.int(1, 6)] as const));
  for (const [name, slots] of pools) await k.insertInto('pool').values({ name, slots, description: null }).execute();
  const dags = new Map<string, { dag: SerializedDag; paused: boolean }>();
  const taskIds = Array.from({ length: TASKS_PER_RUN }, (_, j) => `t${String(j).padStart(2, '0')}`);
  const poolUsed = new Map<string, number>();
  const dagActive = new Map<string, number>();
  const t = new Date().toISOString();
  const dagCount = r.int(2, 5);
  for (let d = 0; d < dagCount; d++) {
    const dagId = `d${d}`;
    const dag = serializedDag(dagId, r.int(1, 6), taskIds);
    dags.set(dagId, { dag, paused: r.chance(0.15) });
    const runCount = r.int(1, 3);
    for (let run = 0; run < runCount; run++) {
      const runId = `run${run}`;
      const runState = r.chance(0.85) ? 'running' : 'queued';
      const logical = new Date(Date.UTC(2024, 0, 1 + run)).toISOString();
      await k
        .insertInto('dag_run')
        .values({ dag_id: dagId, run_id: runId, run_type: 'manual', logical_date: logical, data_interval_start: logical, data_interval_end: logical, state: runState, conf: '{}', queued_at: t, start_date: t, end_date: null, last_scheduling_decision: null })
        .execute();
      const rows = taskIds.filter(() => r.chance(0.8)).map((taskId) => {
        const pool = r.chance(0.07) ? 'ghost' : r.pick([...pools.keys()]);
        const poolSlots = r.int(1, 3);
        let state = r.pick(['scheduled', 'scheduled', 'scheduled', 'scheduled', 'none', 'success', 'queued', 'running']);
        if (state === 'queued' || state === 'running') {
          const fits = runState === 'running' && (poolUsed.get(pool) ?? 0) + poolSlots <= (pools.get(pool) ?? 0) && (dagActive.get(dagId) ?? 0) < dag.maxActiveTasks;
          if (fits) {
            poolUsed.set(pool, (poolUsed.get(pool) ?? 0) + poolSlots);
            dagActive.set(dagId, (dagActive.get(dagId) ?? 0) + 1);
          } else state = 'success';
        }
        return {
          dag_id: dagId, run_id: runId, task_id: taskId, map_index: -1, state, try_number: state === 'scheduled' || state === 'none' ? r.int(0, 2) : r.int(1, 3), max_tries: 3,
          pool, pool_slots: poolSlots, queue: 'default', priority_weight: r.int(1, 3), queued_at: null, start_date: null, end_date: null, next_retry_at: null, hostname: null,
          pid: null, queued_by_job_id: null, external_executor_id: null, last_heartbeat: null, reason: null, updated_at: t,
        };
      });
      if (rows.length) await k.insertInto('task_instance').values(rows).execute();
    }
  }
  return { pools, dags };
}

type TiRow = { dag_id: string; run_id: string; task_id: string; state: string; try_number: number; pool: string; pool_slots: number; queued_by_job_id: number | null };

const readTis = (db: Db): Promise<TiRow[]> =>
  db.kysely.selectFrom('task_instance').select(['dag_id', 'run_id', 'task_id', 'state', 'try_number', 'pool', 'pool_slots', 'queued_by_job_id']).execute();
const keyOf = (t: { dag_id: string; run_id: string; task_id: string }) => `${t.dag_id}/${t.run_id}/${t.task_id}`;
const workKey = (w: Workload) => `${w.key.dagId}/${w.key.runId}/${w.key.taskId}`;

/** Pools and maxActiveTasks hold over the DB as it is now. */
function assertWithinLimits(tis: TiRow[], world: World, at: string): void {
  const active = tis.filter((t) => t.state === 'queued' || t.state === 'running');
  for (const [pool, slots] of world.pools) {
    const used = active.filter((t) => t.pool === pool).reduce((s, t) => s + t.pool_slots, 0);
    assert.ok(used <= slots, `${at}: pool ${pool} holds ${used} slots > ${slots}`);
  }
  for (const [dagId, { dag }] of world.dags) {
    const n = active.filter((t) => t.dag_id === dagId).length;
    assert.ok(n <= dag.maxActiveTasks, `${at}: DAG ${dagId} has ${n} active tries > maxActiveTasks ${dag.maxActiveTasks}`);
  }
}

describe('queueScheduledTasks from several schedulers at once (PostgreSQL)', async () => {
  const pg = await postgresAvailable();
  const MAX_SCHEDULERS = 4;
  const log = pino({ level: 'silent' });
  let h: FloeHarness;
  const dbs: Db[] = [];
  before(async () => {
    if (!pg) return;
    h = await startFloe('postgres');
    // One connection pool per "scheduler", as separate processes would have.
    for (let i = 0; i < MAX_SCHEDULERS; i++) dbs.push(await openDb(h.rt.db.url, { poolSize: 2 }));
  });
  after(async () => {
    await closeHarness(h, dbs);
  });

  test('no try handed out twice, no limit exceeded, only eligible task instances, nothing queueable left behind', { skip: !pg && 'PostgreSQL is not reachable' }, async () => {
    for (const seed of seeds(25)) {
      const r = rng(seed);
      const world = await seedWorld(h.rt.db, r);
      const schedulers = Array.from({ length: r.int(2, MAX_SCHEDULERS) }, (_, i) => ({ jobId: 100 + i, db: dbs[i] }));
      const handedOut = new Map<string, number>();
      let launches = 0;
      const rounds = r.int(2, 5);
      for (let round = 0; round < rounds; round++) {
        const at = `seed ${seed} round ${round}`;
        const before = new Map((await readTis(h.rt.db)).map((t) => [keyOf(t), t]));
        // Every scheduler queues once or twice, all at the same time.
        const calls = r.shuffle(schedulers.flatMap((s) => Array.from({ length: r.int(1, 2) }, () => ({ ...s, executor: new RecordingExecutor(r.int(0, 6)) }))));
        const counts = await Promise.all(calls.map((c) => queueScheduledTasks(c.db, { executor: c.executor, jobId: c.jobId, dags: world.dags, log, nextLaunchId: () => `${c.jobId}.${++launches}` })));
        const after = await readTis(h.rt.db);
        const now = new Map(after.map((t) => [keyOf(t), t]));
        let delivered = 0;
        for (const [i, c] of calls.entries()) {
          assert.equal(counts[i], c.executor.received.length, `${at}: returned count`);
          assert.ok(c.executor.openSlots() >= 0, `${at}: executor of job ${c.jobId} got more work than its open slots`);
          for (const w of c.executor.received) {
            delivered++;
            const id = `${workKey(w)}#${w.tryNumber}`;
            assert.equal(handedOut.get(id), undefined, `${at}: try ${id} handed to job ${c.jobId} and to job ${handedOut.get(id)}`);
            handedOut.set(id, c.jobId);
            const was = before.get(workKey(w))!;
            const is = now.get(workKey(w))!;
            assert.equal(was.state, 'scheduled', `${at}: ${workKey(w)} queued from ${was.state}`);
            assert.equal(w.tryNumber, was.try_number + 1, `${at}: ${workKey(w)} try number`);
            assert.deepEqual([is.state, is.try_number, is.queued_by_job_id], ['queued', w.tryNumber, c.jobId], `${at}: ${workKey(w)} row after queueing`);
            assert.equal(world.dags.get(w.key.dagId)!.paused, false, `${at}: ${workKey(w)} of a paused DAG queued`);
            assert.ok(world.pools.has(is.pool), `${at}: ${workKey(w)} of missing pool ${is.pool} queued`);
          }
        }
        // Nothing became queued that was not handed to an executor.
        const newlyQueued = after.filter((t) => t.state === 'queued' && before.get(keyOf(t))!.state !== 'queued');
        assert.equal(newlyQueued.length, delivered, `${at}: ${newlyQueued.length} rows queued, ${delivered} tries handed out`);
        const runState = new Map((await h.rt.db.kysely.selectFrom('dag_run').select(['dag_id', 'run_id', 'state']).execute()).map((x) => [`${x.dag_id}/${x.run_id}`, x.state]));
        assert.ok(newlyQueued.every((t) => runState.get(`${t.dag_id}/${t.run_id}`) === 'running'), `${at}: a task of a run that is not running was queued`);
        assertWithinLimits(after, world, at);
        // Time passes: some tries start, some finish, some tasks become scheduled.
        for (const t of after) {
          const set = (state: string) => h.rt.db.kysely.updateTable('task_instance').set({ state }).where('dag_id', '=', t.dag_id).where('run_id', '=', t.run_id).where('task_id', '=', t.task_id).execute();
          if (t.state === 'queued' && r.chance(0.5)) await set(r.chance(0.5) ? 'running' : 'success');
          else if (t.state === 'running' && r.chance(0.5)) await set('success');
          else if (t.state === 'none' && r.chance(0.3)) await set('scheduled');
        }
      }
      // A last sweep by one scheduler with room for everything leaves no eligible task that would fit.
      await queueScheduledTasks(dbs[0], { executor: new RecordingExecutor(10_000), jobId: 99, dags: world.dags, log, nextLaunchId: () => `99.${++launches}` });
      const final = await readTis(h.rt.db);
      assertWithinLimits(final, world, `seed ${seed} final`);
      const runState = new Map((await h.rt.db.kysely.selectFrom('dag_run').select(['dag_id', 'run_id', 'state']).execute()).map((x) => [`${x.dag_id}/${x.run_id}`, x.state]));
      const active = final.filter((t) => t.state === 'queued' || t.state === 'running');
      for (const t of final.filter((x) => x.state === 'scheduled')) {
        const cached = world.dags.get(t.dag_id)!;
        if (cached.paused || runState.get(`${t.dag_id}/${t.run_id}`) !== 'running' || !world.pools.has(t.pool)) continue;
        const poolFree = world.pools.get(t.pool)! - active.filter((a) => a.pool === t.pool).reduce((s, a) => s + a.pool_slots, 0);
        const dagFree = cached.dag.maxActiveTasks - active.filter((a) => a.dag_id === t.dag_id).length;
        assert.ok(t.pool_slots > poolFree || dagFree <= 0, `seed ${seed}: ${keyOf(t)} fits (pool ${t.pool} free ${poolFree}, DAG free ${dagFree}) but was left scheduled`);
      }
    }
  });
});
