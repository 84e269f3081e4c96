// podTask on the dev cluster, run by the local executor (any executor's runner creates and follows the pod):
// live logs and an XCom used downstream, a non-zero exit and an unpullable image with their reasons, a timeout
// that deletes the pod, the admin's hook on the pod, and a runner killed mid-try whose next try re-attaches to
// the same pod (one pod in all).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { taskLogPath } from '../../src/worker/task-log.ts';
import { type K8sHarness, startK8sFloe } from './executor/helpers.ts';

let k: K8sHarness;
const DAG = `import { dag, task, podTask } from 'floe';
dag({ dagId: 'pods', schedule: null }, () => {
  const make = task('make', async () => ({ n: 21 }));
  const calc = podTask({
    taskId: 'calc',
    image: 'busybox:1.36',
    command: ['sh', '-c'],
    args: ['echo "start {{ ds }}"; echo "input=$INPUT"; sleep 0.3; echo "::floe-xcom::{\\\\"doubled\\\\": 42}"; echo done'],
    env: { INPUT: make() },
    onFinish: 'keep',
  });
  task('use', async (_ctx, v: { doubled: number }) => v.doubled + 1)(calc);
  podTask({ taskId: 'exit3', image: 'busybox:1.36', command: ['sh', '-c', 'echo failing; exit 3'] });
  podTask({ taskId: 'noimage', image: 'missing/nope:1', startupTimeout: 30 });
  podTask({ taskId: 'slow', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 60'], executionTimeout: 2 });
});
dag({ dagId: 'reattach', schedule: null }, () => {
  podTask({ taskId: 'long', image: 'busybox:1.36', command: ['sh', '-c', 'sleep 4; echo "::floe-xcom::\\\\"finished\\\\""'], retries: 1, retryDelay: 0.1 });
});
`;

before(async () => {
  k = await startK8sFloe({}, { core: { executor: 'local' }, scheduler: { taskHeartbeatInterval: 0.5 } });
  // An admin hook: visible on every pod Floe creates, pod tasks' pods included.
  const hook = path.join(k.h.home, 'hook.mjs');
  writeFileSync(hook, `export function podMutationHook(pod) { pod.metadata.labels = { ...pod.metadata.labels, hooked: 'yes' }; }\n`);
  k.h.rt.cfg.kubernetes.podMutationHook = hook;
  k.h.writeDag('pods.ts', DAG);
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(() => k.close());

const podsOf = async (dagId: string, taskId: string) => (await k.core.listNamespacedPod({ namespace: 'default', labelSelector: `floe.dev/operator=true,floe.dev/dag-id=${dagId},floe.dev/task-id=${taskId}` })).items;

test('a pod task: live log, XCom downstream, failures with their reasons, a timeout deleting its pod, the hook applied', async () => {
  const runId = await k.h.trigger('pods');
  await k.h.runUntilRunDone('pods', runId, 120_000);
  const tis = await k.h.tis('pods', runId);
  assert.equal(tis.get('calc')!.state, 'success', tis.get('calc')!.reason ?? '');
  const use = await k.h.rt.db.kysely.selectFrom('xcom').select('value').where('run_id', '=', runId).where('task_id', '=', 'use').executeTakeFirstOrThrow();
  assert.equal(JSON.parse(use.value), 43, 'the pod\'s XCom reached the downstream task');
  const log = readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'pods', runId, taskId: 'calc', mapIndex: -1 }, 1), 'utf8');
  assert.match(log, /start \d{4}-\d{2}-\d{2}\n/);
  assert.match(log, /input=\{"n":21\}\n/, 'an upstream result in env');
  assert.equal(log.match(/^done$/gm)?.length, 1, 'each line once');
  // Kept (onFinish: keep), built by the pipeline: labelled as an operator pod, with the hook's label.
  const [calcPod] = await podsOf('pods', 'calc');
  assert.equal(calcPod.metadata!.labels!.hooked, 'yes');
  assert.equal(calcPod.metadata!.labels!['floe.dev/worker'], undefined, 'never taken for a worker pod');
  assert.equal(calcPod.spec!.containers[0].image, 'busybox:1.36');

  assert.equal(tis.get('exit3')!.state, 'failed');
  assert.match(tis.get('exit3')!.reason!, /exit code 3/);
  assert.equal(tis.get('noimage')!.state, 'failed');
  assert.match(tis.get('noimage')!.reason!, /ErrImagePull|ImagePullBackOff/);
  assert.equal(tis.get('slow')!.state, 'failed');
  assert.match(tis.get('slow')!.reason!, /execution timeout/);
  for (const t of ['exit3', 'noimage', 'slow']) assert.deepEqual((await podsOf('pods', t)).filter((p) => !p.metadata?.deletionTimestamp), [], `${t}'s pod was deleted`);
});

test('a runner killed mid-try: the next try re-attaches to the running pod instead of creating another', async () => {
  const before = k.cluster.podCreationLog.length;
  const runId = await k.h.trigger('reattach');
  let killed = false;
  await k.h.runUntil(async () => {
    const ti = await k.h.rt.db.kysely.selectFrom('task_instance').select(['state', 'try_number', 'pid']).where('run_id', '=', runId).executeTakeFirstOrThrow();
    if (!killed && ti.state === 'running' && ti.try_number === 1 && ti.pid && (await podsOf('reattach', 'long')).some((p) => p.status?.phase === 'Running')) {
      process.kill(ti.pid, 'SIGKILL');
      killed = true;
    }
    const run = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
    return run.state === 'success' || run.state === 'failed';
  }, { timeoutMs: 120_000 });
  assert.ok(killed, 'the runner of try 1 was killed while its pod ran');
  const ti = (await k.h.tis('reattach', runId)).get('long')!;
  assert.deepEqual([ti.state, ti.try_number], ['success', 2], ti.reason ?? '');
  const xcom = await k.h.rt.db.kysely.selectFrom('xcom').select('value').where('run_id', '=', runId).where('task_id', '=', 'long').executeTakeFirstOrThrow();
  assert.equal(JSON.parse(xcom.value), 'finished');
  const created = k.cluster.podCreationLog.slice(before).filter((c) => JSON.stringify(c).includes('reattach'));
  assert.equal(created.length, 1, 'one pod for both tries');
  const log = readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'reattach', runId, taskId: 'long', mapIndex: -1 }, 2), 'utf8');
  assert.match(log, /re-attached to pod default\/reattach-long-\S+ \(uid \S+\), left by try 1/);
});
