// `floe worker` as a user runs it: graceful SIGTERM (no new tries, running ones finish), the shutdown
// timeout (running tries killed, failed with the reason), and clear errors for bad flags.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { tsxExecArgv } from '../helpers/tsx.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import {
  currentJobId, deletePrefix, MARK_SOURCE, queueScheduler, readExecutions, REDIS_URL, redisAvailable, runScheduler, startCliWorker, uniquePrefix, type WorkerProc, workerEnv,
} from './helpers.ts';

const CLI_ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));

describe('floe worker', async () => {
  if (!(await redisAvailable())) return;
  let h: FloeHarness;
  let env: Record<string, string>;
  let execLog: string;
  const prefix = uniquePrefix('cli');
  const workers: WorkerProc[] = [];

  before(async () => {
    h = await startFloe('sqlite', { config: { scheduler: { taskHeartbeatInterval: 0.5 } } });
    execLog = path.join(h.home, 'exec.log');
    h.writeDag(
      'cli.ts',
      `${SDK_IMPORT}
${MARK_SOURCE}
const sleepy = (ms) => async (ctx) => { mark('S', ctx); await new Promise((r) => setTimeout(r, ms)); mark('E', ctx); return ctx.taskId; };
dag({ dagId: 'graceful', schedule: null }, () => {
  task('t1', sleepy(1500))();
  task('t2', sleepy(0))();
});
dag({ dagId: 'stubborn', schedule: null }, () => {
  task('s', sleepy(120_000))();
});
`,
    );
    assert.deepEqual((await h.parse()).errors, []);
    env = workerEnv(h, { redisUrl: REDIS_URL, prefix }, { FLOE_TEST_EXEC_LOG: execLog });
  });

  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await deletePrefix(REDIS_URL, prefix);
    await h?.close();
  });

  const tisOf = async (dagId: string, runId: string) => h.tis(dagId, runId);

  test('SIGTERM: the running try finishes, no new try is taken, the worker exits 0', async () => {
    const runId = await h.trigger('graceful');
    const w1 = startCliWorker(h, env, ['--queues', 'default', '--concurrency', '1', '--name', 'w1', '--shutdown-timeout', '60'], 'w1');
    workers.push(w1);
    const { scheduler } = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 500 });
    const running = runScheduler(scheduler, async () => (await tisOf('graceful', runId)).get('t2')?.state === 'success', 90_000, 'graceful run');
    running.catch(() => {});

    await w1.waitFor(/started graceful\.t1 run \S+ try 1/, 60_000);
    w1.child.kill('SIGTERM');
    const exit = await w1.exited;
    assert.deepEqual(exit, { code: 0, signal: null }, w1.output());
    assert.match(w1.output(), /SIGTERM: taking no more tries; waiting up to 60s for 1 running try to finish/);
    assert.match(w1.output(), /finished graceful\.t1 run \S+ try 1: success/);
    assert.match(w1.output(), /stopped\n/);
    const tis = await tisOf('graceful', runId);
    assert.equal(tis.get('t1')!.state, 'success');
    const t1 = await h.rt.db.kysely.selectFrom('task_instance').select('hostname').where('dag_id', '=', 'graceful').where('run_id', '=', runId).where('task_id', '=', 't1').executeTakeFirstOrThrow();
    assert.match(t1.hostname ?? '', /^\S+ \(worker w1\)$/, 'the try records the worker that ran it');
    assert.equal(tis.get('t2')!.state, 'queued', 't2 was not taken by the stopping worker');
    const q = new Queue('default', { connection: { url: REDIS_URL }, prefix });
    try {
      assert.equal(await q.getJobState(await currentJobId(h.rt.db, { dagId: 'graceful', runId, taskId: 't2', mapIndex: -1 })), 'waiting');
    } finally {
      await q.close();
    }
    assert.equal(readExecutions(execLog).filter((e) => e.taskId === 't2').length, 0);

    const w2 = startCliWorker(h, env, ['--queues', 'default', '--name', 'w2'], 'w2');
    workers.push(w2);
    await running;
    assert.deepEqual(readExecutions(execLog).filter((e) => e.taskId === 't2').map((e) => e.worker), ['w2']);
    w2.child.kill('SIGTERM');
    assert.deepEqual(await w2.exited, { code: 0, signal: null }, w2.output());
  });

  test('past the shutdown timeout, running tries are killed and fail with the reason', async () => {
    const runId = await h.trigger('stubborn');
    const w3 = startCliWorker(h, env, ['--queues', 'default', '--name', 'w3', '--shutdown-timeout', '0.5'], 'w3');
    workers.push(w3);
    const { scheduler } = queueScheduler(h, { redisUrl: REDIS_URL, prefix, reconcileIntervalMs: 500 });
    const running = runScheduler(scheduler, async () => (await tisOf('stubborn', runId)).get('s')?.state === 'failed', 90_000, 'stubborn run');
    running.catch(() => {});
    await w3.waitFor(/started stubborn\.s run \S+ try 1/, 60_000);
    w3.child.kill('SIGTERM');
    assert.deepEqual(await w3.exited, { code: 0, signal: null }, w3.output());
    assert.match(w3.output(), /stopped \(killed 1 try still running after 0\.5s\)/);
    await running;
    assert.match((await tisOf('stubborn', runId)).get('s')!.reason ?? '', /killed: the worker w3 was stopped and the try did not finish within its shutdown timeout \(0\.5s\)/);
  });

  test('a worker that cannot reach Redis exits on SIGTERM, promptly and with code 0', async () => {
    // Port 9 (discard) is closed here: every connection attempt is refused, and ioredis keeps retrying.
    const down = workerEnv(h, { redisUrl: 'redis://127.0.0.1:9', prefix }, { FLOE_TEST_EXEC_LOG: execLog });
    const w = startCliWorker(h, down, ['--queues', 'default', '--name', 'w-down', '--shutdown-timeout', '60'], 'w-down');
    workers.push(w);
    await w.waitFor(/floe worker w-down: queues default/, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const t0 = Date.now();
    w.child.kill('SIGTERM');
    const exit = await Promise.race([w.exited, new Promise((r) => setTimeout(() => r('still running after 30 s'), 30_000).unref())]);
    assert.deepEqual(exit, { code: 0, signal: null }, w.output());
    // Nothing runs, so nothing is waited for: not the 60 s shutdown timeout, nor Redis.
    assert.ok(Date.now() - t0 < 20_000, `exited after ${Date.now() - t0} ms:\n${w.output()}`);
    assert.match(w.output(), /stopped\n/);
  });

  test('a bad flag is rejected with what was expected', () => {
    const run = (args: string[]) => spawnSync(process.execPath, [...tsxExecArgv(), CLI_ENTRY, 'worker', ...args], { env: { ...process.env, ...env }, cwd: h.home, encoding: 'utf8', timeout: 60_000 });
    // One process is enough to see that errors end the command with exit code 1 and the message; the
    // messages of every bad value are in units.test.ts.
    const r = run(['--queues', 'default,etl', '--concurrency', 'etl=0']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^error: --concurrency: "etl=0" is not valid; expected a positive integer \(N\) or QUEUE=N/);
  });
});
