// Redis restarted (without persistence: every key lost) during a run, on a private redis-server: a try that
// ran through the outage is recorded by its runner, tries queued while Redis was down are added once it is
// back, a try whose waiting job was lost is added again; every task runs exactly once.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { sleep } from '../../src/util/time.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import {
  MARK_SOURCE, OwnRedis, queueScheduler, readExecutions, redisAvailable, runFinished, runScheduler, startTestWorker, uniquePrefix, waitUntil, type WorkerProc, workerEnv,
} from './helpers.ts';

describe('Redis restart during a run', async () => {
  if (!(await redisAvailable())) return;
  let h: FloeHarness;
  let redis: OwnRedis;
  let worker: WorkerProc;
  let execLog: string;
  let goFile: string;
  const prefix = uniquePrefix('restart');

  before(async () => {
    redis = await OwnRedis.start();
    h = await startFloe('sqlite', { config: { scheduler: { taskHeartbeatInterval: 0.5, zombieThreshold: 30 } } });
    execLog = path.join(h.home, 'exec.log');
    goFile = path.join(h.home, 'go');
    h.writeDag(
      'restart.ts',
      `${SDK_IMPORT}
${MARK_SOURCE}
import { existsSync } from 'node:fs';
const quick = (ctx) => { mark('S', ctx); mark('E', ctx); return ctx.taskId; };
dag({ dagId: 'restart', schedule: null }, () => {
  // 'a' runs until the test says go; 'x' waits behind it in Redis (the worker runs one try at a time).
  const a = task('a', async (ctx) => {
    mark('S', ctx);
    while (!existsSync(${JSON.stringify(goFile)})) await new Promise((r) => setTimeout(r, 50));
    mark('E', ctx);
    return 'a';
  })();
  task('x', async (ctx) => quick(ctx))();
  const bs = [1, 2, 3].map((i) => task('b' + i, async (ctx) => quick(ctx))().after(a));
  task('c', async (ctx) => quick(ctx))().after(...bs);
});
`,
    );
    assert.deepEqual((await h.parse()).errors, []);
    worker = startTestWorker(h, workerEnv(h, { redisUrl: redis.url, prefix }, { FLOE_TEST_EXEC_LOG: execLog }), {
      name: 'w1',
      queues: [{ name: 'default', concurrency: 1 }],
      lockDurationMs: 5000,
      stalledIntervalMs: 2000,
    });
    await worker.waitFor(/ready/);
  });

  after(async () => {
    await worker?.kill();
    await redis?.down();
    await h?.close();
  });

  test('nothing is lost and nothing runs twice', async () => {
    const runId = await h.trigger('restart');
    const { scheduler, executor } = queueScheduler(h, { redisUrl: redis.url, prefix, reconcileIntervalMs: 500 });
    const running = runScheduler(scheduler, () => runFinished(h, 'restart', runId), 120_000, 'restart run');
    running.catch(() => {});
    await waitUntil('a to run', () => readExecutions(execLog).some((e) => e.taskId === 'a'), 60_000);
    assert.deepEqual(executor.inFlight().map((e) => e.jobId.split('|')[2]).sort(), ['a', 'x'], 'x waits in Redis behind a');

    await redis.down();
    writeFileSync(goFile, ''); // a ends (its runner records it in the DB) while Redis is down …
    await waitUntil('b1..b3 to be queued while Redis is down', async () => {
      const tis = await h.tis('restart', runId);
      return ['b1', 'b2', 'b3'].every((t) => tis.get(t)?.state === 'queued');
    }, 30_000);
    await sleep(1500); // … so their adds fail and are retried
    assert.ok(executor.inFlight().filter((e) => !e.sent).length >= 3, 'the tries queued during the outage wait in the executor');
    await redis.up(); // empty: x's waiting job is gone too

    await running;
    const tis = await h.tis('restart', runId);
    for (const [id, ti] of tis) {
      assert.equal(ti.state, 'success', `${id}: ${ti.state} (${ti.reason})`);
      assert.equal(ti.try_number, 1, `${id} ran on its first try`);
    }
    const runs = readExecutions(execLog);
    for (const t of ['a', 'x', 'b1', 'b2', 'b3', 'c']) assert.equal(runs.filter((e) => e.taskId === t).length, 1, `${t} ran once`);
    assert.equal(worker.child.exitCode, null, 'the worker rode out the restart');
  });
});
