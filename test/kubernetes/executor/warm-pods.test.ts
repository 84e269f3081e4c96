// Warm pods on the dev cluster: a chain of same-spec tasks runs in one pod with a log per try; a task whose pod
// differs never runs in it; an idle pod leaves after idleSeconds; a warm pod killed mid-try fails only that try.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import { sleep } from '../../../src/util/time.ts';
import { taskLogPath } from '../../../src/worker/task-log.ts';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { type K8sHarness, startK8sFloe } from './helpers.ts';

let k: K8sHarness;
const other = { podOverride: { spec: { containers: [{ name: 'base', env: [{ name: 'FLAVOUR', value: 'other' }] }] } } };

before(async () => {
  k = await startK8sFloe({ warmPods: { enabled: true, idleSeconds: 3, maxTriesPerPod: 50 } });
  k.h.writeDag(
    'warm.ts',
    `${SDK_IMPORT}
dag({ dagId: 'chain', schedule: null }, () => {
  const a = task('a', async (ctx) => { console.log('line of a'); process.env.LEAK_ME = 'from a'; process.chdir('/'); return 1; })();
  const b = task('b', async (ctx, x: number) => { console.log('line of b, env', process.env.LEAK_ME ?? 'clean', 'cwd', process.cwd() === '/' ? 'moved' : 'reset'); return x + 1; })(a);
  const c = task('c', async (ctx, x: number) => { console.log('line of c'); return x + 1; })(b);
  task({ taskId: 'd', executorConfig: ${JSON.stringify(other)} }, async (ctx, x: number) => x + 1)(c);
});
dag({ dagId: 'optout', schedule: null }, () => {
  // Its pods opt out (floe.dev/warm: "false"): each try gets a cold pod of its own, as without warm pods.
  const cold = { podOverride: { metadata: { annotations: { 'floe.dev/warm': 'false' } } } };
  const a = task({ taskId: 'a', executorConfig: cold }, async () => 1)();
  task({ taskId: 'b', executorConfig: cold }, async (ctx, x: number) => x + 1)(a);
});
dag({ dagId: 'leaky', schedule: null }, () => {
  // Leaves a child process running: the pod must not be reused after it.
  const a = task('a', async () => { const { spawn } = await import('node:child_process'); spawn('sleep', ['30'], { stdio: 'ignore' }); return 1; })();
  task('b', async (ctx, x: number) => x + 1)(a);
});
dag({ dagId: 'victim', schedule: null }, () => {
  const first = task('first', async () => 1)();
  task({ taskId: 'killed', retries: 0 }, async () => { await new Promise((r) => setTimeout(r, 30_000)); return 'never'; })(first);
});
`,
  );
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(() => k.close());

/** Pods created for a DAG's tasks (names start with the DAG id). */
const podsCreatedFor = (dagId: string) => k.cluster.podCreationLog.filter((c) => c.name.startsWith(`${dagId}-`));

test('a same-spec chain runs in one warm pod, each try with its own log and a reset environment; a different pod never shares it', async () => {
  const runId = await k.h.trigger('chain');
  await k.h.runUntilRunDone('chain', runId, 90_000);
  const tis = await k.h.tis('chain', runId);
  assert.deepEqual([...tis.entries()].map(([t, v]) => [t, v.state]).sort(), [['a', 'success'], ['b', 'success'], ['c', 'success'], ['d', 'success']]);
  const ext = await k.h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'external_executor_id']).where('run_id', '=', runId).execute();
  const podOf = new Map(ext.map((r) => [r.task_id, r.external_executor_id!.split('/')[1]]));
  assert.equal(podOf.get('a'), podOf.get('b'), 'b ran in a\'s pod');
  assert.equal(podOf.get('b'), podOf.get('c'), 'c ran in the same pod');
  assert.notEqual(podOf.get('d'), podOf.get('a'), 'd (another env) got a pod of its own');
  assert.equal(podsCreatedFor('chain').length, 2, 'two pods for four tries');
  const logOf = (t: string) => readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'chain', runId, taskId: t, mapIndex: -1 }, 1), 'utf8');
  assert.match(logOf('b'), /line of b, env clean cwd reset/, 'environment and working directory reset between tries');
  assert.doesNotMatch(logOf('b'), /line of a|line of c/);
  assert.doesNotMatch(logOf('c'), /line of a|line of b/);
  // Idle for idleSeconds (3 s): the pods leave.
  await k.h.runUntil(async () => {
    const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=chain' });
    return items.every((p) => p.status?.phase === 'Succeeded' || p.metadata?.deletionTimestamp) || items.length === 0;
  }, { timeoutMs: 30_000 });
  const rows = await k.h.rt.db.kysely.selectFrom('warm_pod').select(['pod_name', 'state']).execute();
  assert.ok(rows.length >= 1 && rows.every((r) => r.state === 'retired'), JSON.stringify(rows));
});

test('pods annotated floe.dev/warm: "false" stay cold: a pod per try, no warm pod row', async () => {
  const runId = await k.h.trigger('optout');
  await k.h.runUntilRunDone('optout', runId, 90_000);
  assert.deepEqual([...(await k.h.tis('optout', runId)).values()].map((t) => t.state), ['success', 'success']);
  assert.equal(podsCreatedFor('optout').length, 2, 'one pod per try');
  const rows = await k.h.rt.db.kysely.selectFrom('warm_pod').select('pod_name').where('pod_name', 'like', 'optout-%').execute();
  assert.deepEqual(rows, []);
});

test('a try that leaves a child process running gets its pod retired, not reused', async () => {
  const runId = await k.h.trigger('leaky');
  await k.h.runUntilRunDone('leaky', runId, 90_000);
  const ext = await k.h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'external_executor_id']).where('run_id', '=', runId).execute();
  assert.deepEqual(ext.map((r) => r.state), ['success', 'success']);
  assert.equal(new Set(ext.map((r) => r.external_executor_id!.split('/')[1])).size, 2, 'b got a fresh pod');
  const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=leaky,floe.dev/task-id=a' });
  const log = items.length ? await k.core.readNamespacedPodLog({ namespace: 'default', name: items[0].metadata!.name!, container: 'base' }) : '';
  if (items.length) assert.match(log, /leaving: a try left resources open: ProcessWrap/);
});

test('a warm pod killed mid-try fails only that try, with the pod\'s reason', async () => {
  const runId = await k.h.trigger('victim');
  let killed = '';
  await k.h.runUntil(async () => {
    const ti = await k.h.rt.db.kysely.selectFrom('task_instance').select(['state', 'external_executor_id']).where('run_id', '=', runId).where('task_id', '=', 'killed').executeTakeFirstOrThrow();
    if (!killed && ti.state === 'running' && ti.external_executor_id) {
      killed = ti.external_executor_id.split('/')[1];
      await sleep(300);
      await k.core.deleteNamespacedPod({ namespace: 'default', name: killed, gracePeriodSeconds: 0 });
    }
    const run = await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow();
    return run.state === 'failed' || run.state === 'success';
  }, { timeoutMs: 90_000 });
  const tis = await k.h.tis('victim', runId);
  assert.equal(tis.get('first')!.state, 'success', 'the try the pod ran before is untouched');
  assert.equal(tis.get('killed')!.state, 'failed');
  assert.match(tis.get('killed')!.reason!, /deleted while the task was running/);
  const ext = await k.h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'external_executor_id']).where('run_id', '=', runId).execute();
  assert.equal(new Set(ext.map((r) => r.external_executor_id!.split('/')[1])).size, 1, 'both tries ran in one warm pod');
});
