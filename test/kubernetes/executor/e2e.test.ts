// The Kubernetes executor end to end against the dev cluster over HTTP: real pods, real task runners.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { BIN_DIR, type K8sHarness, startK8sFloe } from './helpers.ts';

const EXAMPLES = fileURLToPath(new URL('../../../examples/dags', import.meta.url));

describe('kubernetes executor: pods per task', () => {
  let k: K8sHarness;
  before(async () => {
    k = await startK8sFloe({ deleteWorkerPods: 'never', podLaunchFailureRetries: 1, podPendingTimeout: 3, orphanSweepInterval: 1 });
    mkdirSync(path.join(k.h.dagsFolder, 'data'));
    copyFileSync(path.join(EXAMPLES, 'k8s_executor_example.ts'), path.join(k.h.dagsFolder, 'k8s_executor_example.ts'));
    copyFileSync(path.join(EXAMPLES, 'data', 'states_current.json'), path.join(k.h.dagsFolder, 'data', 'states_current.json'));
    k.h.writeDag('pods.ts', `${SDK_IMPORT}
dag({ dagId: 'chain', schedule: null }, () => {
  const a = task('a', async () => 20);
  const b = task('b', async (_c, x: number) => x + 1);
  const c = shell({ taskId: 'c', command: 'echo from-pod-$HOSTNAME' });
  c.after(b(a()));
});
dag({ dagId: 'broken_pods', schedule: null }, () => {
  task({ taskId: 'bad_image', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', image: 'missing/image:1' }] } } } }, async () => 1)();
  task({ taskId: 'unschedulable', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', resources: { requests: { cpu: '64' } } }] } } } }, async () => 1)();
  task({ taskId: 'oom', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', resources: { limits: { memory: '150Mi' } } }] } } } },
    async () => { const keep = []; for (let i = 0; i < 60; i++) { keep.push(Buffer.alloc(20 * 1024 * 1024, 1)); await new Promise((r) => setTimeout(r, 50)); } return keep.length; })();
  task('exit_code', async () => { process.exit(7); })();
});`);
    const parsed = await k.h.parse();
    assert.deepEqual(parsed.errors, []);
  });
  after(() => k.close());

  test('the seed example runs in a pod carrying its override label and STATE=wa', async () => {
    const runId = await k.h.trigger('k8s_executor_example');
    await k.h.runUntilRunDone('k8s_executor_example', runId, 90_000);
    const tis = await k.h.tis('k8s_executor_example', runId);
    assert.equal(tis.get('get_testing_increase')!.state, 'success', tis.get('get_testing_increase')!.reason ?? '');
    const xcom = await k.h.rt.db.kysely.selectFrom('xcom').select('value').where('dag_id', '=', 'k8s_executor_example').where('run_id', '=', runId).executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(xcom.value), { state: 'wa', testing_increase: 14916 });
    const pods = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=k8s_executor_example' })).items.filter(
      (p) => p.metadata!.annotations!['floe.dev/run-id'] === runId,
    );
    assert.equal(pods.length, 1);
    assert.equal(pods[0].metadata!.labels!.purpose, 'pod-override-example');
    const base = pods[0].spec!.containers.find((c) => c.name === 'base')!;
    assert.equal(base.env?.find((e) => e.name === 'STATE')?.value, 'wa');
    // The runner records success just before its process exits; the pod follows a moment later.
    let phase = pods[0].status!.phase;
    for (let i = 0; i < 100 && phase !== 'Succeeded'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      phase = (await k.core.readNamespacedPod({ namespace: 'default', name: pods[0].metadata!.name! })).status!.phase;
    }
    assert.equal(phase, 'Succeeded');
    const ti = await k.h.rt.db.kysely.selectFrom('task_instance').select('external_executor_id').where('dag_id', '=', 'k8s_executor_example').where('run_id', '=', runId).executeTakeFirstOrThrow();
    assert.equal(ti.external_executor_id, `default/${pods[0].metadata!.name}/${pods[0].metadata!.uid}`);
  });

  test('a chain of tasks passes XCom between pods; one pod per try', async () => {
    const before = k.cluster.podCreationLog.length;
    const runId = await k.h.trigger('chain');
    await k.h.runUntilRunDone('chain', runId, 90_000);
    const tis = await k.h.tis('chain', runId);
    assert.deepEqual([...tis.values()].map((t) => t.state), ['success', 'success', 'success']);
    assert.equal(k.cluster.podCreationLog.length - before, 3);
    const b = await k.h.rt.db.kysely.selectFrom('xcom').select('value').where('run_id', '=', runId).where('task_id', '=', 'b').executeTakeFirstOrThrow();
    assert.equal(JSON.parse(b.value), 21);
  });

  test('image pull errors and unschedulable pods fail fast with the Kubernetes reason; OOMKilled and exit codes are reported', async () => {
    const runId = await k.h.trigger('broken_pods');
    await k.h.runUntilRunDone('broken_pods', runId, 120_000);
    const tis = await k.h.tis('broken_pods', runId);
    const bad = tis.get('bad_image')!;
    assert.equal(bad.state, 'failed');
    assert.match(bad.reason!, /(ErrImagePull|ImagePullBackOff): container base/);
    assert.match(bad.reason!, /gave up after 1 relaunches/);
    assert.equal(bad.try_number, 1, 'infrastructure failures do not spend task retries');
    const launches = await k.h.rt.db.kysely.selectFrom('task_launch_failure').select(['task_id', 'try_number', 'reason']).where('run_id', '=', runId).where('task_id', '=', 'bad_image').execute();
    assert.equal(launches.length, 2);
    // The CLI's try history shows the launch failures beside the try.
    const { spawnSync } = await import('node:child_process');
    const hist = spawnSync(process.execPath, [path.join(BIN_DIR, 'floe.js'), 'tasks', 'history', 'broken_pods', runId, '-o', 'json'], {
      env: { ...process.env, FLOE_HOME: k.h.home, FLOE_CONFIG: '', FLOE_DAGS_FOLDER: k.h.dagsFolder, FLOE__LOGGING__LEVEL: 'silent' },
      encoding: 'utf8',
    });
    const rows = (JSON.parse(hist.stdout) as { task_id: string; state: string }[]).filter((r) => r.task_id === 'bad_image').map((r) => r.state);
    assert.deepEqual(rows, ['launch_failed', 'launch_failed', 'failed']);
    // Each launch's pod is recorded as it was built, with what Kubernetes said when it failed (the web UI's pod view).
    const { readTaskPods } = await import('../../../src/db/task-pods.ts');
    const recorded = await readTaskPods(k.h.rt.db.kysely, { dagId: 'broken_pods', runId, taskId: 'bad_image', mapIndex: -1 }, 1);
    assert.equal(recorded.length, 2, 'one record per launch');
    for (const p of recorded) {
      assert.equal((p.spec as { metadata: { name: string } }).metadata.name, p.podName);
      assert.match((p.spec as { spec: { containers: { image: string }[] } }).spec.containers[0].image, /^missing/);
      assert.match(p.reason ?? '', /ErrImagePull|ImagePullBackOff/);
      assert.ok(p.events?.some((e) => /Failed|BackOff/.test(e.reason ?? '')), JSON.stringify(p.events));
    }
    // Kept (policy never) for inspection, marked as launch failures: the orphan sweep (every second here) leaves
    // them, and cleanup-pods takes them like finished pods although they stay Pending.
    await k.h.runUntil(async () => (await new Promise((r) => setTimeout(r, 2500)), true));
    const { isCleanupCandidate } = await import('../../../src/kubernetes/cleanup.ts');
    const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=broken_pods,floe.dev/task-id=bad_image' });
    assert.equal(items.length, 2, 'both launches\' pods are kept');
    for (const p of items) {
      assert.equal(p.status?.phase, 'Pending');
      assert.ok(p.metadata?.annotations?.['floe.dev/launch-failed'], JSON.stringify(p.metadata?.annotations));
      assert.equal(isCleanupCandidate(p, 0, Date.now()), true);
      assert.equal(isCleanupCandidate(p, 3600, Date.now()), false);
    }
    const un = tis.get('unschedulable')!;
    assert.equal(un.state, 'failed');
    assert.match(un.reason!, /pending timeout: Unschedulable/);
    const oom = tis.get('oom')!;
    assert.equal(oom.state, 'failed');
    assert.match(oom.reason!, /OOMKilled/);
    const exit = tis.get('exit_code')!;
    assert.equal(exit.state, 'failed');
    assert.match(exit.reason!, /exit code 7/);
  });
});

describe('kubernetes executor: deletion policy onSuccess and logs', () => {
  let k: K8sHarness;
  let elsewhere: string;
  before(async () => {
    k = await startK8sFloe({ deleteWorkerPods: 'onSuccess' });
    // The pod's runner writes its log file somewhere the scheduler does not read, as on a real cluster.
    elsewhere = path.join(k.h.home, 'pod-local-logs');
    k.h.writeDag('policy.ts', `${SDK_IMPORT}
const env = [{ name: 'FLOE__LOGGING__LOGS_FOLDER', value: ${JSON.stringify(elsewhere)} }];
dag({ dagId: 'policy', schedule: null }, () => {
  task({ taskId: 'ok', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', env }] } } } }, async () => { console.log('hello-from-pod'); return 1; })();
  task({ taskId: 'bad', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', env }] } } } }, async () => { console.log('about-to-fail'); throw new Error('nope'); })();
});`);
    assert.deepEqual((await k.h.parse()).errors, []);
  });
  after(() => k.close());

  test('succeeded pods are deleted with their log kept; failed pods stay, their log readable through the API', async () => {
    const runId = await k.h.trigger('policy');
    const pods = async () => (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=policy' })).items;
    await k.h.runUntil(async () => {
      const run = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
      // The runner records the failure before its process (and so the pod) ends: wait for the pod's phase too.
      const now = await pods();
      return run.state === 'failed' && now.length === 1 && now[0].status?.phase === 'Failed';
    }, { timeoutMs: 90_000 });
    const left = await pods();
    assert.equal(left[0].metadata!.annotations!['floe.dev/task-id'], 'bad');
    assert.equal(left[0].status!.phase, 'Failed');
    const { readFileSync } = await import('node:fs');
    const { taskLogPath } = await import('../../../src/worker/task-log.ts');
    const okLog = readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'policy', runId, taskId: 'ok', mapIndex: -1 }, 1), 'utf8');
    assert.match(okLog, /hello-from-pod/);
    const { podRefOf, readPodLog } = await import('../../../src/kubernetes/pod-logs.ts');
    const { kubeApiFromConfig: kubeApi } = await import('../../../src/kubernetes/client.ts');
    const bad = await k.h.rt.db.kysely.selectFrom('task_instance').select('external_executor_id').where('run_id', '=', runId).where('task_id', '=', 'bad').executeTakeFirstOrThrow();
    assert.match(await readPodLog(kubeApi(k.h.rt.cfg), podRefOf(bad.external_executor_id)!), /about-to-fail/);
  });
});
