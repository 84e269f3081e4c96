// The hybrid executor end to end: the example DAG's fan-out runs on a `floe worker` through BullMQ, its
// `queue: 'kubernetes'` task in a pod of the dev cluster, shaped by its podOverride; each try once, by the right half.
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import type { QueueExecutor } from '../../src/executors/queue/queue-executor.ts';
import { currentJobId, readExecutions, runFinished, runScheduler } from '../queue/helpers.ts';
import { execLogOf, type HybridHarness, hybridScheduler, MARK_SOURCE, REDIS_URL, redisAvailable, startHybridFloe } from './helpers.ts';
import { SDK_IMPORT } from '../helpers/floe.ts';

const EXAMPLES = fileURLToPath(new URL('../../examples/dags', import.meta.url));
const QUEUE_TASKS = ['make_batches', 'sum_batch_0', 'sum_batch_1', 'sum_batch_2', 'sum_batch_3', 'report'];

describe('hybrid executor: queue workers and pods in one DAG run', async () => {
  if (!(await redisAvailable())) return;
  let k: HybridHarness;

  before(async () => {
    k = await startHybridFloe('e2e');
    copyFileSync(path.join(EXAMPLES, 'hybrid_example.ts'), path.join(k.h.dagsFolder, 'hybrid_example.ts'));
    // Tasks whose bodies log who ran them; `fast` names a queue of its own no worker listens on at first.
    k.h.writeDag(
      'who.ts',
      `${SDK_IMPORT}
${MARK_SOURCE}
dag({ dagId: 'who', schedule: null }, () => {
  const body = async (ctx) => { mark('S', ctx); mark('E', ctx); return ctx.taskId; };
  const q = task('q', body)();
  const p1 = task({ taskId: 'p1', queue: 'kubernetes' }, body)();
  const p2 = task({ taskId: 'p2', queue: 'kubernetes' }, body)();
  task({ taskId: 'fast', queue: 'fast' }, body)().after(q, p1, p2);
});`,
    );
    const parsed = await k.h.parse();
    assert.deepEqual(parsed.errors, []);
    // The worker also listens on "kubernetes": a pod task wrongly sent to BullMQ would run there, not hang.
    await k.startWorker('wa', 'default,kubernetes,fast', 4);
  });
  after(() => k?.close());

  test('the example DAG: the fan-out on the worker, "combine" in a pod with its podOverride', async () => {
    const podsBefore = k.cluster.podCreationLog.length;
    const runId = await k.h.trigger('hybrid_example');
    const { scheduler, executor } = hybridScheduler(k);
    // Until the run is over and neither half tracks a try any more (a leaked try would hold a slot).
    const idle = () => (executor.half('queue') as QueueExecutor).inFlight().length === 0 && executor.openSlots() === 8;
    await runScheduler(scheduler, async () => (await runFinished(k.h, 'hybrid_example', runId)) && idle(), 90_000, 'hybrid_example run');

    const tis = await k.h.tis('hybrid_example', runId);
    assert.equal(tis.size, 7);
    for (const [id, ti] of tis) assert.deepEqual([id, ti.state, ti.try_number], [id, 'success', 1], ti.reason ?? '');
    const combine = await k.h.rt.db.kysely.selectFrom('xcom').select('value').where('run_id', '=', runId).where('task_id', '=', 'combine').executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(combine.value), { batches: 4, total: 78, units: 'items' });

    // Exactly one pod: combine's, carrying the override's label and environment.
    assert.equal(k.cluster.podCreationLog.length - podsBefore, 1);
    const pods = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=hybrid_example' })).items;
    assert.deepEqual(pods.map((p) => p.metadata!.annotations!['floe.dev/task-id']), ['combine']);
    const [pod] = pods;
    assert.equal(pod.metadata!.labels!.purpose, 'hybrid-example');
    assert.equal(pod.spec!.containers.find((c) => c.name === 'base')!.env?.find((e) => e.name === 'REPORT_UNITS')?.value, 'items');
    assert.equal(pod.status!.phase, 'Succeeded');

    // External ids name the half that ran each try.
    const rows = await k.h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'external_executor_id']).where('run_id', '=', runId).execute();
    const ext = new Map(rows.map((r) => [r.task_id, r.external_executor_id]));
    assert.equal(ext.get('combine'), `default/${pod.metadata!.name}/${pod.metadata!.uid}`);
    const key = (taskId: string) => ({ dagId: 'hybrid_example', runId, taskId, mapIndex: -1 });
    const jobIds = new Map(await Promise.all(QUEUE_TASKS.map(async (t) => [t, await currentJobId(k.h.rt.db, key(t))] as const)));
    for (const t of QUEUE_TASKS) assert.equal(ext.get(t), `bullmq:default/${jobIds.get(t)}`);

    // BullMQ: a completed job, processed by worker wa, for each queue task; none for combine on any queue.
    const queues = ['default', 'kubernetes'].map((name) => new Queue(name, { connection: { url: REDIS_URL }, prefix: k.prefix }));
    try {
      for (const t of QUEUE_TASKS) {
        const job = await queues[0].getJob(jobIds.get(t)!);
        assert.ok(job, `job of ${t}`);
        assert.equal(await job.getState(), 'completed');
        assert.deepEqual([job.returnvalue.ran, job.returnvalue.state, job.returnvalue.worker], [true, 'success', 'wa']);
      }
      const combine = await currentJobId(k.h.rt.db, key('combine'));
      for (const q of queues) assert.equal(await q.getJob(combine), undefined);
    } finally {
      await Promise.all(queues.map((q) => q.close()));
    }
  });

  test('routing is by queue name alone; each try runs once, where its queue says', async () => {
    const runId = await k.h.trigger('who');
    const { scheduler } = hybridScheduler(k);
    await runScheduler(scheduler, () => runFinished(k.h, 'who', runId), 90_000, 'who run');
    const tis = await k.h.tis('who', runId);
    for (const [id, ti] of tis) assert.deepEqual([id, ti.state, ti.try_number], [id, 'success', 1], ti.reason ?? '');

    const runs = readExecutions(execLogOf(k));
    const byTask = new Map(runs.map((e) => [e.taskId, e]));
    assert.equal(runs.length, 4, 'four tries, each started once');
    assert.equal(byTask.get('q')!.worker, 'wa');
    assert.equal(byTask.get('fast')!.worker, 'wa', 'a queue other than default and kubernetes goes to BullMQ too');
    const pods = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=who' })).items;
    assert.deepEqual(pods.map((p) => p.metadata!.annotations!['floe.dev/task-id']).sort(), ['p1', 'p2']);
    for (const p of pods) assert.equal(byTask.get(p.metadata!.annotations!['floe.dev/task-id'])!.worker, `pod:${p.metadata!.name}`);
    for (const e of runs) assert.ok(e.end !== null, `${e.taskId} finished`);
  });
});
