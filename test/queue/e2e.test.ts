// End to end through Redis: the scheduler with the QueueExecutor, two `floe worker` processes on different
// queues, real DAGs (XCom between queues, retries, a shell task, a task that kills its own process), on
// SQLite and PostgreSQL (what workers on other machines share).
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { sql } from 'kysely';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import {
  currentJobId, deletePrefix, MARK_SOURCE, queueScheduler, readExecutions, REDIS_URL, redisAvailable, runFinished, runScheduler, startCliWorker, uniquePrefix, waitUntil, type WorkerProc, workerEnv,
} from './helpers.ts';

const DAG = `${SDK_IMPORT}
${MARK_SOURCE}
dag({ dagId: 'qmix', schedule: null, defaultArgs: { retryDelay: 0.1 } }, () => {
  const extract = task({ taskId: 'extract', queue: 'etl' }, async (ctx) => { mark('S', ctx); mark('E', ctx); return { by: process.env.FLOE_WORKER_NAME, rows: [1, 2, 3] }; });
  const transform = task({ taskId: 'transform' }, async (ctx, e) => { mark('S', ctx); mark('E', ctx); return { by: process.env.FLOE_WORKER_NAME, from: e.by, rows: e.rows.map((x) => x * 2) }; });
  const load = task({ taskId: 'load', queue: 'etl' }, async (ctx, t) => { mark('S', ctx); mark('E', ctx); return { by: process.env.FLOE_WORKER_NAME, sum: t.rows.reduce((a, b) => a + b, 0) }; });
  const flaky = task({ taskId: 'flaky', retries: 1 }, async (ctx) => { mark('S', ctx); if (ctx.tryNumber === 1) throw new Error('first try fails'); mark('E', ctx); return 'ok on try ' + ctx.tryNumber; });
  const sh = shell({ taskId: 'sh', queue: 'etl', command: 'echo "shell on $FLOE_WORKER_NAME"' });
  load(transform(extract()));
  flaky();
});
dag({ dagId: 'qcrash', schedule: null }, () => {
  const crash = task({ taskId: 'crash' }, async (ctx) => { mark('S', ctx); process.kill(process.pid, 'SIGKILL'); });
  const after = task({ taskId: 'after_crash', queue: 'etl', triggerRule: 'all_done' }, async (ctx) => { mark('S', ctx); mark('E', ctx); return process.env.FLOE_WORKER_NAME; });
  after().after(crash());
  // Blocks its event loop, so the runner's own timeout cannot fire: the worker kills it after the grace.
  task({ taskId: 'hang', executionTimeout: 1 }, async (ctx) => { mark('S', ctx); for (;;) {} })();
  // Ignores its abort signal: the runner records the timeout, but the body goes on inside its process.
  task({ taskId: 'lingering', executionTimeout: 1 }, async (ctx) => { mark('S', ctx); await new Promise((r) => setTimeout(r, 120_000)); })();
});
dag({ dagId: 'qclaim', schedule: null }, () => {
  task('unclaimable', async (ctx) => { mark('S', ctx); })();
});
`;

for (const dialect of (await redisAvailable()) ? await dialects() : []) describe(`queue executor end to end (2 workers, 2 queues) on ${dialect}`, () => {
  let h: FloeHarness;
  const prefix = uniquePrefix(`e2e-${dialect}`);
  const workers: WorkerProc[] = [];
  let execLog: string;

  before(async () => {
    h = await startFloe(dialect, { config: { scheduler: { taskHeartbeatInterval: 0.5 } } });
    execLog = path.join(h.home, 'exec.log');
    h.writeDag('qmix.ts', DAG);
    const parsed = await h.parse();
    assert.deepEqual(parsed.errors, []);
    const env = workerEnv(h, { redisUrl: REDIS_URL, prefix }, { FLOE_TEST_EXEC_LOG: execLog });
    workers.push(startCliWorker(h, env, ['--queues', 'default', '--concurrency', '2', '--name', 'wdefault'], 'wdefault'));
    workers.push(startCliWorker(h, env, ['--queues', 'etl', '--concurrency', '2', '--name', 'wetl'], 'wetl'));
    await Promise.all(workers.map((w) => w.waitFor(/floe worker \w+: queues/)));
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await deletePrefix(REDIS_URL, prefix);
    await h?.close();
  });

  test('each task runs on the worker of its queue; XCom, retries and shell tasks work', async () => {
    const runId = await h.trigger('qmix');
    const { scheduler, executor } = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 1000 });
    // Until the run is over and every slot is free again: the run ends with the last DB write, the slot with the
    // job's completion just after it (a leaked slot times this out).
    await runScheduler(scheduler, async () => (await runFinished(h, 'qmix', runId)) && executor.inFlight().length === 0, 60_000, 'qmix run');
    const tis = await h.tis('qmix', runId);
    for (const [id, ti] of tis) assert.equal(ti.state, 'success', `${id}: ${ti.state} (${ti.reason})`);
    assert.equal(tis.get('flaky')!.try_number, 2);
    const xcom = async (taskId: string) =>
      JSON.parse((await h.rt.db.kysely.selectFrom('xcom').select('value').where('dag_id', '=', 'qmix').where('run_id', '=', runId).where('task_id', '=', taskId).where('key', '=', 'return_value').executeTakeFirstOrThrow()).value);
    assert.deepEqual(await xcom('extract'), { by: 'wetl', rows: [1, 2, 3] });
    assert.deepEqual(await xcom('transform'), { by: 'wdefault', from: 'wetl', rows: [2, 4, 6] });
    assert.deepEqual(await xcom('load'), { by: 'wetl', sum: 12 });
    assert.equal(await xcom('sh'), 'shell on wetl');
    assert.equal(await xcom('flaky'), 'ok on try 2');
    const history = await h.history('qmix', runId);
    assert.match(history.find((r) => r.task_id === 'flaky' && r.try_number === 1)!.reason ?? '', /first try fails/);
    // Every task body ran exactly once per try, on a worker serving its queue.
    const runs = readExecutions(execLog);
    const queueOf: Record<string, string> = { extract: 'wetl', transform: 'wdefault', load: 'wetl', flaky: 'wdefault' };
    for (const [taskId, w] of Object.entries(queueOf)) for (const e of runs.filter((r) => r.taskId === taskId)) assert.equal(e.worker, w, `${taskId} ran on ${e.worker}`);
    assert.deepEqual(runs.filter((r) => r.taskId === 'flaky').map((r) => r.tryNumber).sort(), [1, 2]);
    assert.equal(runs.filter((r) => r.taskId === 'extract').length, 1);
    // The executor's handle is recorded; the jobs carry the workers' results.
    const ext = await h.rt.db.kysely.selectFrom('task_instance').select('external_executor_id').where('dag_id', '=', 'qmix').where('task_id', '=', 'load').executeTakeFirstOrThrow();
    const loadJob = await currentJobId(h.rt.db, { dagId: 'qmix', runId, taskId: 'load', mapIndex: -1 });
    assert.equal(ext.external_executor_id, `bullmq:etl/${loadJob}`);
    const q = new Queue('etl', { connection: { url: REDIS_URL }, prefix });
    try {
      // The worker completes the job after the runner's DB write that ended the run.
      await waitUntil('the last job to complete', async () => (await q.getJobState(loadJob)) === 'completed');
      const job = await q.getJob(loadJob);
      assert.equal(job?.returnvalue.ran, true);
      assert.equal(job?.returnvalue.worker, 'wetl');
    } finally {
      await q.close();
    }
    assert.deepEqual(executor.inFlight(), []);
    // Plain log lines off a terminal: one per try started and finished.
    await workers[1].waitFor(/finished qmix\.load run \S+ try 1: success/);
    assert.match(workers[0].output(), /started qmix\.flaky run \S+ try 1 \(queue default, pid \d+\)/);
    assert.match(workers[0].output(), /finished qmix\.flaky run \S+ try 1: up_for_retry \(Error: first try fails\)/);
  });

  test('a claim the database refuses runs nothing: the try is added again, then fails with the reason', async () => {
    const db = h.rt.db.kysely;
    // Refuses only the claim (queued → running) of this task, as a database in trouble would.
    if (dialect === 'sqlite') await sql`create trigger refuse_claim before update of state on task_instance when new.task_id = 'unclaimable' and new.state = 'running' begin select raise(abort, 'refused by test trigger'); end`.execute(db);
    else {
      await sql`create function refuse_claim() returns trigger language plpgsql as $$ begin if new.task_id = 'unclaimable' and new.state = 'running' then raise exception 'refused by test trigger'; end if; return new; end $$`.execute(db);
      await sql`create trigger refuse_claim before update on task_instance for each row execute function refuse_claim()`.execute(db);
    }
    try {
      const runId = await h.trigger('qclaim');
      const { scheduler } = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 1000 });
      await runScheduler(scheduler, () => runFinished(h, 'qclaim', runId), 60_000, 'qclaim run');
      const ti = (await h.tis('qclaim', runId)).get('unclaimable')!;
      assert.equal(ti.state, 'failed');
      assert.match(ti.reason ?? '', /did not run the try: the worker could not claim the try in the metadata database: .*refused by test trigger/);
      assert.deepEqual(readExecutions(execLog).filter((e) => e.taskId === 'unclaimable'), [], 'the task never ran');
    } finally {
      if (dialect === 'sqlite') await sql`drop trigger refuse_claim`.execute(db);
      else await sql`drop trigger refuse_claim on task_instance; drop function refuse_claim()`.execute(db);
    }
  });

  test('a task that kills its own process, or hangs past its timeout, fails with the reason; the worker carries on', async () => {
    const runId = await h.trigger('qcrash');
    const { scheduler } = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 1000 });
    await runScheduler(scheduler, () => runFinished(h, 'qcrash', runId), 60_000, 'qcrash run');
    const tis = await h.tis('qcrash', runId);
    assert.equal(tis.get('crash')!.state, 'failed');
    assert.match(tis.get('crash')!.reason ?? '', /task process \(pid \d+\) was killed by SIGKILL before recording a result \(worker wdefault\)/);
    assert.equal(tis.get('after_crash')!.state, 'success');
    assert.equal(tis.get('hang')!.state, 'failed');
    assert.match(tis.get('hang')!.reason ?? '', /^killed: the try ran 1s \(executionTimeout\) and did not stop \(worker wdefault\)$/);
    assert.equal(tis.get('lingering')!.state, 'failed');
    assert.match(tis.get('lingering')!.reason ?? '', /execution timeout: the try ran longer than 1s/);
    // Its task process is not reused for another try (the body may still be running there): it is gone.
    const lingeringPid = readExecutions(execLog).find((e) => e.taskId === 'lingering')!.pid;
    await waitUntil('the timed-out try\'s process to end', () => {
      try {
        process.kill(lingeringPid, 0);
        return false;
      } catch {
        return true;
      }
    });
    assert.equal(workers[0].child.exitCode, null, 'the default worker is still running');
    await workers[0].waitFor(/finished qcrash\.crash run \S+ try 1: lost \(task process \(pid \d+\) was killed by SIGKILL/);
  });
});
