// Three `floe scheduler` processes (local executor, warm runner processes) on one fresh PostgreSQL database.
// Phase 1: 50 DAGs × 20 tasks with contended pools, scheduled `@once`, so all three race to create each
// run: each task instance runs and succeeds exactly once, pools and maxActiveTasks are never exceeded,
// each DAG gets exactly one run. Phase 2, same fleet: one manual run of every DAG while schedulers are
// SIGKILLed at random moments (and replaced): the runs still complete, no try runs twice, two tries of
// one task never run at once, and a try lost with its scheduler is retried only as a zombie, saying so.
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sleep } from '../../src/util/time.ts';
import { type FloeHarness, postgresAvailable, startFloe } from '../helpers/floe.ts';
import {
  closeHarness,
  dagIdOf,
  type Execution,
  groupBy,
  maxActiveTasksOf,
  peakOverlap,
  POOLS,
  readExecutions,
  SchedulerFleet,
  UsageSampler,
  waitFor,
  writeDagFiles,
} from './helpers.ts';

const DAGS = Number(process.env.FLOE_TEST_MS_DAGS ?? 50);
const TASKS = 20;
const SCHEDULERS = 3;
/** Executor slots per scheduler: 3 × 3 = 9 tries at once, more than the small pools hold. */
const PARALLELISM = 3;
const KILLS = 3;
const RUN_TIMEOUT_MS = 150_000;

/** What every scheduler process gets; short thresholds so a killed scheduler's work moves on quickly. */
function schedulerEnv(h: FloeHarness): Record<string, string> {
  return {
    FLOE_HOME: h.home,
    FLOE_DAGS_FOLDER: h.dagsFolder,
    FLOE_DATABASE_URL: h.rt.db.url,
    FLOE_TEST_EXEC_LOG: execLog(h),
    FLOE__LOGGING__LEVEL: process.env.FLOE_TEST_LOG_LEVEL ?? 'warn',
    FLOE__CORE__PARALLELISM: String(PARALLELISM),
    FLOE__SCHEDULER__LOOP_INTERVAL: '0.2',
    FLOE__SCHEDULER__DAG_DIR_LIST_INTERVAL: '600',
    FLOE__SCHEDULER__TASK_HEARTBEAT_INTERVAL: '0.5',
    FLOE__SCHEDULER__ZOMBIE_THRESHOLD: '3',
    // Above the scheduler's fixed 5 s job heartbeat (+ 2 s housekeeping period): see docs/multiple-schedulers.md.
    FLOE__SCHEDULER__HEALTH_CHECK_THRESHOLD: '10',
  };
}

const execLog = (h: FloeHarness): string => path.join(h.home, 'executions.log');
const tiKey = (e: { dagId: string; runId: string; taskId: string }): string => `${e.dagId} ${e.runId} ${e.taskId}`;

async function finishedRuns(h: FloeHarness, runType: string): Promise<number> {
  const r = await h.rt.db.kysely
    .selectFrom('dag_run')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('run_type', '=', runType)
    .where('state', 'in', ['success', 'failed'])
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

/** All runs of `runType` succeeded, one per DAG; on failure, say which tasks failed and why. */
async function assertOneSuccessfulRunPerDag(h: FloeHarness, runType: string): Promise<void> {
  const runs = await h.rt.db.kysely.selectFrom('dag_run').select(['dag_id', 'run_id', 'state']).where('run_type', '=', runType).execute();
  assert.equal(runs.length, DAGS, `exactly one ${runType} run per DAG`);
  assert.equal(new Set(runs.map((r) => r.dag_id)).size, DAGS);
  const notOk = runs.filter((r) => r.state !== 'success');
  if (notOk.length) {
    const tis = await h.rt.db.kysely
      .selectFrom('task_instance')
      .select(['dag_id', 'run_id', 'task_id', 'state', 'try_number', 'reason'])
      .where('run_id', 'in', notOk.map((r) => r.run_id))
      .where('state', 'not in', ['success', 'upstream_failed'])
      .execute();
    assert.fail(`runs not successful: ${JSON.stringify(notOk)}; their unsuccessful tasks: ${JSON.stringify(tis)}`);
  }
}

/** Pools and maxActiveTasks held at every sample and, exactly, over the recorded try intervals. */
async function assertLimitsHeld(h: FloeHarness, sampler: UsageSampler, runType: string): Promise<Map<string, number>> {
  assert.ok(sampler.samples > 20, `only ${sampler.samples} samples taken`);
  for (const p of POOLS) assert.ok((sampler.poolPeak.get(p.name) ?? 0) <= p.slots, `pool ${p.name}: sampled ${sampler.poolPeak.get(p.name)} slots in use > ${p.slots}`);
  for (const [dagId, n] of sampler.dagPeak) {
    const max = maxActiveTasksOf(Number(dagId.slice(3)));
    assert.ok(n <= max, `${dagId}: sampled ${n} active tries > maxActiveTasks ${max}`);
  }
  // Exact check from the try history: a try holds its pool slots at least from start_date to end_date
  // (it took them when queued, before it started, and gave them back in the transaction that ended it).
  const tries = await h.rt.db.kysely
    .selectFrom('task_instance_history as h')
    .innerJoin('task_instance as ti', (j) => j.onRef('ti.dag_id', '=', 'h.dag_id').onRef('ti.run_id', '=', 'h.run_id').onRef('ti.task_id', '=', 'h.task_id'))
    .innerJoin('dag_run as dr', (j) => j.onRef('dr.dag_id', '=', 'h.dag_id').onRef('dr.run_id', '=', 'h.run_id'))
    .select(['h.dag_id', 'ti.pool', 'ti.pool_slots', 'h.start_date', 'h.end_date'])
    .where('dr.run_type', '=', runType)
    .where('h.start_date', 'is not', null)
    .execute();
  const interval = (t: (typeof tries)[number], weight: number) => ({ start: Date.parse(t.start_date!), end: Date.parse(t.end_date!), weight });
  const poolPeaks = new Map<string, number>();
  for (const p of POOLS) {
    const peak = peakOverlap(tries.filter((t) => t.pool === p.name).map((t) => interval(t, t.pool_slots)));
    assert.ok(peak <= p.slots, `pool ${p.name}: ${peak} slots used at once by recorded tries > ${p.slots}`);
    poolPeaks.set(p.name, peak);
  }
  for (let i = 0; i < DAGS; i++) {
    const peak = peakOverlap(tries.filter((t) => t.dag_id === dagIdOf(i)).map((t) => interval(t, 1)));
    assert.ok(peak <= maxActiveTasksOf(i), `${dagIdOf(i)}: ${peak} tries ran at once > maxActiveTasks ${maxActiveTasksOf(i)}`);
  }
  return poolPeaks;
}

describe('3 schedulers on one PostgreSQL database', async () => {
  const pg = await postgresAvailable();
  let h: FloeHarness;
  let fleet: SchedulerFleet;
  before(async () => {
    if (!pg) return;
    h = await startFloe('postgres');
    for (const p of POOLS) await h.rt.db.kysely.insertInto('pool').values({ name: p.name, slots: p.slots, description: null }).execute();
    // One retry per kill of phase 2: a task instance can lose at most one try to each kill. Phase 1 asserts
    // that no retry was ever needed there.
    writeDagFiles(h.writeDag, DAGS, 10, TASKS, KILLS);
    const parsed = await h.parse();
    assert.deepEqual(parsed.errors, []);
    assert.equal(parsed.dags.length, DAGS);
    fleet = new SchedulerFleet(h.home, schedulerEnv(h));
  });
  after(async () => {
    await fleet?.stopAll();
    await closeHarness(h);
  });

  test(`${DAGS} DAGs × ${TASKS} tasks with pools: every task instance succeeds exactly once, no limit exceeded, one run per DAG`, { skip: !pg && 'PostgreSQL is not reachable' }, async () => {
    const sampler = new UsageSampler(h.rt.db).start();
    for (let n = 0; n < SCHEDULERS; n++) fleet.start();
    try {
      await waitFor(async () => (await finishedRuns(h, 'scheduled')) >= DAGS, RUN_TIMEOUT_MS, () => `runs not finished\n${fleet.logs()}`);
      // More loops of all three must change nothing (no late duplicate run or try).
      await sleep(1500);
    } finally {
      await sampler.stop();
    }
    await assertOneSuccessfulRunPerDag(h, 'scheduled');
    const tis = await h.rt.db.kysely.selectFrom('task_instance').select(['dag_id', 'task_id', 'state', 'try_number']).execute();
    assert.equal(tis.length, DAGS * TASKS);
    assert.deepEqual(tis.filter((t) => t.state !== 'success' || t.try_number !== 1), []);
    const history = await h.rt.db.kysely.selectFrom('task_instance_history').select(['dag_id', 'task_id', 'try_number', 'state']).execute();
    assert.equal(history.length, DAGS * TASKS, 'one history row per task instance');
    assert.equal(new Set(history.map((r) => `${r.dag_id}.${r.task_id}`)).size, DAGS * TASKS);
    assert.deepEqual(history.filter((r) => r.try_number !== 1 || r.state !== 'success'), []);
    // What actually ran, from the task bodies themselves.
    const execs = readExecutions(execLog(h));
    assert.equal(execs.length, DAGS * TASKS, 'each task body started exactly once');
    assert.equal(new Set(execs.map(tiKey)).size, DAGS * TASKS);
    assert.deepEqual(execs.filter((e) => e.end === null || e.tryNumber !== 1), []);
    const triedPeaks = await assertLimitsHeld(h, sampler, 'scheduled');
    // The limits were actually reached (sampled, or over the recorded try intervals), so contention was
    // exercised rather than idle pools.
    for (const p of POOLS) {
      const peak = Math.max(sampler.poolPeak.get(p.name) ?? 0, triedPeaks.get(p.name) ?? 0);
      assert.equal(peak, p.slots, `pool ${p.name} never filled up (sampled peak ${sampler.poolPeak.get(p.name)}, recorded ${triedPeaks.get(p.name)})`);
    }
    // Every scheduler did part of the work.
    const jobs = await h.rt.db.kysely.selectFrom('job').select('id').where('job_type', '=', 'scheduler').execute();
    assert.equal(jobs.length, SCHEDULERS);
    const queuedBy = new Set((await h.rt.db.kysely.selectFrom('task_instance').select('queued_by_job_id').distinct().execute()).map((r) => r.queued_by_job_id));
    for (const j of jobs) assert.ok(queuedBy.has(j.id), `scheduler job ${j.id} queued no task instance (${[...queuedBy].join(', ')} did)`);
  });

  test(`one manual run of each DAG while schedulers are SIGKILLed at random moments: runs complete, no try runs twice`, { skip: !pg && 'PostgreSQL is not reachable' }, async (t) => {
    while (fleet.alive().length < SCHEDULERS) fleet.start();
    const sampler = new UsageSampler(h.rt.db).start();
    for (let i = 0; i < DAGS; i++) await h.trigger(dagIdOf(i));
    const kills: { pid: number; at: number }[] = [];
    const killer = (async () => {
      // Once tries are running, kill a random live scheduler at random moments, replacing each.
      await waitFor(
        async () => (await h.rt.db.kysely.selectFrom('task_instance').select('state').where('run_id', 'like', 'manual__%').where('state', '=', 'running').limit(1).execute()).length > 0,
        60_000,
        () => 'no task of the manual runs started',
        50,
      );
      for (let k = 0; k < KILLS; k++) {
        await sleep(k === 0 ? Math.random() * 1500 : 500 + Math.random() * 3000);
        if ((await finishedRuns(h, 'manual')) >= DAGS) return;
        // Prefer a scheduler whose runners are busy at this moment, so the kill loses running tries.
        const busy = await h.rt.db.kysely
          .selectFrom('task_instance as ti')
          .innerJoin('job', 'job.id', 'ti.queued_by_job_id')
          .select('job.pid')
          .where('ti.state', '=', 'running')
          .where('ti.run_id', 'like', 'manual__%')
          .execute();
        const alive = fleet.alive();
        const busyAlive = alive.filter((p) => busy.some((b) => b.pid === p.pid));
        const pick = busyAlive.length ? busyAlive : alive;
        const victim = pick[Math.floor(Math.random() * pick.length)];
        victim.child.kill('SIGKILL');
        kills.push({ pid: victim.pid, at: Date.now() });
        await victim.exited;
        fleet.start();
      }
    })();
    try {
      await waitFor(async () => (await finishedRuns(h, 'manual')) >= DAGS, RUN_TIMEOUT_MS, () => `runs not finished after kills at ${JSON.stringify(kills)}\n${fleet.logs()}`);
      await killer;
      await sleep(1000);
    } finally {
      await sampler.stop();
      await fleet.stopAll();
    }
    assert.ok(kills.length > 0, 'no scheduler was killed: the runs finished before the first kill');
    await assertOneSuccessfulRunPerDag(h, 'manual');
    const tis = await h.rt.db.kysely.selectFrom('task_instance').select(['dag_id', 'run_id', 'task_id', 'state', 'try_number']).where('run_id', 'like', 'manual__%').execute();
    assert.equal(tis.length, DAGS * TASKS);
    assert.deepEqual(tis.filter((t) => t.state !== 'success'), []);
    const finalTry = new Map(tis.map((t) => [tiKey({ dagId: t.dag_id, runId: t.run_id, taskId: t.task_id }), t.try_number]));

    // History: tries 1..n of each task instance, one row each; every try but the last was lost with a
    // killed scheduler and ended by zombie detection, saying so.
    const history = await h.rt.db.kysely
      .selectFrom('task_instance_history')
      .select(['dag_id', 'run_id', 'task_id', 'try_number', 'state', 'reason'])
      .where('run_id', 'like', 'manual__%')
      .orderBy('try_number')
      .execute();
    const byTi = groupBy(history, (r) => tiKey({ dagId: r.dag_id, runId: r.run_id, taskId: r.task_id }));
    assert.equal(byTi.size, DAGS * TASKS, 'every task instance has a history');
    let lost = 0;
    for (const [ti, rows] of byTi) {
      assert.deepEqual(rows.map((r) => r.try_number), Array.from({ length: finalTry.get(ti)! }, (_, k) => k + 1), `${ti}: one history row per try`);
      assert.equal(rows.at(-1)!.state, 'success', ti);
      for (const r of rows.slice(0, -1)) {
        lost++;
        assert.equal(r.state, 'up_for_retry', `${ti} try ${r.try_number}`);
        // Lost with a killed scheduler: ended as a zombie, or — handed over but not begun when its scheduler
        // died — not started by its task process at all.
        assert.match(r.reason ?? '', /^(zombie: no heartbeat from the task runner|Error: not started: the process that handed this try over \(pid \d+\) is gone)/, `${ti} try ${r.try_number}`);
      }
    }

    // What actually ran: no try number twice, and the tries of one task instance never overlap. A try whose
    // body never ended was running under a scheduler that was killed; its next try started after that kill.
    const killedAt = new Map(kills.map((k) => [k.pid, k.at]));
    const execs = readExecutions(execLog(h)).filter((e) => e.runId.startsWith('manual__'));
    const execsByTi = groupBy(execs, tiKey);
    assert.equal(execsByTi.size, DAGS * TASKS);
    for (const [ti, list] of execsByTi) {
      const tries = list.map((e) => e.tryNumber);
      assert.equal(new Set(tries).size, tries.length, `${ti}: a try ran twice: ${JSON.stringify(list)}`);
      list.sort((a, b) => a.start - b.start);
      for (let k = 1; k < list.length; k++) {
        const prev: Execution = list[k - 1];
        const prevEnd = prev.end ?? killedAt.get(prev.ppid);
        assert.ok(prevEnd !== undefined, `${ti}: try ${prev.tryNumber} never ended, but its scheduler (pid ${prev.ppid}) was not killed`);
        assert.ok(list[k].start >= prevEnd, `${ti}: try ${list[k].tryNumber} started while try ${prev.tryNumber} was still running`);
      }
      const last = list.at(-1)!;
      assert.equal(last.tryNumber, finalTry.get(ti), `${ti}: the last try that ran is the successful one`);
      assert.notEqual(last.end, null, `${ti}: its successful try ran to the end`);
    }
    await assertLimitsHeld(h, sampler, 'manual');
    // Kills are random: usually tries are lost and retried, but a kill between tries loses none.
    t.diagnostic(`${kills.length} schedulers killed; ${lost} tries lost with them and retried as zombies`);
  });
});
