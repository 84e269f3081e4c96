// The executor under API faults: injected 5xx/429, dropped watch streams and forced 410 Gone lose nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { type K8sHarness, startK8sFloe } from './helpers.ts';

let k: K8sHarness;
before(async () => {
  // Every pod is deleted once the executor saw it finish: no pod left proves no completion was missed.
  k = await startK8sFloe({ deleteWorkerPods: 'always', taskPublishMaxRetries: 8 });
  k.h.writeDag('many.ts', `${SDK_IMPORT}
dag({ dagId: 'many', schedule: null }, () => {
  const root = task('root', async () => 1)();
  for (let i = 0; i < 10; i++) task('leaf_' + i, async () => { await new Promise((r) => setTimeout(r, 200)); return i; })().after(root);
});`);
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(() => k.close());

/** Floe pods still in the cluster; -1 when the (fault-injected) API answered with an error. */
async function floePodsLeft(): Promise<number> {
  let pods;
  try {
    const list = k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/worker=true' });
    const late = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('list timed out')), 3000).unref());
    pods = (await Promise.race([list, late])).items;
  } catch (e) {
    if (process.env.DEBUG_TEST) console.log('list failed', String(e).slice(0, 100));
    return -1;
  }
  if (pods.length && process.env.DEBUG_TEST) console.log(pods.map((p) => [p.metadata!.name, p.status!.phase, p.metadata!.deletionTimestamp]));
  return pods.length;
}

/**
 * One scheduler session runs until the DAG run is done AND the executor deleted every pod it launched: the
 * executor deletes a pod only after seeing it finish through its watch, so no pod left = no event lost.
 */
async function runWithFaults(): Promise<string> {
  const runId = await k.h.trigger('many');
  await k.h.runUntil(async () => {
    const r = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
    return r.state !== 'running' && r.state !== 'queued' && (await floePodsLeft()) === 0;
  }, { timeoutMs: 120_000 });
  const tis = await k.h.tis('many', runId);
  assert.equal([...tis.values()].filter((t) => t.state === 'success').length, 11, JSON.stringify([...tis]));
  return runId;
}

test('10% of API requests failing with 500/503/429 still finishes every task, each in one pod', async () => {
  const before = k.cluster.podCreationLog.length;
  k.cluster.faults.set({ errorRate: 0.1, errorCodes: [500, 503, 429], retryAfterSeconds: 0, seed: 7 });
  try {
    await runWithFaults();
  } finally {
    k.cluster.faults.clear();
  }
  assert.equal(k.cluster.podCreationLog.length - before, 11, 'a failed create is retried, never doubled');
  assert.equal(await floePodsLeft(), 0);
});

test('watch streams dropped every few events and forced 410 Gone lose no pod event', async () => {
  k.cluster.faults.set({ closeWatchAfterEvents: 3, goneNext: 2 });
  try {
    await runWithFaults();
  } finally {
    k.cluster.faults.clear();
  }
  assert.equal(await floePodsLeft(), 0);
});

test('a create whose answer is lost after the pod was stored is retried under the same name: still one pod per try', async () => {
  const before = k.cluster.podCreationLog.length;
  // The first three pod creates are stored, then answered 504 (a timeout): the retry meets 409 AlreadyExists.
  k.cluster.faults.set({ failAfterWriteNext: 3, errorCodes: [504], errorMethods: ['POST'], errorPathPattern: '/pods$', retryAfterSeconds: 0 });
  try {
    const runId = await runWithFaults();
    const hist = await k.h.history('many', runId);
    assert.deepEqual(hist.map((r) => [r.task_id, r.try_number, r.state]).filter(([, , s]) => s !== 'success'), [], 'no try failed or was relaunched');
  } finally {
    k.cluster.faults.clear();
  }
  assert.equal(k.cluster.faults.get().failAfterWriteNext, 0, 'the lost answers happened');
  assert.equal(k.cluster.podCreationLog.length - before, 11, 'one pod per task, even for the creates answered with an error');
});

test('a lost create whose pod then cannot be read keeps its name: no second pod for the launch', async () => {
  const before = k.cluster.podCreationLog.length;
  // One create is stored and answered 503 with Retry-After: 1; within that second, reads of a pod by name fail,
  // so the retried create meets 409 and cannot tell at first whether the pod holding the name is its own.
  k.cluster.faults.set({ failAfterWriteNext: 1, errorCodes: [503], retryAfterSeconds: 1, errorMethods: ['POST'], errorPathPattern: '/pods$' });
  const runId = await k.h.trigger('many');
  let stop = false;
  // Runs beside the scheduler: as soon as the create was lost, reads by name start failing.
  const switchFaults = (async () => {
    while (!stop && k.cluster.faults.get().failAfterWriteNext > 0) await new Promise((r) => setTimeout(r, 5));
    if (!stop) k.cluster.faults.set({ failAfterWriteNext: 0, failNext: 2, errorMethods: ['GET'], errorPathPattern: '/pods/[^/]+$' });
  })();
  try {
    await k.h.runUntil(async () => {
      const r = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
      return r.state === 'success' && (await floePodsLeft()) === 0;
    }, { timeoutMs: 120_000 });
  } finally {
    stop = true;
    await switchFaults;
  }
  const left = k.cluster.faults.get();
  k.cluster.faults.clear();
  assert.deepEqual([left.failAfterWriteNext, left.failNext], [0, 0], 'the create was lost and the reads failed');
  assert.equal(k.cluster.podCreationLog.length - before, 11, 'one pod per task');
  const hist = await k.h.history('many', runId);
  assert.deepEqual(hist.map((r) => [r.task_id, r.try_number, r.state]).filter(([, , s]) => s !== 'success'), [], 'no try failed or was relaunched');
});
