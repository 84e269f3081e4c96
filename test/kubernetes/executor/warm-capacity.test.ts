// Idle warm pods hold capacity only until a try needs it: more same-spec tasks than core.parallelism run
// through the warm pods without waiting for idle ones to time out, and pods never outnumber parallelism.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { type K8sHarness, startK8sFloe } from './helpers.ts';

let k: K8sHarness;
before(async () => {
  // idleSeconds far above the test's time limit: a run that waited for idle pods to leave would not finish.
  k = await startK8sFloe({ warmPods: { enabled: true, idleSeconds: 600 } }, { core: { parallelism: 2 } });
  k.h.writeDag(
    'cap.ts',
    `${SDK_IMPORT}
dag({ dagId: 'cap', schedule: null }, () => {
  // Same pod for all: each may run in any warm pod.
  for (let i = 0; i < 6; i++) task('t' + i, async () => i)();
  // A different pod (its own env): needs a pod of its own while both warm pods are idle and full up parallelism.
  task({ taskId: 'other', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', env: [{ name: 'OTHER', value: '1' }] }] } } } }, async () => 'o')();
});
dag({ dagId: 'pair', schedule: null }, () => {
  // Two at once: two warm pods, idle afterwards.
  for (const id of ['p1', 'p2']) task(id, async () => { await new Promise((r) => setTimeout(r, 1500)); return id; })();
});
dag({ dagId: 'coldone', schedule: null }, () => {
  // Opted out of warm pods: a cold pod, which must make room too.
  task({ taskId: 'c', executorConfig: { podOverride: { metadata: { annotations: { 'floe.dev/warm': 'false' } } } } }, async () => 'c')();
});`,
  );
  assert.deepEqual((await k.h.parse()).errors, []);
});
after(() => k.close());

test('more same-spec tasks than parallelism run through the warm pods; a different spec makes an idle pod retire', async () => {
  const runId = await k.h.trigger('cap');
  await k.h.runUntilRunDone('cap', runId, 90_000);
  const tis = await k.h.tis('cap', runId);
  assert.deepEqual([...tis.values()].map((t) => t.state), Array(7).fill('success'));
  const created = k.cluster.podCreationLog.filter((c) => c.name.startsWith('cap-')).length;
  // 6 same-spec tries on at most 2 pods, plus 1 for `other` (and at most one more same-spec pod after it).
  assert.ok(created <= 4, `${created} pods created for 7 tries`);
  const rows = await k.h.rt.db.kysely.selectFrom('warm_pod').select(['pod_name', 'tries_run', 'state']).execute();
  assert.equal(rows.reduce((n, r) => n + r.tries_run, 0), 7, JSON.stringify(rows));
  assert.ok(rows.filter((r) => r.state !== 'retired').length <= 2, `pods waiting beyond parallelism: ${JSON.stringify(rows)}`);
});

test('a cold pod (opted out) also makes room: an idle warm pod retires when pods would outnumber parallelism', async () => {
  // One scheduler session throughout: a stopping executor retires its idle pods.
  const idleNow = async () => (await k.h.rt.db.kysely.selectFrom('warm_pod').select('pod_name').where('state', '=', 'idle').execute()).length;
  const stateOf = async (runId: string) => (await k.h.rt.db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow()).state;
  const pair = await k.h.trigger('pair');
  let cold: string | null = null;
  let idleAfter = -1;
  await k.h.runUntil(async () => {
    if (cold === null) {
      // Both warm pods idle, filling parallelism (2): now the cold pod.
      if ((await stateOf(pair)) === 'success' && (await idleNow()) === 2) cold = await k.h.trigger('coldone');
      return false;
    }
    if ((await stateOf(cold)) !== 'success') return false;
    idleAfter = await idleNow();
    return true;
  }, { timeoutMs: 90_000 });
  assert.equal(idleAfter, 1, 'one idle pod retired for the cold one');
});
