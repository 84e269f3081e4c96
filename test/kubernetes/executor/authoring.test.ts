// Issue #17 on the Kubernetes executor (dev cluster): a mapped task instance is a pod like any other and is
// retried alone; a branch decides in its pod; a reschedule-mode sensor gets a new pod per poke and holds none
// in between.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { type K8sHarness, startK8sFloe } from './helpers.ts';

const scratch = mkdtempSync(path.join(tmpdir(), 'floe-k8s-authoring-'));

describe('kubernetes executor: mapping, branching and sensors', () => {
  let k: K8sHarness;
  before(async () => {
    k = await startK8sFloe({ deleteWorkerPods: 'never' });
    k.h.writeDag(
      'authoring.ts',
      `import { dag, task, branch, sensor } from 'floe';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
dag({ dagId: 'k8s_authoring', schedule: null }, () => {
  const nums = task('nums', async () => [1, 2, 3]);
  const squares = task({ taskId: 'square', retries: 1, retryDelay: 0 }, async (ctx, n: number) => {
    if (ctx.mapIndex === 2 && ctx.tryNumber === 1) throw new Error('instance 2 fails its first try');
    return n * n;
  }).expand(nums());
  const total = task('total', async (ctx, xs: number[]) => xs.reduce((a, b) => a + b, 0))(squares);
  const pick = branch('pick', async (ctx, t: number) => (t > 10 ? 'big' : 'small'))(total);
  const big = task('big', async () => 'big')();
  const small = task('small', async () => 'small')();
  pick.before([big, small]);
  task({ taskId: 'join', triggerRule: 'none_failed_min_one_success' }, async () => 'joined')().after(big, small);
  // Holds 4 s after its first poke; every poke is a pod of its own.
  sensor({ taskId: 'wait', mode: 'reschedule', pokeInterval: 1, timeout: 120 }, async (ctx) => {
    const f = ${JSON.stringify(scratch)} + '/first-' + ctx.runId.replace(/[^a-z0-9]/gi, '');
    if (!existsSync(f)) writeFileSync(f, String(Date.now()));
    return Date.now() - Number(readFileSync(f, 'utf8')) > 4000;
  })();
});`,
    );
    const parsed = await k.h.parse();
    assert.deepEqual(parsed.errors, []);
  });
  after(() => k.close());

  test('mapped instances run as pods, one instance is retried alone, a branch skips in pods, a rescheduled sensor holds no pod between pokes', async () => {
    const runId = await k.h.trigger('k8s_authoring');
    const db = k.h.rt.db.kysely;
    const podsOf = async (taskId: string): Promise<V1Pod[]> =>
      (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: `floe.dev/dag-id=k8s_authoring,floe.dev/task-id=${taskId}` })).items.filter((p) => p.metadata!.annotations!['floe.dev/run-id'] === runId);
    const live = (p: V1Pod) => !['Succeeded', 'Failed'].includes(p.status?.phase ?? '');
    let waitingWithoutPod = 0;
    let maxLiveSensorPods = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const [ti, pods] = await Promise.all([
          db.selectFrom('task_instance').select('state').where('dag_id', '=', 'k8s_authoring').where('run_id', '=', runId).where('task_id', '=', 'wait').executeTakeFirst(),
          podsOf('wait'),
        ]);
        const n = pods.filter(live).length;
        maxLiveSensorPods = Math.max(maxLiveSensorPods, n);
        if (ti?.state === 'up_for_reschedule' && n === 0) waitingWithoutPod++;
        await new Promise((r) => setTimeout(r, 150));
      }
    })();
    try {
      await k.h.runUntilRunDone('k8s_authoring', runId, 150_000);
    } finally {
      sampling = false;
      await sampler;
    }
    const tis = await db.selectFrom('task_instance').select(['task_id', 'map_index', 'state', 'try_number', 'reason']).where('dag_id', '=', 'k8s_authoring').where('run_id', '=', runId).orderBy('task_id').orderBy('map_index').execute();
    const state = Object.fromEntries(tis.map((t) => [t.map_index >= 0 ? `${t.task_id}[${t.map_index}]` : t.task_id, [t.state, t.try_number]]));
    assert.deepEqual(state, {
      big: ['success', 1], join: ['success', 1], nums: ['success', 1], pick: ['success', 1], small: ['skipped', 0],
      'square[0]': ['success', 1], 'square[1]': ['success', 1], 'square[2]': ['success', 2], total: ['success', 1], wait: ['success', 1],
    }, JSON.stringify(tis));
    assert.equal((await k.h.runs('k8s_authoring')).find((r) => r.run_id === runId)!.state, 'success');
    const total = await db.selectFrom('xcom').select('value').where('run_id', '=', runId).where('task_id', '=', 'total').executeTakeFirstOrThrow();
    assert.equal(JSON.parse(total.value), 14);

    // One pod per try of each mapped instance, labelled with its map index: instance 2 has two.
    const squarePods = await podsOf('square');
    const byIndex = squarePods.map((p) => `${p.metadata!.labels!['floe.dev/map-index']}:${p.metadata!.labels!['floe.dev/try-number']}`).sort();
    assert.deepEqual(byIndex, ['0:1', '1:1', '2:1', '2:2']);

    // The sensor: several pods, all for try 1, never two at once, and moments of waiting with no pod at all.
    const sensorPods = await podsOf('wait');
    assert.ok(sensorPods.length >= 2, `a pod per poke (got ${sensorPods.length})`);
    assert.ok(sensorPods.every((p) => p.metadata!.labels!['floe.dev/try-number'] === '1'), 'the try number is kept across pokes');
    assert.ok(sensorPods.every((p) => p.status!.phase === 'Succeeded'), `a poke that finds nothing ends its pod successfully: ${sensorPods.map((p) => p.status!.phase)}`);
    assert.equal(maxLiveSensorPods, 1);
    assert.ok(waitingWithoutPod > 0, 'while up_for_reschedule the sensor held no pod');
    const pokes = await db.selectFrom('task_reschedule').select('try_number').where('run_id', '=', runId).where('task_id', '=', 'wait').execute();
    assert.equal(pokes.length, sensorPods.length - 1, 'every pod but the last gave the slot back');
    const recorded = await db.selectFrom('task_pod').select('pod_name').where('run_id', '=', runId).where('task_id', '=', 'wait').execute();
    assert.equal(recorded.length, sensorPods.length, 'each poke pod is recorded for the try (web UI, tasks logs)');
  });
});
