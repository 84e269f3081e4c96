// Fencing, shown with paused processes (SIGSTOP/SIGCONT) on PostgreSQL: scheduler A queues a try and hands it
// to its (paused) task process, then A itself is paused past scheduler.healthCheckThreshold. Scheduler B
// declares A dead, takes the try back and runs it. When A and its task process wake up, the stale launch's
// claim is refused and A's report about it changes nothing: the task body ran exactly once, as try 1, and A
// says in its log that it had been taken for dead. Before launch fencing, A's stale "not queued" report failed
// B's running try 1 (up_for_retry) and try 2 ran the body again.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sleep } from '../../src/util/time.ts';
import { type FloeHarness, postgresAvailable, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { closeHarness, SchedulerFleet, type SchedulerProc, waitFor } from './helpers.ts';

const HEALTH_CHECK_S = 4;
let h: FloeHarness | undefined;
let fleet: SchedulerFleet | undefined;
const skip = !(await postgresAvailable());

before(async () => {
  if (skip) return;
  h = await startFloe('postgres');
  const bodies = path.join(h.home, 'bodies.log');
  h.writeDag(
    'fence.ts',
    `${SDK_IMPORT}
import { appendFileSync } from 'node:fs';
dag({ dagId: 'warmup', schedule: null }, () => { task('w', async () => 1)(); });
dag({ dagId: 'fence', schedule: null }, () => {
  task('once', async (ctx) => {
    appendFileSync(${JSON.stringify(bodies)}, ctx.tryNumber + ' ' + process.pid + '\\n');
    await new Promise((r) => setTimeout(r, 8000)); // still running when scheduler A wakes up
    return 'done';
  })();
});
`,
  );
  assert.deepEqual((await h.parse()).errors, []);
  fleet = new SchedulerFleet(h.home, {
    FLOE_HOME: h.home,
    FLOE_DAGS_FOLDER: h.dagsFolder,
    FLOE_DATABASE_URL: h.rt.db.url,
    FLOE__LOGGING__LEVEL: 'info',
    FLOE__CORE__PARALLELISM: '1',
    FLOE__SCHEDULER__LOOP_INTERVAL: '0.2',
    FLOE__SCHEDULER__DAG_DIR_LIST_INTERVAL: '600',
    FLOE__SCHEDULER__TASK_HEARTBEAT_INTERVAL: '0.5',
    FLOE__SCHEDULER__ZOMBIE_THRESHOLD: '600',
    FLOE__SCHEDULER__HEALTH_CHECK_THRESHOLD: String(HEALTH_CHECK_S),
  });
});

after(async () => {
  await fleet?.stopAll(5000);
  await closeHarness(h);
});

const childrenOf = (pid: number): number[] => {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).trim().split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
};

async function runState(runId: string): Promise<string | undefined> {
  return (await h!.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirst())?.state;
}

test('a scheduler paused past the health threshold: its queued try is taken back once, and runs once', { skip: skip && 'PostgreSQL not available' }, async () => {
  const logs = () => fleet!.logs();
  const a: SchedulerProc = fleet!.start();
  // A warm task process: the first run starts it; A has exactly one (parallelism 1).
  const warm = await h!.trigger('warmup');
  await waitFor(async () => (await runState(warm)) === 'success', 120_000, logs);
  const runners = childrenOf(a.pid);
  assert.equal(runners.length, 1, `scheduler A has one task process (children: ${runners.join(', ')})`);
  const [runner] = runners;

  // Pause the task process, then let A queue the try and hand it over: it stays queued, unclaimed.
  process.kill(runner, 'SIGSTOP');
  const runId = await h!.trigger('fence');
  const aJob = await h!.rt.db.kysely.selectFrom('job').select('id').where('pid', '=', a.pid).executeTakeFirstOrThrow();
  await waitFor(
    async () => {
      const ti = await h!.rt.db.kysely.selectFrom('task_instance').select(['state', 'queued_by_job_id']).where('run_id', '=', runId).executeTakeFirst();
      return ti?.state === 'queued' && ti.queued_by_job_id === aJob.id;
    },
    60_000,
    logs,
    20,
  );
  await sleep(500); // A's executor has sent the try to the paused process
  process.kill(a.pid, 'SIGSTOP');

  try {
    // B declares A dead (no heartbeat for HEALTH_CHECK_S), takes the try back and runs it in its own process.
    const b = fleet!.start();
    await waitFor(
      async () => {
        const ti = await h!.rt.db.kysely.selectFrom('task_instance').select(['state', 'queued_by_job_id']).where('run_id', '=', runId).executeTakeFirst();
        const bJob = await h!.rt.db.kysely.selectFrom('job').select('id').where('pid', '=', b.pid).executeTakeFirst();
        return ti?.state === 'running' && ti.queued_by_job_id === bJob?.id;
      },
      120_000,
      logs,
      20,
    );
    const job = await h!.rt.db.kysely.selectFrom('job').select('state').where('id', '=', aJob.id).executeTakeFirstOrThrow();
    assert.equal(job.state, 'dead', 'A was declared dead');
  } finally {
    // Both wake up while B's try 1 is still running.
    process.kill(a.pid, 'SIGCONT');
    process.kill(runner, 'SIGCONT');
  }

  // A and its task process wake up: the stale launch is refused, A notices it was taken for dead.
  await waitFor(async () => existsSync(a.logFile) && /taken for dead/.test(readFileSync(a.logFile, 'utf8')), 60_000, logs);
  await waitFor(async () => (await runState(runId)) === 'success' || (await runState(runId)) === 'failed', 120_000, logs);

  const bodies = readFileSync(path.join(h!.home, 'bodies.log'), 'utf8').trim().split('\n');
  assert.equal(bodies.length, 1, `the task body ran exactly once: ${bodies.join(' | ')}`);
  assert.equal(bodies[0].split(' ')[0], '1', 'as try 1');
  const ti = await h!.rt.db.kysely.selectFrom('task_instance').select(['state', 'try_number', 'reason']).where('run_id', '=', runId).executeTakeFirstOrThrow();
  assert.deepEqual([ti.state, ti.try_number], ['success', 1], `task instance: ${JSON.stringify(ti)}`);
  const history = await h!.rt.db.kysely.selectFrom('task_instance_history').select(['try_number', 'state']).where('run_id', '=', runId).execute();
  assert.deepEqual(history, [{ try_number: 1, state: 'success' }]);
  const job = await h!.rt.db.kysely.selectFrom('job').select('state').where('id', '=', aJob.id).executeTakeFirstOrThrow();
  assert.equal(job.state, 'running', 'A revived its job row and carries on');
});
