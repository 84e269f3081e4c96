// A scheduler SIGKILLed mid-run and a new one started: its pods are adopted, the DAG run finishes, and every
// try runs exactly once (asserted on the dev cluster's pod creation log and the try history).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { sleep } from '../../../src/util/time.ts';
import { BIN_DIR, type K8sHarness, startK8sFloe } from './helpers.ts';

let k: K8sHarness;
const children: ChildProcess[] = [];

function startScheduler(): ChildProcess {
  const env = {
    ...process.env,
    FLOE_HOME: k.h.home,
    FLOE_CONFIG: '',
    FLOE_DAGS_FOLDER: k.h.dagsFolder,
    FLOE__LOGGING__LEVEL: 'info',
    FLOE__CORE__EXECUTOR: 'kubernetes',
    FLOE__KUBERNETES__KUBECONFIG: k.cluster.kubeconfigPath,
    FLOE__KUBERNETES__DELETE_WORKER_PODS: 'never',
    FLOE__KUBERNETES__API_QPS: '100',
    FLOE__KUBERNETES__API_BURST: '200',
    FLOE__SCHEDULER__HEALTH_CHECK_THRESHOLD: '3',
    FLOE__SCHEDULER__LOOP_INTERVAL: '0.2',
  };
  // Each scheduler's log goes to a file, shown when the test fails.
  const fd = openSync(path.join(k.h.home, `scheduler-${children.length + 1}.log`), 'a');
  const child = spawn(process.execPath, [path.join(BIN_DIR, 'floe.js'), 'scheduler'], { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.push(child);
  return child;
}

function schedulerLogs(): string {
  return children
    .map((_, i) => path.join(k.h.home, `scheduler-${i + 1}.log`))
    .filter((f) => existsSync(f))
    .map((f) => `--- ${path.basename(f)}\n${readFileSync(f, 'utf8').split('\n').slice(-40).join('\n')}`)
    .join('\n');
}

before(async () => {
  k = await startK8sFloe({ deleteWorkerPods: 'never' });
  k.h.writeDag('adopt.ts', `${SDK_IMPORT}
import { existsSync } from 'node:fs';
import path from 'node:path';
dag({ dagId: 'adopt', schedule: null }, () => {
  for (let c = 0; c < 3; c++) {
    const a = task('a' + c, async () => { await new Promise((r) => setTimeout(r, 1500)); return c; })();
    // b waits for the test's go-ahead, so it is still running whatever the machine's load when the new scheduler adopts it.
    const b = task('b' + c, async (_x, v: number) => {
      const go = path.join(process.env.FLOE_HOME!, 'release-b');
      while (!existsSync(go)) await new Promise((r) => setTimeout(r, 100));
      return v + 1;
    });
    shell({ taskId: 'c' + c, command: 'sleep 1; echo done' }).after(b(a));
  }
});`);
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await k.close();
});

async function count(state: string, taskPrefix = ''): Promise<number> {
  const r = await k.h.rt.db.kysely.selectFrom('task_instance').select('task_id').where('dag_id', '=', 'adopt').where('state', '=', state).where('task_id', 'like', `${taskPrefix}%`).execute();
  return r.length;
}

test('scheduler SIGKILL mid-run + restart: pods adopted, each try exactly once', async () => {
  const runId = await k.h.trigger('adopt');
  const first = startScheduler();
  const deadline = Date.now() + 90_000;
  // Kill while some tries are done and others are running in pods.
  // A b task running means its pod, launched by this scheduler, is up and stays up until the test says so:
  // there is a pod to adopt whatever the timing (an a task may end before the new scheduler looks).
  while ((await count('success')) < 2 || (await count('running', 'b')) < 1) {
    assert.ok(Date.now() < deadline, 'first scheduler made no progress');
    await sleep(100);
  }
  // Wait for the kernel to end it: until then it holds the SQLite scheduler lock and the next one would be refused.
  const firstExited = new Promise((r) => first.once('exit', r));
  first.kill('SIGKILL');
  await firstExited;
  const second = startScheduler();
  // The new scheduler relabels the running pods once the old one counts as dead (healthCheckThreshold).
  const adoptedPods = async () =>
    (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=adopt' })).items.filter(
      (p) => p.metadata!.labels!['floe.dev/scheduler-id'] !== p.metadata!.annotations!['floe.dev/scheduler-id'],
    ).length;
  while ((await adoptedPods()) < 1) {
    assert.equal(second.exitCode, null, `the new scheduler exited:\n${schedulerLogs()}`);
    if (Date.now() > deadline + 30_000) {
      const tis = await k.h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'try_number', 'external_executor_id', 'queued_by_job_id']).where('dag_id', '=', 'adopt').execute();
      const pods = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=adopt' })).items.map((p) => [p.metadata!.name, p.metadata!.labels!['floe.dev/scheduler-id'], p.status?.phase]);
      assert.fail(`no pod was adopted:\n${JSON.stringify(tis)}\n${JSON.stringify(pods)}\n${schedulerLogs()}`);
    }
    await sleep(200);
  }
  writeFileSync(path.join(k.h.home, 'release-b'), '');
  for (;;) {
    const run = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
    if (run.state === 'success' || run.state === 'failed') break;
    assert.ok(Date.now() < deadline + 60_000, `run did not finish (${run.state})`);
    await sleep(200);
  }
  const tis = await k.h.tis('adopt', runId);
  assert.equal(tis.size, 9);
  for (const [id, ti] of tis) assert.deepEqual([id, ti.state, ti.try_number], [id, 'success', 1]);
  const hist = await k.h.history('adopt', runId);
  assert.deepEqual(hist.map((r) => [r.task_id, r.try_number, r.state]).sort(), [...tis.keys()].sort().map((id) => [id, 1, 'success']));
  // One pod per task, created once: the dev cluster's creation log counts every accepted create.
  const pods = (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=adopt' })).items;
  assert.equal(pods.length, 9);
  assert.equal(new Set(pods.map((p) => p.metadata!.annotations!['floe.dev/task-id'])).size, 9);
  assert.equal(k.cluster.podCreationLog.filter((c) => pods.some((p) => p.metadata!.uid === c.uid)).length, 9);
  assert.equal(k.cluster.podCreationLog.length, 9);
  // Pods in flight at the kill were relabelled by the new scheduler (the annotation keeps the launcher's id).
  const adopted = pods.filter((p) => p.metadata!.labels!['floe.dev/scheduler-id'] !== p.metadata!.annotations!['floe.dev/scheduler-id']);
  assert.ok(adopted.length >= 1, 'at least one pod was adopted');
});
