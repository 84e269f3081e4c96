// A scheduler SIGKILLed while its warm pods are up (one running a try, others idle): the next scheduler adopts
// the busy one and lets the run finish, idle ones are retired and deleted by the orphan sweep, no pod keeps
// running for good, and no try runs twice (each task body appends to a file).
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { sleep } from '../../../src/util/time.ts';
import { SDK_IMPORT } from '../../helpers/floe.ts';
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
    FLOE__KUBERNETES__WARM_PODS: '{enabled: true, idleSeconds: 120}',
    FLOE__KUBERNETES__ORPHAN_SWEEP_INTERVAL: '1',
    FLOE__KUBERNETES__API_QPS: '100',
    FLOE__KUBERNETES__API_BURST: '200',
    FLOE__SCHEDULER__HEALTH_CHECK_THRESHOLD: '3',
    FLOE__SCHEDULER__LOOP_INTERVAL: '0.2',
  };
  const fd = openSync(path.join(k.h.home, `scheduler-${children.length + 1}.log`), 'a');
  const child = spawn(process.execPath, [path.join(BIN_DIR, 'floe.js'), 'scheduler'], { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  children.push(child);
  return child;
}

const logs = () => children.map((_, i) => readFileSync(path.join(k.h.home, `scheduler-${i + 1}.log`), 'utf8').split('\n').slice(-30).join('\n')).join('\n---\n');

before(async () => {
  k = await startK8sFloe({ warmPods: { enabled: true, idleSeconds: 120 } });
  const bodies = path.join(k.h.home, 'bodies.log');
  k.h.writeDag(
    'wk.ts',
    `${SDK_IMPORT}
import { appendFileSync, existsSync } from 'node:fs';
import path from 'node:path';
const mark = (ctx) => appendFileSync(${JSON.stringify(bodies)}, ctx.taskId + ' ' + ctx.tryNumber + '\\n');
dag({ dagId: 'wk', schedule: null }, () => {
  const quick = ['q1', 'q2', 'q3'].map((id) => task(id, async (ctx) => { mark(ctx); return 1; })());
  // held: runs until the test's go-ahead, so it is running when the scheduler is killed.
  task('held', async (ctx) => {
    mark(ctx);
    while (!existsSync(path.join(process.env.FLOE_HOME, 'release'))) await new Promise((r) => setTimeout(r, 100));
    return 2;
  })().after(...quick);
});
dag({ dagId: 'wk2', schedule: null }, () => { task('solo', async () => 3)(); });`,
  );
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await k.close();
});

test('scheduler SIGKILL with warm pods up: the busy pod is adopted, idle ones are swept, each try runs once', async () => {
  const runId = await k.h.trigger('wk');
  const first = startScheduler();
  const deadline = Date.now() + 120_000;
  const state = async (t: string) => (await k.h.rt.db.kysely.selectFrom('task_instance').select('state').where('run_id', '=', runId).where('task_id', '=', t).executeTakeFirst())?.state;
  while ((await state('held')) !== 'running') {
    assert.ok(Date.now() < deadline, `held never started:\n${logs()}`);
    await sleep(100);
  }
  await sleep(500); // the quick tasks' pods have offered themselves (idle)
  const idleBefore = await k.h.rt.db.kysely.selectFrom('warm_pod').select('pod_name').where('state', '=', 'idle').execute();
  assert.ok(idleBefore.length >= 1, 'some warm pods were idle when the scheduler died');
  // `floe kubernetes pods` shows them: idle ones with the tries they ran, the busy one with its try.
  const listed = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [path.join(BIN_DIR, 'floe.js'), 'kubernetes', 'pods', '-o', 'json'],
      { env: { ...process.env, FLOE_HOME: k.h.home, FLOE_CONFIG: '', FLOE_DAGS_FOLDER: k.h.dagsFolder, FLOE__KUBERNETES__KUBECONFIG: k.cluster.kubeconfigPath, FLOE__LOGGING__LEVEL: 'silent' }, timeout: 60_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
    ),
  );
  const rows = JSON.parse(listed) as { pod: string; warm: string; try: string; tries_run: number | string }[];
  for (const r of idleBefore) assert.deepEqual(rows.filter((x) => x.pod === r.pod_name).map((x) => [x.warm, x.tries_run]), [['idle', 1]], listed);
  assert.ok(rows.some((x) => x.warm === 'busy' && /^wk\.held /.test(x.try)), listed);
  const exited = new Promise((r) => first.once('exit', r));
  first.kill('SIGKILL');
  await exited;
  startScheduler();
  // The busy pod is adopted (its try finishes); idle pods of the dead scheduler are retired and deleted.
  writeFileSync(path.join(k.h.home, 'release'), '');
  for (;;) {
    const run = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
    const idle = await k.h.rt.db.kysely.selectFrom('warm_pod').select('pod_name').where('pod_name', 'in', idleBefore.map((r) => r.pod_name)).where('state', '!=', 'retired').execute();
    const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=wk' });
    const runningPods = items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp && idleBefore.some((r) => r.pod_name === p.metadata!.name));
    if ((run.state === 'success' || run.state === 'failed') && idle.length === 0 && runningPods.length === 0) break;
    assert.ok(Date.now() < deadline + 60_000, `not settled: run ${run.state}, ${idle.length} idle rows, ${runningPods.length} idle pods running\n${logs()}`);
    await sleep(300);
  }
  const tis = await k.h.tis('wk', runId);
  for (const [id, ti] of tis) assert.deepEqual([id, ti.state, ti.try_number], [id, 'success', 1]);
  const bodies = readFileSync(path.join(k.h.home, 'bodies.log'), 'utf8').trim().split('\n').sort();
  assert.deepEqual(bodies, ['held 1', 'q1 1', 'q2 1', 'q3 1'], 'each body ran once');
  assert.ok(existsSync(path.join(k.h.home, 'release')));
});

test('floe kubernetes cleanup-pods retires warm pods idle past --older-than: they exit and are gone', async () => {
  // A run under the second scheduler (still up) leaves its pod idle (idleSeconds 120).
  const runId = await k.h.trigger('wk2');
  const deadline0 = Date.now() + 90_000;
  let idle: { pod_name: string; namespace: string }[] = [];
  for (;;) {
    const run = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
    idle = await k.h.rt.db.kysely.selectFrom('warm_pod').select(['pod_name', 'namespace']).where('state', '=', 'idle').where('pod_name', 'like', 'wk2-%').execute();
    if (run.state === 'success' && idle.length) break;
    assert.ok(Date.now() < deadline0, `wk2 run ${run.state}, ${idle.length} idle pods\n${logs()}`);
    await sleep(200);
  }
  const cleanup = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile(
        process.execPath,
        [path.join(BIN_DIR, 'floe.js'), 'kubernetes', 'cleanup-pods', ...args],
        { env: { ...process.env, FLOE_HOME: k.h.home, FLOE_CONFIG: '', FLOE_DAGS_FOLDER: k.h.dagsFolder, FLOE__KUBERNETES__KUBECONFIG: k.cluster.kubeconfigPath, FLOE__LOGGING__LEVEL: 'silent' }, timeout: 60_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout)),
      ),
    );
  // Idle for less than an hour: left alone.
  assert.doesNotMatch(await cleanup(['--older-than', '1h']), /retired idle warm pod/);
  assert.match(await cleanup(['--older-than', '0', '--dry-run']), new RegExp(`would retire idle warm pod default/${idle[0].pod_name} `));
  assert.equal((await k.h.rt.db.kysely.selectFrom('warm_pod').select('state').where('pod_name', '=', idle[0].pod_name).executeTakeFirstOrThrow()).state, 'idle', 'a dry run changes nothing');
  const out = await cleanup(['--older-than', '0']);
  for (const p of idle) assert.match(out, new RegExp(`retired idle warm pod ${p.namespace}/${p.pod_name} \\(it exits on its own\\)`));
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=wk2' });
    const stillRunning = items.filter((p) => idle.some((r) => r.pod_name === p.metadata!.name) && p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
    if (!stillRunning.length) break;
    assert.ok(Date.now() < deadline, `idle pods still running: ${stillRunning.map((p) => p.metadata!.name).join(', ')}\n${logs()}`);
    await sleep(300);
  }
});
