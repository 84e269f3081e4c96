// The QueueExecutor on its own against real Redis (BullMQ workers written here play `floe worker`): enqueue
// at most once, Redis down at enqueue, refused deliveries, adoption of its own jobs only, bad queue names.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { getDag } from '../../src/cli/runtime.ts';
import type { SerializedDag } from '../../src/dag/model.ts';
import { jobIdFor } from '../../src/executors/queue/job-id.ts';
import { QueueExecutor } from '../../src/executors/queue/queue-executor.ts';
import type { ExecutorEvent, TIKey, Workload } from '../../src/executors/types.ts';
import { nowIso, sleep } from '../../src/util/time.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { deletePrefix, OwnRedis, REDIS_URL, redisAvailable, uniquePrefix, waitUntil } from './helpers.ts';

describe('QueueExecutor', async () => {
  if (!(await redisAvailable())) return;
  let h: FloeHarness;
  let runId: string;
  let dag: SerializedDag;
  const prefixes: string[] = [];
  const closers: (() => Promise<unknown>)[] = [];

  before(async () => {
    h = await startFloe('sqlite');
    h.writeDag('x.ts', `${SDK_IMPORT}\ndag({ dagId: 'x', schedule: null }, () => { for (const t of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) task(t, async () => 1)(); });\n`);
    assert.deepEqual((await h.parse()).errors, []);
    runId = await h.trigger('x');
    dag = await getDag(h.rt, 'x');
  });

  after(async () => {
    for (const c of closers.reverse()) await c().catch(() => {});
    for (const p of prefixes) await deletePrefix(REDIS_URL, p);
    await h?.close();
  });

  const key = (taskId: string): TIKey => ({ dagId: 'x', runId, taskId, mapIndex: -1 });
  const work = (taskId: string, queue = 'default', tryNumber = 1): Workload => ({
    key: key(taskId), tryNumber, launchId: 'L1', command: [], queue, executorConfig: null, fileloc: dag.fileloc, executionTimeout: null, task: dag.tasks.find((t) => t.taskId === taskId)!,
  });
  /** The task instance row, as the scheduler leaves it when it hands a try to the executor. */
  async function setTi(taskId: string, state: string, tryNumber = 1): Promise<void> {
    const t = nowIso();
    await h.rt.db.kysely
      .insertInto('task_instance')
      .values({
        dag_id: 'x', run_id: runId, task_id: taskId, map_index: -1, state, try_number: tryNumber, max_tries: 0, pool: 'default_pool', pool_slots: 1, queue: 'default', priority_weight: 1,
        queued_at: t, start_date: null, end_date: null, next_retry_at: null, hostname: null, pid: null, queued_by_job_id: null, launch_id: 'L1', external_executor_id: null, last_heartbeat: null, reason: null, updated_at: t,
      })
      .onConflict((oc) => oc.columns(['dag_id', 'run_id', 'task_id', 'map_index']).doUpdateSet({ state, try_number: tryNumber }))
      .execute();
  }
  function executor(prefix: string, redisUrl = REDIS_URL, parallelism = 4) {
    const events: ExecutorEvent[] = [];
    const ex = new QueueExecutor({ redisUrl, prefix, parallelism, reconcileIntervalMs: 200 }, h.rt.db, { wake: () => void ex.sync().then((e) => events.push(...e)) });
    closers.push(() => ex.stop());
    return { ex, events };
  }
  function queue(name: string, prefix: string, url = REDIS_URL): Queue {
    const q = new Queue(name, { connection: { url }, prefix });
    closers.push(() => q.close());
    return q;
  }
  function fakeWorker(name: string, prefix: string, processor: () => Promise<unknown>): Worker {
    const w = new Worker(name, processor, { connection: { url: REDIS_URL }, prefix, lockDuration: 5000 });
    w.on('error', () => {});
    closers.push(() => w.close(true));
    return w;
  }
  const fresh = (what: string) => {
    const p = uniquePrefix(what);
    prefixes.push(p);
    return p;
  };

  test('a try becomes one job on its queue; handing it over twice or from a second executor adds nothing', async () => {
    const prefix = fresh('once');
    await setTi('a', 'queued');
    const { ex } = executor(prefix);
    await ex.start();
    ex.queue(work('a', 'etl'));
    ex.queue(work('a', 'etl'));
    assert.equal(ex.openSlots(), 3);
    await waitUntil('the job to be added', () => ex.inFlight().every((e) => e.sent));
    const other = executor(prefix).ex;
    await other.start();
    other.queue(work('a', 'etl'));
    await waitUntil('the second add', () => other.inFlight().every((e) => e.sent));
    const q = queue('etl', prefix);
    assert.deepEqual(await q.getJobCounts('waiting'), { waiting: 1 });
    const job = (await q.getJob(jobIdFor(key('a'), 1, 'L1')))!;
    assert.deepEqual(job.data.key, key('a'));
    assert.equal(job.data.tryNumber, 1);
  });

  test('Redis down at enqueue: the try waits in the executor, no event, and is added once Redis is back', async () => {
    const redis = await OwnRedis.start();
    closers.push(() => redis.down());
    const prefix = fresh('down');
    await setTi('b', 'queued');
    const { ex, events } = executor(prefix, redis.url);
    await ex.start();
    await redis.down();
    ex.queue(work('b'));
    await sleep(1500);
    assert.deepEqual(ex.inFlight().map((e) => e.sent), [false]);
    assert.equal(ex.openSlots(), 3, 'the waiting try holds its slot');
    assert.deepEqual(events, []);
    await redis.up();
    await waitUntil('the add to go through', () => ex.inFlight().every((e) => e.sent), 30_000);
    assert.equal(await queue('default', prefix, redis.url).getJobState(jobIdFor(key('b'), 1, 'L1')), 'waiting');
    assert.deepEqual(events, []);
  });

  test('a redelivery the runner refuses while the try runs elsewhere fails nothing; the slot frees when the DB says the try is over', async () => {
    const prefix = fresh('refused');
    await setTi('c', 'queued');
    const { ex, events } = executor(prefix);
    await ex.start();
    fakeWorker('default', prefix, async () => {
      await setTi('c', 'running'); // the real runner has it
      return { ran: false, reason: 'try 1 is not queued (task instance is running at try 1)', worker: 'fake', pid: 1 };
    });
    ex.queue(work('c'));
    await waitUntil('the job to be completed', async () => (await queue('default', prefix).getJobState(jobIdFor(key('c'), 1, 'L1'))) === 'completed');
    await sleep(600); // a few checks
    assert.equal(ex.inFlight().length, 1, 'still tracked while the try runs');
    assert.deepEqual(events.filter((e) => e.state !== 'running'), []);
    await setTi('c', 'success');
    await waitUntil('the slot to free', () => ex.inFlight().length === 0);
    assert.deepEqual(events.filter((e) => e.state !== 'running'), [], 'the scheduler learns the end from the DB');
  });

  test('a result that is not a Floe try result fails nothing while the DB says the try runs', async () => {
    const prefix = fresh('garbled');
    await setTi('f', 'queued');
    const { ex, events } = executor(prefix);
    await ex.start();
    fakeWorker('default', prefix, async () => {
      await setTi('f', 'running'); // a runner has it
      return 'not a result';
    });
    ex.queue(work('f'));
    await waitUntil('the job to be completed', async () => (await queue('default', prefix).getJobState(jobIdFor(key('f'), 1, 'L1'))) === 'completed');
    await sleep(600);
    assert.equal(ex.inFlight().length, 1, 'still tracked while the try runs');
    assert.deepEqual(events.filter((e) => e.state !== 'running'), []);
    await setTi('f', 'success');
    await waitUntil('the slot to free', () => ex.inFlight().length === 0);
    assert.deepEqual(events.filter((e) => e.state !== 'running'), []);
  });

  test('a try the worker keeps refusing while it is still queued is added again, then failed with the reason', async () => {
    const prefix = fresh('stale');
    await setTi('d', 'queued');
    const { ex, events } = executor(prefix);
    await ex.start();
    let deliveries = 0;
    fakeWorker('default', prefix, async () => {
      deliveries++;
      return { ran: false, reason: 'no DAG run in the database', worker: 'fake', pid: 1 };
    });
    ex.queue(work('d'));
    await waitUntil('a failure event', () => events.some((e) => e.state === 'failed'));
    assert.equal(deliveries, 3, 'first delivery + 2 re-adds');
    const failed = events.find((e) => e.state === 'failed')!;
    assert.deepEqual(failed.key, key('d'));
    assert.equal(failed.reason, 'worker fake did not run the try: no DAG run in the database');
    assert.equal(ex.inFlight().length, 0);
  });

  test('a late result of an earlier delivery does not count as a refusal of the job waiting now', async () => {
    // The periodic check can handle a refused delivery (re-adding the job) before that delivery's own event
    // arrives; the event must then not count as a second refusal. Here the late events are written into the
    // queue's event stream by hand while the job waits for a worker.
    const prefix = fresh('late');
    await setTi('g', 'queued');
    const { ex, events } = executor(prefix);
    await ex.start();
    ex.queue(work('g'));
    const jobId = jobIdFor(key('g'), 1, 'L1');
    const q = queue('default', prefix);
    await waitUntil('the job to wait', async () => (await q.getJobState(jobId)) === 'waiting');
    const redis = new Redis(REDIS_URL);
    closers.push(async () => redis.quit());
    const refused = JSON.stringify({ ran: false, reason: 'try 1 is not queued', worker: 'old', pid: 1 });
    const addedAt = (await q.getJob(jobId))!.timestamp;
    for (let i = 0; i < 3; i++) {
      await redis.xadd(`${prefix}:default:events`, '*', 'event', 'completed', 'jobId', jobId, 'returnvalue', refused);
      await sleep(300); // one at a time: events of one read while another is being settled are dropped
    }
    assert.deepEqual(events.filter((e) => e.state !== 'running'), [], 'no failure from stale results');
    assert.equal(ex.inFlight().length, 1);
    const job = await q.getJob(jobId);
    assert.equal(await q.getJobState(jobId), 'waiting');
    assert.equal(job!.timestamp, addedAt, 'the waiting job was neither removed nor re-added');
    // A delivery that runs it now still ends it (by its result, or by the row if a check gets there first).
    fakeWorker('default', prefix, async () => {
      await setTi('g', 'success');
      return { ran: true, state: 'success', reason: null, worker: 'new', pid: 2 };
    });
    await waitUntil('the slot to free', () => ex.inFlight().length === 0);
    assert.deepEqual(events.filter((e) => e.state === 'failed'), []);
  });

  test('a task process that died fails the try with the worker\'s reason', async () => {
    const prefix = fresh('died');
    await setTi('e', 'queued');
    const { ex, events } = executor(prefix);
    await ex.start();
    fakeWorker('default', prefix, async () => {
      throw new Error('task process (pid 7) was killed by SIGKILL before recording a result (worker fake)');
    });
    ex.queue(work('e'));
    await waitUntil('a failure event', () => events.some((e) => e.state === 'failed'));
    assert.equal(events.find((e) => e.state === 'failed')!.reason, 'task process (pid 7) was killed by SIGKILL before recording a result (worker fake)');
    assert.equal(events.find((e) => e.state === 'failed')!.externalId, `bullmq:default/${jobIdFor(key('e'), 1, 'L1')}`);
  });

  test('adopt takes only tries whose Floe job is in Redis; everything else is handed back', async () => {
    const prefix = fresh('adopt');
    const q = queue('etl', prefix);
    const data = (taskId: string) => ({ key: key(taskId), tryNumber: 1, launchId: 'L1', executionTimeout: null, queuedAt: nowIso() });
    await q.add('try', data('a'), { jobId: jobIdFor(key('a'), 1, 'L1') });
    await q.add('try', { something: 'else' }, { jobId: jobIdFor(key('b'), 1, 'L1') }); // not a Floe try
    await setTi('a', 'queued');
    const { ex } = executor(prefix);
    await ex.start();
    const refs = ['a', 'b', 'c'].map((t) => ({ key: key(t), tryNumber: 1, launchId: 'L1', externalId: null }));
    const podRef = { key: key('d'), tryNumber: 2, launchId: 'L1', externalId: 'pod:floe-x-d-2' }; // e.g. the hybrid's Kubernetes half
    const back = await ex.adopt([...refs, podRef]);
    assert.deepEqual(back.map((r) => r.key.taskId), ['b', 'c', 'd']);
    assert.deepEqual(ex.inFlight(), [{ jobId: jobIdFor(key('a'), 1, 'L1'), queue: 'etl', sent: true }]);
    assert.equal(ex.openSlots(), 3);
  });

  test('an adopted try\'s result arrives through the queue\'s events, not only the periodic check', async () => {
    const prefix = fresh('adopt-events');
    const q = queue('etl', prefix);
    await q.add('try', { key: key('d'), tryNumber: 3, launchId: 'L1', executionTimeout: null, queuedAt: nowIso() }, { jobId: jobIdFor(key('d'), 3, 'L1') });
    await setTi('d', 'queued', 3);
    const events: ExecutorEvent[] = [];
    // Checks every 10 minutes: only the event stream can report the result within the wait below.
    const ex = new QueueExecutor({ redisUrl: REDIS_URL, prefix, parallelism: 4, reconcileIntervalMs: 600_000 }, h.rt.db, { wake: () => void ex.sync().then((e) => events.push(...e)) });
    closers.push(() => ex.stop());
    await ex.start();
    assert.deepEqual(await ex.adopt([{ key: key('d'), tryNumber: 3, launchId: 'L1', externalId: null }]), []);
    await sleep(300); // the adoption's own check saw the job waiting
    fakeWorker('etl', prefix, async () => ({ ran: true, state: 'failed', reason: 'boom', worker: 'fake', pid: 1 }));
    await waitUntil('the adopted try\'s result', () => events.some((e) => e.state === 'failed'), 10_000);
    assert.deepEqual(events.filter((e) => e.state === 'failed').map((e) => [e.key.taskId, e.tryNumber, e.reason]), [['d', 3, 'boom']]);
  });

  test('a queue name BullMQ cannot take fails the try with a clear reason', async () => {
    const { ex, events } = executor(fresh('badname'));
    await ex.start();
    ex.queue(work('a', 'bad:name', 5));
    await waitUntil('the failure', () => events.length > 0);
    assert.deepEqual(events, [{ key: key('a'), tryNumber: 5, launchId: 'L1', state: 'failed', reason: `task a cannot be queued: queue name "bad:name" contains ':', which BullMQ does not allow in queue names (task option "queue")` }]);
    assert.equal(ex.openSlots(), 4);
  });
});
