// Clear, mark and run-state routes against a real metadata DB and the real scheduler (local executor): a
// cleared failed task runs again, a marked success unblocks its downstream, a marked running try keeps its mark
// when its runner finishes. Also the pods of a try, log offsets, and the scheduler's cache after a mark.
import assert from 'node:assert/strict';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { recordTaskPod, updateTaskPodEvents } from '../../src/db/task-pods.ts';
import { RunTaskInstances } from '../../src/scheduler/run-task-instances.ts';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { isProblem, READ, startApi, type TestApi } from './helpers.ts';

const expectProblem = (r: Parameters<typeof isProblem>[0], status: number, detail: RegExp) => assert.equal(isProblem(r, status, detail), null);

const dags = (home: string) => `${SDK_IMPORT}
import { existsSync, writeFileSync } from 'node:fs';
dag({ dagId: 'ops', schedule: null }, () => {
  const a = task('a', async () => 1);
  // b fails until the test creates its "fixed" file.
  const b = task('b', async (ctx) => {
    if (!existsSync(${JSON.stringify(path.join(home, 'fixed'))})) throw new Error('b is broken until fixed');
    ctx.log('b is fixed now');
    return 2;
  });
  const c = task('c', async () => 3);
  chain(a(), b(), c());
});
dag({ dagId: 'slow', schedule: null }, () => {
  task('wait', async (ctx) => {
    // Runs until the test lets it go, then says it finished (its outcome must not replace the user's mark).
    while (!existsSync(${JSON.stringify(path.join(home, 'release'))})) await new Promise((r) => setTimeout(r, 50));
    writeFileSync(${JSON.stringify(path.join(home, 'wait-done'))}, ctx.runId);
    return 'ran to the end';
  })();
});
`;

for (const dialect of await dialects()) {
  describe(`clear and mark on ${dialect}`, () => {
    let h: FloeHarness;
    let api: TestApi;
    const runUrl = (dagId: string, runId: string) => `/api/v1/dags/${dagId}/dagRuns/${encodeURIComponent(runId)}`;
    const runState = async (dagId: string, runId: string) =>
      (await h.rt.db.kysely.selectFrom('dag_run').select('state').where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirstOrThrow()).state;

    before(async () => {
      h = await startFloe(dialect);
      h.writeDag('ops.ts', dags(h.home));
      await h.parse();
      api = await startApi(h.rt.db, h.rt.cfg, {}, undefined);
    });
    after(async () => {
      await api?.close();
      await h?.close();
    });

    test('a failed task cleared with its downstream runs again through the scheduler and the run succeeds', async () => {
      const runId = await h.trigger('ops');
      await h.runUntilRunDone('ops', runId, 120_000);
      let tis = await h.tis('ops', runId);
      assert.deepEqual([await runState('ops', runId), tis.get('b')?.state, tis.get('c')?.state], ['failed', 'failed', 'upstream_failed']);

      // Airflow's defaults: a dry run of the failed task instances only.
      const dry = await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { dagRunId: runId } });
      assert.equal(dry.status, 200, dry.text);
      assert.equal(dry.json.dryRun, true);
      assert.deepEqual(dry.json.taskInstances.map((t: { taskId: string; state: string }) => `${t.taskId}:${t.state}`), ['b:failed', 'c:upstream_failed']);
      assert.equal(await runState('ops', runId), 'failed', 'a dry run changes nothing');

      writeFileSync(path.join(h.home, 'fixed'), 'yes');
      const r = await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { dagRunId: runId, taskIds: ['b'], includeDownstream: true, onlyFailed: false, dryRun: false } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.json.taskInstances.map((t: { taskId: string }) => t.taskId), ['b', 'c']);
      assert.deepEqual(r.json.requeuedRuns, [runId]);
      tis = await h.tis('ops', runId);
      assert.deepEqual([await runState('ops', runId), tis.get('a')?.state, tis.get('b')?.state, tis.get('b')?.try_number, tis.get('b')?.reason], ['queued', 'success', 'none', 1, null]);

      await h.runUntilRunDone('ops', runId, 120_000);
      tis = await h.tis('ops', runId);
      assert.equal(await runState('ops', runId), 'success');
      assert.deepEqual([tis.get('b')?.state, tis.get('b')?.try_number, tis.get('c')?.state, tis.get('a')?.try_number], ['success', 2, 'success', 1]);
      const hist = (await h.history('ops', runId)).filter((x) => x.task_id === 'b').map((x) => `${x.try_number}:${x.state}`);
      assert.deepEqual(hist, ['1:failed', '2:success']);
      const log = await api.call('GET', `${runUrl('ops', runId)}/taskInstances/b/logs/2`);
      assert.match(log.text, /b is fixed now/);
      rmSync(path.join(h.home, 'fixed'));
    });

    test('marking a failed task success clears its upstream_failed downstream, which then runs', async () => {
      const runId = await h.trigger('ops');
      await h.runUntilRunDone('ops', runId, 120_000);
      assert.equal(await runState('ops', runId), 'failed');
      const m = await api.call('PATCH', `${runUrl('ops', runId)}/taskInstances/b`, { body: { newState: 'success' } });
      assert.equal(m.status, 200, m.text);
      assert.deepEqual([m.json.previousState, m.json.state, m.json.changed, m.json.requeuedRun], ['failed', 'success', true, true]);
      assert.deepEqual(m.json.clearedDownstream.map((t: { taskId: string }) => t.taskId), ['c']);
      await h.runUntilRunDone('ops', runId, 120_000);
      const tis = await h.tis('ops', runId);
      assert.equal(await runState('ops', runId), 'success');
      assert.deepEqual([tis.get('b')?.state, tis.get('b')?.try_number, tis.get('c')?.state], ['success', 1, 'success']);
      assert.match(tis.get('b')?.reason ?? '', /marked success by a user \(was failed\)/);
      // The try's own history still says how it ended.
      assert.deepEqual((await h.history('ops', runId)).filter((x) => x.task_id === 'b').map((x) => x.state), ['failed']);
    });

    test('a running try marked failed ends failed; its runner finishing afterwards changes nothing', async () => {
      const runId = await h.trigger('slow');
      let marked: { status: number; text: string } | null = null;
      await h.runUntil(async () => {
        if (!marked && (await h.tis('slow', runId)).get('wait')?.state === 'running') {
          marked = await api.call('PATCH', `${runUrl('slow', runId)}/taskInstances/wait`, { body: { newState: 'failed' } });
          writeFileSync(path.join(h.home, 'release'), 'go');
        }
        if (marked === null || !existsSync(path.join(h.home, 'wait-done')) || (await runState('slow', runId)) !== 'failed') return false;
        // The runner notes in the try's log whether its outcome was written: wait for that line.
        return /the outcome \(success\) was not recorded|marked success/.test((await api.call('GET', `${runUrl('slow', runId)}/taskInstances/wait/logs/1`)).text);
      }, { timeoutMs: 120_000 });
      assert.equal(marked!.status, 200, marked!.text);
      const log = (await api.call('GET', `${runUrl('slow', runId)}/taskInstances/wait/logs/1`)).text;
      assert.match(log, /the outcome \(success\) was not recorded/);
      const ti = (await h.tis('slow', runId)).get('wait');
      assert.deepEqual([ti?.state, ti?.try_number], ['failed', 1]);
      assert.match(ti?.reason ?? '', /marked failed by a user \(was running\)/);
      const hist = await h.history('slow', runId);
      assert.deepEqual(hist.map((x) => `${x.try_number}:${x.state}`), ['1:failed']);
      assert.equal(await h.rt.db.kysely.selectFrom('xcom').select('value').where('run_id', '=', runId).executeTakeFirst(), undefined, 'no return value recorded');
    });

    test('PATCH dagRun sets the run state; bad bodies, unknown tasks and read tokens are refused', async () => {
      const runId = await h.trigger('ops');
      const r = await api.call('PATCH', runUrl('ops', runId), { body: { state: 'failed' } });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual([r.json.state, r.json.previousState], ['failed', 'queued']);
      const back = await api.call('PATCH', runUrl('ops', runId), { body: { state: 'queued' } });
      assert.deepEqual([back.status, back.json.state, back.json.endDate], [200, 'queued', null]);

      expectProblem(await api.call('PATCH', runUrl('ops', runId), { body: { state: 'running' } }), 400, /body\.state: expected "success", "failed" or "queued"/);
      expectProblem(await api.call('PATCH', `${runUrl('ops', runId)}/taskInstances/b`, { body: { newState: 'skipped' } }), 400, /body\.newState/);
      expectProblem(await api.call('PATCH', `${runUrl('ops', runId)}/taskInstances/zz`, { body: { newState: 'success' } }), 404, /has no task instance "zz"/);
      expectProblem(await api.call('PATCH', runUrl('ops', 'nope'), { body: { state: 'success' } }), 404, /DAG "ops" has no run "nope"/);
      expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { taskIds: ['b', 'zz'], dryRun: true } }), 400, /DAG "ops" has no task "zz"/);
      expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { dryRun: 'no' } }), 400, /body\.dryRun/);
      expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { dagRunId: 'nope' } }), 404, /has no run "nope"/);
      expectProblem(await api.call('POST', '/api/v1/dags/nope/clearTaskInstances', { body: {} }), 404, /no DAG "nope"/);
      for (const [method, url, body] of [
        ['POST', '/api/v1/dags/ops/clearTaskInstances', { dryRun: false }],
        ['PATCH', `${runUrl('ops', runId)}/taskInstances/b`, { newState: 'success' }],
        ['PATCH', runUrl('ops', runId), { state: 'success' }],
      ] as const)
        expectProblem(await api.call(method, url, { token: READ, body }), 403, /needs an admin token/);
      assert.equal(await runState('ops', runId), 'queued', 'the refused writes changed nothing');
      await api.call('PATCH', runUrl('ops', runId), { body: { state: 'success' } });
    });

    test('pods of a try: rows as recorded, spec and events parsed; 404 when there are none', async () => {
      const runId = await h.trigger('ops');
      const key = { dagId: 'ops', runId, taskId: 'b', mapIndex: -1 };
      const spec = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'ops-b-x1', namespace: 'floe' }, spec: { containers: [{ name: 'base', image: 'nope:1' }] } };
      await recordTaskPod(h.rt.db.kysely, { key, tryNumber: 1, namespace: 'floe', podName: 'ops-b-x1', podUid: 'u-1', spec });
      const events = [{ type: 'Warning', reason: 'Failed', message: 'Failed to pull image "nope:1"', count: 3, lastTimestamp: '2024-03-01T00:00:00Z' }];
      assert.equal(await updateTaskPodEvents(h.rt.db.kysely, key, 1, 'ops-b-x1', events, 'ErrImagePull'), true);
      assert.equal(await updateTaskPodEvents(h.rt.db.kysely, key, 1, 'other', events, null), false);
      const r = await api.call('GET', `${runUrl('ops', runId)}/taskInstances/b/tries/1/pods`, { token: READ });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.totalEntries, 1);
      const pod = r.json.pods[0];
      assert.deepEqual([pod.namespace, pod.podName, pod.podUid, pod.reason, pod.tryNumber], ['floe', 'ops-b-x1', 'u-1', 'ErrImagePull', 1]);
      assert.deepEqual(pod.spec, spec);
      assert.deepEqual(pod.events, events);
      expectProblem(await api.call('GET', `${runUrl('ops', runId)}/taskInstances/b/tries/2/pods`), 404, /no pod recorded for try 2 of ops\.b/);
      expectProblem(await api.call('GET', `${runUrl('ops', 'nope')}/taskInstances/b/tries/1/pods`), 404, /has no run "nope"/);
      expectProblem(await api.call('GET', `${runUrl('ops', runId)}/taskInstances/b/tries/0/pods`), 400, /path\.tryNumber/);
    });

    test('log offset: the bytes after it, and where the next read starts', async () => {
      const run = (await h.runs('ops')).find((x) => x.state === 'success')!;
      const url = `${runUrl('ops', run.run_id)}/taskInstances/b/logs/2`;
      const full = await api.call('GET', url);
      const size = Buffer.byteLength(full.text);
      assert.ok(size > 20);
      assert.equal(full.headers.get('x-floe-log-next-offset'), String(size));
      const tail = await api.call('GET', `${url}?offset=10`);
      assert.equal(tail.text, Buffer.from(full.text).subarray(10).toString());
      assert.equal(tail.headers.get('x-floe-log-next-offset'), String(size));
      const none = await api.call('GET', `${url}?offset=${size + 5}`);
      assert.deepEqual([none.status, none.text, none.headers.get('x-floe-log-next-offset')], [200, '', String(size + 5)]);
      expectProblem(await api.call('GET', `${url}?offset=-1`), 400, /query\.offset/);
    });

    test("a user's finished → finished change reaches a scheduler's incremental read through tis_edited_at", async () => {
      const run = (await h.runs('ops')).find((x) => x.state === 'success')!;
      const db = h.rt.db.kysely;
      const cache = new RunTaskInstances();
      const stamp = async () => (await db.selectFrom('dag_run').select('tis_edited_at').where('dag_id', '=', 'ops').where('run_id', '=', run.run_id).executeTakeFirstOrThrow()).tis_edited_at;
      const stateOfC = (rows: { task_id: string; state: string }[]) => rows.find((r) => r.task_id === 'c')?.state;
      assert.equal(stateOfC(await cache.read(db, 'ops', run.run_id, 1000, await stamp())), 'success');
      // Behind the cache's back, without a stamp: the incremental read does not see it (why the stamp exists).
      await db.updateTable('task_instance').set({ state: 'failed' }).where('dag_id', '=', 'ops').where('run_id', '=', run.run_id).where('task_id', '=', 'c').execute();
      assert.equal(stateOfC(await cache.read(db, 'ops', run.run_id, 2000, await stamp())), 'success');
      // The API's mark stamps the run: the next read is a full one.
      const m = await api.call('PATCH', `${runUrl('ops', run.run_id)}/taskInstances/c`, { body: { newState: 'success' } });
      assert.equal(m.status, 200, m.text);
      await db.updateTable('task_instance').set({ state: 'skipped' }).where('dag_id', '=', 'ops').where('run_id', '=', run.run_id).where('task_id', '=', 'c').execute();
      assert.equal(stateOfC(await cache.read(db, 'ops', run.run_id, 3000, await stamp())), 'skipped');
    });
  });
}
