// A hybrid scheduler SIGKILLed while tries of both halves are in flight (pods running, BullMQ jobs running
// and waiting), and a new scheduler started: it adopts the pods and the jobs, the run completes, and each
// try runs exactly once: one pod per Kubernetes try, one start per try, one history row per task instance.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Queue } from 'bullmq';
import { sleep } from '../../src/util/time.ts';
import { SDK_IMPORT } from '../helpers/floe.ts';
import { currentJobId, readExecutions, waitUntil } from '../queue/helpers.ts';
import {
  execLogOf, type HybridHarness, MARK_SOURCE, REDIS_URL, redisAvailable, type SchedulerProc, startHybridFloe, startSchedulerProcess, stopSchedulerProcess,
} from './helpers.ts';

const QUEUE_TASKS = ['q0', 'q1', 'q2', 'q3', 'q_after'];
const POD_TASKS = ['k0', 'k1', 'k_after'];

describe('hybrid executor: scheduler SIGKILL and restart mid-run', async () => {
  if (!(await redisAvailable())) return;
  let k: HybridHarness;
  const schedulers: SchedulerProc[] = [];

  before(async () => {
    k = await startHybridFloe('restart');
    // The first tries wait for the test to release them (after the new scheduler took over), so they are
    // surely in flight at the kill and at the take-over. The worker runs two tries at a time: at the kill
    // q0/q1 run while q2/q3 wait in Redis.
    k.h.writeDag(
      'restart.ts',
      `${SDK_IMPORT}
${MARK_SOURCE}
import { existsSync } from 'node:fs';
const gated = async (ctx) => {
  mark('S', ctx);
  const until = Date.now() + 120_000;
  while (!existsSync(process.env.FLOE_HOME + '/release')) {
    if (Date.now() > until) throw new Error('never released');
    await new Promise((r) => setTimeout(r, 100));
  }
  mark('E', ctx);
  return ctx.taskId;
};
dag({ dagId: 'restart', schedule: null }, () => {
  const first = [...['q0', 'q1', 'q2', 'q3'].map((id) => task(id, gated)()), ...['k0', 'k1'].map((id) => task({ taskId: id, queue: 'kubernetes' }, gated)())];
  task('q_after', gated)().after(...first);
  task({ taskId: 'k_after', queue: 'kubernetes' }, gated)().after(...first);
});`,
    );
    assert.deepEqual((await k.h.parse()).errors, []);
    await k.startWorker('wa', 'default', 2);
  });
  after(async () => {
    for (const s of schedulers) await stopSchedulerProcess(s, 5000);
    await k?.close();
  });

  const tiRows = () =>
    k.h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'try_number', 'queue', 'queued_by_job_id', 'reason']).where('dag_id', '=', 'restart').execute();

  test('pods and jobs in flight are adopted; the run completes with each try exactly once', async () => {
    const runId = await k.h.trigger('restart');
    const first = startSchedulerProcess(k, 'scheduler-1', k.schedulerEnv());
    schedulers.push(first);
    // A loaded machine can take most of a minute to start a process that compiles TypeScript: the wait for tries
    // in flight starts once the scheduler runs.
    await waitUntil('scheduler 1 to start', () => first.output().includes('scheduler started'), 120_000);
    // Kill while pods run, queue tries run on the worker and others wait in Redis for it.
    await waitUntil(
      'tries of both halves in flight',
      async () => {
        const rows = await tiRows();
        const running = (queue: string) => rows.filter((r) => r.state === 'running' && r.queue === queue).length;
        return running('kubernetes') === 2 && running('default') === 2 && rows.filter((r) => r.state === 'queued' && r.queue === 'default').length === 2;
      },
      60_000,
    ).catch(async (e: Error) => {
      const rows = (await tiRows()).map((r) => `${r.task_id}=${r.state}@${r.try_number} (${r.queue}${r.reason ? `: ${r.reason}` : ''})`).join(', ');
      throw new Error(`${e.message}\ntask instances: ${rows}\nscheduler 1 output:\n${first.output().slice(-3000)}\nworker output:\n${k.workers[0]?.output().slice(-2000)}`);
    });
    first.child.kill('SIGKILL');
    await first.exited;
    const killedAt = Date.now();
    const firstJob = (await tiRows()).find((r) => r.task_id === 'k0')!.queued_by_job_id!;

    const second = startSchedulerProcess(k, 'scheduler-2', k.schedulerEnv());
    schedulers.push(second);
    await waitUntil('scheduler 2 to take over', () => second.output().includes('took over tries queued by a dead scheduler'), 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\nscheduler 2 output:\n${second.output().slice(-3000)}`);
    });
    writeFileSync(path.join(k.h.home, 'release'), '');
    const deadline = Date.now() + 90_000;
    for (;;) {
      const run = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
      if (run.state === 'success' || run.state === 'failed') break;
      assert.ok(Date.now() < deadline, `run did not finish (${run.state}); scheduler 2 output:\n${second.output().slice(-3000)}`);
      await sleep(200);
    }
    await stopSchedulerProcess(second);

    // The run succeeded, every task at try 1; one history row per task instance (a zombie would say so).
    const tis = await k.h.tis('restart', runId);
    assert.equal(tis.size, QUEUE_TASKS.length + POD_TASKS.length);
    for (const [id, ti] of tis) assert.deepEqual([id, ti.state, ti.try_number], [id, 'success', 1], ti.reason ?? '');
    const hist = await k.h.history('restart', runId);
    for (const id of tis.keys()) {
      const rows = hist.filter((h) => h.task_id === id);
      const zombie = rows.some((r) => /zombie/.test(r.reason ?? ''));
      if (!zombie) assert.deepEqual(rows.map((r) => [r.try_number, r.state]), [[1, 'success']], `${id}: history ${JSON.stringify(rows)}`);
    }

    // Scheduler 2 took the dead one's six tries over: all adopted (the pods and the jobs, running or waiting).
    const took = second
      .output()
      .split('\n')
      .filter((l) => l.includes('took over tries queued by a dead scheduler'))
      .map((l) => JSON.parse(l) as { orphans: number; adopted: number });
    assert.equal(took.length, 1, `one take-over; scheduler 2 output:\n${second.output().slice(-3000)}`);
    assert.deepEqual({ orphans: took[0].orphans, adopted: took[0].adopted }, { orphans: 6, adopted: 6 });

    // One pod per Kubernetes try, never a second one; the two in flight at the kill were relabelled by scheduler 2.
    const pods = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=restart' })).items;
    assert.deepEqual(pods.map((p) => p.metadata!.annotations!['floe.dev/task-id']).sort(), POD_TASKS.slice().sort());
    assert.equal(k.cluster.podCreationLog.length, POD_TASKS.length);
    const launcher = (id: string) => pods.find((p) => p.metadata!.annotations!['floe.dev/task-id'] === id)!;
    for (const id of ['k0', 'k1']) {
      const p = launcher(id);
      assert.equal(p.metadata!.annotations!['floe.dev/scheduler-id'], String(firstJob), `${id} was launched by scheduler 1`);
      assert.notEqual(p.metadata!.labels!['floe.dev/scheduler-id'], String(firstJob), `${id} was adopted (relabelled) by scheduler 2`);
    }

    // Each try started once, queue tries on the worker, pod tries in their pods, and ran to its end.
    const runs = readExecutions(execLogOf(k));
    assert.deepEqual(runs.map((e) => e.taskId).sort(), [...QUEUE_TASKS, ...POD_TASKS].sort());
    for (const e of runs) {
      assert.equal(e.tryNumber, 1);
      assert.ok(e.end !== null, `${e.taskId} finished`);
      assert.equal(e.worker, QUEUE_TASKS.includes(e.taskId) ? 'wa' : `pod:${launcher(e.taskId).metadata!.name}`);
    }
    // The jobs waiting at the kill (q2, q3) are the ones scheduler 1 added, not added again.
    const q = new Queue('default', { connection: { url: REDIS_URL }, prefix: k.prefix });
    try {
      for (const id of QUEUE_TASKS) {
        const job = (await q.getJob(await currentJobId(k.h.rt.db, { dagId: 'restart', runId, taskId: id, mapIndex: -1 })))!;
        assert.ok(job, `job of ${id}`);
        if (id !== 'q_after') assert.ok(job.timestamp < killedAt, `${id}'s job was added before the kill`);
        assert.deepEqual([job.returnvalue.ran, job.returnvalue.state], [true, 'success']);
      }
    } finally {
      await q.close();
    }
  });
});
