// The REST API over real HTTP against a real metadata DB (SQLite, and PostgreSQL when it answers): auth,
// every endpoint's happy path and errors, trigger → scheduler → task instances, tries and logs.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { taskLogPath } from '../../src/worker/task-log.ts';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { ADMIN, isProblem, READ, startApi, type TestApi } from './helpers.ts';

const DAGS = `${SDK_IMPORT}
dag({ dagId: 'hello', schedule: null, tags: ['demo'], description: 'says hello' }, () => {
  const extract = task('extract', async (ctx) => { ctx.log('extracting for', ctx.runId, 'conf', JSON.stringify(ctx.params)); return 42; });
  const flaky = task({ taskId: 'flaky', retries: 1, retryDelay: 0 }, async (ctx, n: number) => {
    ctx.log('flaky try', ctx.tryNumber);
    if (ctx.tryNumber === 1) throw new Error('first try fails');
    return n + 1;
  });
  flaky(extract());
});
dag({ dagId: 'other', schedule: '@daily', startDate: '2024-01-01', catchup: false }, () => { task('t', async () => 1)(); });
dag({ dagId: 'cyclic', schedule: null }, () => {
  const a = task('a', async () => 1)();
  const b = task('b', async () => 1)().after(a);
  a.after(b);
});
`;

const expectProblem = (r: Parameters<typeof isProblem>[0], status: number, detail: RegExp) => assert.equal(isProblem(r, status, detail), null);

for (const dialect of await dialects()) {
  describe(`API on ${dialect}`, () => {
    let h: FloeHarness;
    let api: TestApi;
    before(async () => {
      h = await startFloe(dialect);
      h.writeDag('hello.ts', DAGS);
      h.writeDag('broken.ts', `${SDK_IMPORT}\nthrow new Error('broken on purpose');\n`);
      await h.parse();
      api = await startApi(h.rt.db, h.rt.cfg);
    });
    after(async () => {
      await api?.close();
      await h?.close();
    });

    test('auth: no token 401 with WWW-Authenticate, bad token 401, read token reads, read token writing 403, admin writes', async () => {
      const none = await api.call('GET', '/api/v1/dags', { token: null });
      expectProblem(none, 401, /missing bearer token/);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer realm="floe"');
      const bad = await api.call('GET', '/api/v1/dags', { token: 'wrong-token-0123456789abcdef' });
      expectProblem(bad, 401, /invalid bearer token/);
      assert.equal(bad.headers.get('www-authenticate'), 'Bearer realm="floe", error="invalid_token"');
      expectProblem(await api.call('GET', '/api/v1/dags', { token: null, headers: { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` } }), 401, /invalid bearer token/);
      // Unknown routes are not revealed without a token.
      expectProblem(await api.call('GET', '/api/v1/secret-route', { token: null }), 401, /missing bearer token/);
      // However the path is spelled, a route needs its token (/%61pi/ routes to /api/).
      for (const path of ['/%61pi/v1/dags', '/api/v1/%64ags', '/api/v1/dags/', '/api/v1//dags', '/api/v1/pools/default%5Fpool'])
        expectProblem(await api.call('GET', path, { token: null }), 401, /missing bearer token/);
      expectProblem(await api.call('PUT', '/%61pi/v1/pools/sneaky', { token: READ, body: { slots: 1 } }), 403, /needs an admin token/);
      assert.equal((await api.call('GET', '/api/v1/dags', { token: READ })).status, 200);
      for (const [method, path, body] of [
        ['PATCH', '/api/v1/dags/hello', { isPaused: true }],
        ['POST', '/api/v1/dags/hello/dagRuns', {}],
        ['PUT', '/api/v1/pools/p1', { slots: 1 }],
        ['DELETE', '/api/v1/pools/p1', undefined],
      ] as const) {
        const r = await api.call(method, path, { token: READ, body });
        expectProblem(r, 403, new RegExp(`${method} ${path} needs an admin token`));
        assert.match(r.headers.get('www-authenticate') ?? '', /insufficient_scope/);
      }
      // Nothing was written by the refused requests.
      assert.equal((await api.call('GET', '/api/v1/dags/hello')).json.isPaused, false);
      assert.equal((await api.call('GET', '/api/v1/dags/hello/dagRuns')).json.totalEntries, 0);
      assert.equal((await api.call('GET', '/api/v1/pools/p1')).status, 404);
      // /health needs no token.
      assert.equal((await api.call('GET', '/health', { token: null })).status, 200);
    });

    test('auth none serves without a token, and only when set explicitly', async () => {
      const open = await startApi(h.rt.db, h.rt.cfg, { auth: 'none', readTokens: [], adminTokens: [] });
      try {
        assert.equal((await open.call('GET', '/api/v1/dags', { token: null })).status, 200);
        assert.equal((await open.call('PUT', '/api/v1/pools/open_pool', { token: null, body: { slots: 2 } })).status, 201);
      } finally {
        await open.close();
      }
      await assert.rejects(startApi(h.rt.db, h.rt.cfg, { readTokens: [], adminTokens: [] }), /api\.auth is "token" but no API token is configured: set api\.adminTokens.*api\.auth: none/);
      await assert.rejects(startApi(h.rt.db, h.rt.cfg, { readTokens: [ADMIN] }), /the same API token is configured twice \(api\.readTokens\[0\] and api\.adminTokens\[0\]\)/);
    });

    test('GET /dags lists active DAGs with paused flag, import errors and paging; GET /dags/:id has the tasks', async () => {
      const all = await api.call('GET', '/api/v1/dags');
      assert.equal(all.status, 200);
      assert.equal(all.json.totalEntries, 2);
      assert.deepEqual(all.json.dags.map((d: { dagId: string }) => d.dagId), ['hello', 'other']);
      const hello = all.json.dags[0];
      assert.equal(hello.isPaused, false);
      assert.equal(hello.isActive, true);
      assert.equal(hello.hasImportErrors, true, 'its file also defines a DAG with a cycle');
      assert.deepEqual(hello.tags, ['demo']);
      assert.equal(hello.taskCount, 2);
      assert.equal(all.json.dags[1].schedule, '@daily');
      const page = await api.call('GET', '/api/v1/dags?limit=1&offset=1');
      assert.deepEqual([page.json.totalEntries, page.json.dags.map((d: { dagId: string }) => d.dagId)], [2, ['other']]);
      assert.deepEqual((await api.call('GET', '/api/v1/dags?dagIdPrefix=oth')).json.dags.map((d: { dagId: string }) => d.dagId), ['other']);

      const one = await api.call('GET', '/api/v1/dags/hello');
      assert.equal(one.status, 200);
      assert.equal(one.json.description, 'says hello');
      const flaky = one.json.tasks.find((t: { taskId: string }) => t.taskId === 'flaky');
      assert.deepEqual([flaky.upstream, flaky.retries], [['extract'], 1]);
      assert.deepEqual(one.json.tasks.find((t: { taskId: string }) => t.taskId === 'extract').downstream, ['flaky']);

      expectProblem(await api.call('GET', '/api/v1/dags/nope'), 404, /^no DAG "nope"$/);
      expectProblem(await api.call('GET', '/api/v1/dags/cyclic'), 404, /DAG "cyclic" failed to import from .*hello\.ts: .*cycle/);
      expectProblem(await api.call('GET', '/api/v1/dags?limit=0'), 400, /query\.limit: .*(>=|at least).*1.* \(got "0"\)/);
      expectProblem(await api.call('GET', '/api/v1/dags?limit=5000'), 400, /query\.limit: .*1000/);
      expectProblem(await api.call('GET', '/api/v1/dags?paused=maybe'), 400, /query\.paused: expected true or false \(got "maybe"\)/);
      expectProblem(await api.call('GET', '/api/v1/dags?colour=red'), 400, /colour/);
    });

    test('PATCH /dags/:id pauses and unpauses; bad bodies are 400 naming the field', async () => {
      const r = await api.call('PATCH', '/api/v1/dags/other', { body: { isPaused: true } });
      assert.equal(r.status, 200);
      assert.equal(r.json.isPaused, true);
      assert.deepEqual((await api.call('GET', '/api/v1/dags?paused=true')).json.dags.map((d: { dagId: string }) => d.dagId), ['other']);
      assert.equal((await api.call('PATCH', '/api/v1/dags/other', { body: { isPaused: false } })).json.isPaused, false);
      expectProblem(await api.call('PATCH', '/api/v1/dags/other', { body: { isPaused: 'yes' } }), 400, /body\.isPaused: .*boolean.* \(got "yes"\)/);
      expectProblem(await api.call('PATCH', '/api/v1/dags/other', { body: { isPaused: true, owner: 'me' } }), 400, /owner/);
      expectProblem(await api.call('PATCH', '/api/v1/dags/other', { body: '{"isPaused":' }), 400, /JSON/);
      expectProblem(await api.call('PATCH', '/api/v1/dags/other', { body: 'isPaused=true', headers: { 'content-type': 'text/plain' } }), 415, /text\/plain/);
      expectProblem(await api.call('PATCH', '/api/v1/dags/nope', { body: { isPaused: true } }), 404, /no DAG "nope"/);
    });

    test('GET /importErrors lists the files that failed, with kind filter and paging', async () => {
      const r = await api.call('GET', '/api/v1/importErrors');
      assert.equal(r.status, 200);
      const broken = r.json.importErrors.find((e: { fileloc: string }) => e.fileloc.endsWith('broken.ts'));
      assert.match(broken.message, /broken on purpose/);
      assert.equal(broken.kind, 'error');
      assert.ok(r.json.importErrors.some((e: { dagId: string }) => e.dagId === 'cyclic'));
      assert.equal(r.json.totalEntries, r.json.importErrors.length);
      assert.equal((await api.call('GET', '/api/v1/importErrors?kind=warning')).json.totalEntries, 0);
      assert.equal((await api.call('GET', '/api/v1/importErrors?limit=1')).json.importErrors.length, 1);
      expectProblem(await api.call('GET', '/api/v1/importErrors?kind=fatal'), 400, /query\.kind\.0/);
    });

    test('trigger a run (conf, logicalDate, runId), see it, run it, then its task instances, tries and logs', async () => {
      const created = await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { conf: { who: 'api' }, logicalDate: '2024-03-01T06:00:00+02:00', runId: 'from_api:1' } });
      assert.equal(created.status, 201, created.text);
      assert.equal(created.json.runId, 'from_api:1');
      assert.equal(created.json.state, 'queued');
      assert.equal(created.json.logicalDate, '2024-03-01T04:00:00.000Z');
      assert.deepEqual(created.json.conf, { who: 'api' });
      const runPath = `/api/v1/dags/hello/dagRuns/${encodeURIComponent('from_api:1')}`;
      assert.equal(created.headers.get('location'), runPath);
      assert.equal((await api.call('GET', runPath)).json.runId, 'from_api:1');

      // Same id or same logical date: conflict; nothing created.
      expectProblem(await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { runId: 'from_api:1' } }), 409, /already has a run with id from_api:1/);
      expectProblem(await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { logicalDate: '2024-03-01T04:00:00Z' } }), 409, /already has a run/);
      expectProblem(await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { logicalDate: '2024-03-01T06:00:00' } }), 400, /body\.logicalDate: .*needs Z or an offset/);
      expectProblem(await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { logicalDate: '2024-02-31' } }), 400, /body\.logicalDate: expected a real date/);
      expectProblem(await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { conf: 'x=1' } }), 400, /body\.conf: expected a JSON object/);
      expectProblem(await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { runId: '' } }), 400, /body\.runId: expected a run id of letters, digits/);
      expectProblem(await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: [1, 2] }), 400, /body/);
      expectProblem(await api.call('POST', '/api/v1/dags/nope/dagRuns', { body: {} }), 404, /no DAG "nope"/);
      expectProblem(await api.call('POST', '/api/v1/dags/cyclic/dagRuns', { body: {} }), 404, /failed to import/);
      assert.equal((await api.call('GET', '/api/v1/dags/hello/dagRuns')).json.totalEntries, 1);

      // A queued run has no task instances yet.
      assert.deepEqual((await api.call('GET', `${runPath}/taskInstances`)).json, { taskInstances: [], totalEntries: 0 });

      // Until the run is done and its tries' logs are complete: a runner closes a try's log just after recording
      // its end, and stopping the scheduler stops the runners.
      const logsFolder = h.rt.cfg.logging.logsFolder!;
      const complete = (task: string, n: number) => {
        const f = taskLogPath(logsFolder, { dagId: 'hello', runId: 'from_api:1', taskId: task, mapIndex: -1 }, n);
        return existsSync(f) && /marked (success|up_for_retry)/.test(readFileSync(f, 'utf8'));
      };
      await h.runUntil(async () => (await h.runs('hello')).find((r) => r.run_id === 'from_api:1')?.state === 'success' && complete('extract', 1) && complete('flaky', 1) && complete('flaky', 2));
      const run = await api.call('GET', runPath);
      assert.equal(run.json.state, 'success');
      assert.ok(run.json.startDate && run.json.endDate);
      assert.deepEqual((await api.call('GET', '/api/v1/dags/hello/dagRuns?state=success')).json.dagRuns.map((r: { runId: string }) => r.runId), ['from_api:1']);
      assert.equal((await api.call('GET', '/api/v1/dags/hello/dagRuns?state=queued,running')).json.totalEntries, 0);
      // Every DAG's runs (the scheduler may also have run a scheduled run of "other").
      const finished = (await api.call('GET', '/api/v1/dags/~/dagRuns?state=success&state=failed')).json;
      assert.ok(finished.dagRuns.some((r: { runId: string }) => r.runId === 'from_api:1'));
      assert.ok(finished.dagRuns.every((r: { state: string }) => r.state === 'success' || r.state === 'failed'));
      assert.equal(finished.totalEntries, finished.dagRuns.length);

      const tis = await api.call('GET', `${runPath}/taskInstances`);
      assert.equal(tis.json.totalEntries, 2);
      assert.deepEqual(tis.json.taskInstances.map((t: { taskId: string; state: string; tryNumber: number }) => [t.taskId, t.state, t.tryNumber]), [['extract', 'success', 1], ['flaky', 'success', 2]]);
      assert.equal(tis.json.taskInstances[0].pod, null);
      // A try that runs in a pod shows the pod its external id names.
      await h.rt.db.kysely.updateTable('task_instance').set({ external_executor_id: 'floe/hello-extract-a1/uid-9' }).where('run_id', '=', 'from_api:1').where('task_id', '=', 'extract').execute();
      const extract = (await api.call('GET', `${runPath}/taskInstances`)).json.taskInstances[0];
      assert.deepEqual([extract.externalExecutorId, extract.pod], ['floe/hello-extract-a1/uid-9', { namespace: 'floe', name: 'hello-extract-a1', uid: 'uid-9' }]);
      assert.deepEqual((await api.call('GET', `${runPath}/taskInstances?limit=1&offset=1`)).json.taskInstances.map((t: { taskId: string }) => t.taskId), ['flaky']);

      // A launch failure of try 2 (as the Kubernetes executor records one) shows between the tries, with its pod.
      await h.rt.db.kysely
        .insertInto('task_launch_failure')
        .values({ dag_id: 'hello', run_id: 'from_api:1', task_id: 'flaky', map_index: -1, try_number: 2, external_executor_id: 'floe/hello-flaky-x1/uid-1', reason: 'ErrImagePull: no such image', recorded_at: '2000-01-01T00:00:00.000Z' })
        .execute();
      const flaky = await api.call('GET', `${runPath}/taskInstances/flaky`);
      assert.equal(flaky.status, 200);
      assert.deepEqual(flaky.json.tries.map((t: { tryNumber: number; state: string }) => [t.tryNumber, t.state]), [[1, 'up_for_retry'], [2, 'launch_failed'], [2, 'success']]);
      assert.match(flaky.json.tries[0].reason, /first try fails/);
      assert.deepEqual(flaky.json.tries[1].pod, { namespace: 'floe', name: 'hello-flaky-x1', uid: 'uid-1' });
      assert.equal(flaky.json.tries[1].externalExecutorId, 'floe/hello-flaky-x1/uid-1');
      assert.equal(flaky.json.tries[2].pod, null);

      // Logs of each finished try, as plain text.
      const log1 = await api.call('GET', `${runPath}/taskInstances/flaky/logs/1`);
      assert.equal(log1.status, 200);
      assert.match(log1.headers.get('content-type') ?? '', /^text\/plain/);
      assert.match(log1.text, /flaky try 1/);
      assert.match(log1.text, /first try fails/);
      assert.match((await api.call('GET', `${runPath}/taskInstances/flaky/logs/2`)).text, /flaky try 2/);
      assert.match((await api.call('GET', `${runPath}/taskInstances/extract/logs/1`, { token: READ })).text, /extracting for from_api:1 conf \{"who":"api"\}/);

      expectProblem(await api.call('GET', `${runPath}/taskInstances/flaky/logs/3`), 404, /no try 3 of hello\.flaky in run from_api:1: the task instance is at try 2/);
      expectProblem(await api.call('GET', `${runPath}/taskInstances/flaky/logs/0`), 400, /path\.tryNumber/);
      expectProblem(await api.call('GET', `${runPath}/taskInstances/flaky/logs/abc`), 400, /path\.tryNumber: expected a whole number \(got "abc"\)/);
      expectProblem(await api.call('GET', `${runPath}/taskInstances/nope`), 404, /run "from_api:1" of DAG "hello" has no task instance "nope"/);
      expectProblem(await api.call('GET', `${runPath}/taskInstances/flaky?mapIndex=3`), 404, /with map index 3/);
      expectProblem(await api.call('GET', '/api/v1/dags/hello/dagRuns/nope/taskInstances'), 404, /DAG "hello" has no run "nope"/);
      expectProblem(await api.call('GET', '/api/v1/dags/nope/dagRuns/nope'), 404, /no DAG "nope"/);
      expectProblem(await api.call('GET', '/api/v1/dags/hello/dagRuns?state=paused'), 400, /query\.state\.0/);
    });

    test('pools: list with usage, PUT creates then resizes, GET one, DELETE; default_pool stays', async () => {
      const list = await api.call('GET', '/api/v1/pools');
      const def = list.json.pools.find((p: { name: string }) => p.name === 'default_pool');
      // Earlier tests' runs may leave a try queued or running when their scheduler stopped: usage is what the DB holds.
      const busy = await h.rt.db.kysely.selectFrom('task_instance').select('pool_slots').where('pool', '=', 'default_pool').where('state', 'in', ['queued', 'running']).execute();
      const occupied = busy.reduce((n, r) => n + r.pool_slots, 0);
      assert.deepEqual([def.slots, def.occupiedSlots, def.openSlots], [h.rt.cfg.core.defaultPoolSlots, occupied, h.rt.cfg.core.defaultPoolSlots - occupied]);
      assert.equal(list.json.totalEntries, list.json.pools.length);

      const created = await api.call('PUT', '/api/v1/pools/etl', { body: { slots: 3, description: 'ETL jobs' } });
      assert.equal(created.status, 201);
      assert.deepEqual(created.json, { name: 'etl', slots: 3, description: 'ETL jobs', occupiedSlots: 0, queuedSlots: 0, runningSlots: 0, openSlots: 3 });
      const resized = await api.call('PUT', '/api/v1/pools/etl', { body: { slots: 5 } });
      assert.deepEqual([resized.status, resized.json.slots, resized.json.description], [200, 5, 'ETL jobs']);
      assert.equal((await api.call('PUT', '/api/v1/pools/etl', { body: { slots: 5, description: null } })).json.description, null);
      assert.equal((await api.call('GET', '/api/v1/pools/etl', { token: READ })).json.slots, 5);

      // Slots held by queued and running tries count as occupied.
      await h.rt.db.kysely
        .insertInto('task_instance')
        .values({ dag_id: 'hello', run_id: 'usage', task_id: 'x', map_index: -1, state: 'running', try_number: 1, max_tries: 0, pool: 'etl', pool_slots: 2, queue: 'default', priority_weight: 1, queued_at: null, start_date: null, end_date: null, next_retry_at: null, hostname: null, pid: null, queued_by_job_id: null, external_executor_id: null, last_heartbeat: null, reason: null, updated_at: new Date().toISOString() })
        .execute();
      const used = await api.call('GET', '/api/v1/pools/etl');
      assert.deepEqual([used.json.runningSlots, used.json.occupiedSlots, used.json.openSlots], [2, 2, 3]);
      await h.rt.db.kysely.deleteFrom('task_instance').where('run_id', '=', 'usage').execute();

      expectProblem(await api.call('PUT', '/api/v1/pools/etl', { body: { slots: -1 } }), 400, /body\.slots: expected 0 or more \(got -1\)/);
      expectProblem(await api.call('PUT', '/api/v1/pools/etl', { body: { slots: 1.5 } }), 400, /body\.slots: expected a whole number/);
      expectProblem(await api.call('PUT', '/api/v1/pools/etl', { body: { slots: '3' } }), 400, /body\.slots/);
      expectProblem(await api.call('PUT', '/api/v1/pools/etl', { body: {} }), 400, /body\.slots/);
      assert.equal((await api.call('DELETE', '/api/v1/pools/etl')).status, 204);
      expectProblem(await api.call('GET', '/api/v1/pools/etl'), 404, /no pool "etl"/);
      expectProblem(await api.call('DELETE', '/api/v1/pools/etl'), 404, /no pool "etl"/);
      expectProblem(await api.call('DELETE', '/api/v1/pools/default_pool'), 400, /default_pool cannot be deleted/);
    });

    test('health: 200 while the DB answers; requireScheduler=true is 503 until a scheduler heartbeats in time', async () => {
      const threshold = h.rt.cfg.scheduler.healthCheckThreshold;
      const ok = await api.call('GET', '/health', { token: null });
      assert.equal(ok.status, 200);
      assert.equal(ok.json.metadatabase.status, 'healthy');
      assert.equal(ok.json.scheduler.status, 'unhealthy');
      const strict = await api.call('GET', '/health?requireScheduler=true', { token: null });
      assert.equal(strict.status, 503);
      assert.equal(strict.json.status, 'unhealthy');

      // A scheduler whose last heartbeat is older than the threshold is not alive; a fresh one is.
      const stale = new Date(Date.now() - (threshold + 5) * 1000).toISOString();
      const job = await h.rt.db.kysely.insertInto('job').values({ job_type: 'scheduler', hostname: 'h', pid: 1, state: 'running', start_date: stale, latest_heartbeat: stale }).returning('id').executeTakeFirstOrThrow();
      assert.equal((await api.call('GET', '/health?requireScheduler=true', { token: null })).status, 503);
      const fresh = new Date().toISOString();
      await h.rt.db.kysely.updateTable('job').set({ latest_heartbeat: fresh }).where('id', '=', job.id).execute();
      const live = await api.call('GET', '/health?requireScheduler=true', { token: null });
      assert.equal(live.status, 200);
      assert.deepEqual(live.json.scheduler, { status: 'healthy', liveSchedulers: 1, latestHeartbeat: fresh, healthCheckThreshold: threshold });
      // A stopped scheduler is not alive, whatever its heartbeat says.
      await h.rt.db.kysely.updateTable('job').set({ state: 'stopped' }).where('id', '=', job.id).execute();
      assert.equal((await api.call('GET', '/health?requireScheduler=true', { token: null })).status, 503);
      assert.deepEqual((await api.call('GET', '/health/live', { token: null })).json, { status: 'alive' });
    });

    test('nothing a client sends crashes the server', async () => {
      const odd = [
        ['GET', '/api/v1/dags?limit=1&limit=2'],
        ['GET', '/api/v1/dags?offset=-1'],
        ['GET', '/api/v1/dags?limit=99999999999999999999999'],
        ['GET', `/api/v1/dags/${'x'.repeat(5000)}`],
        ['GET', '/api/v1/dags/%E0%A4%A'],
        ['GET', '/api/v1/dags/a%00b'],
        ['GET', '/api/v1/dags/hello/dagRuns/x/taskInstances/y/logs/99999999999'],
        ['POST', '/api/v1/dags/hello/dagRuns'],
        ['DELETE', '/api/v1/dags/hello/dagRuns'],
        ['GET', '/api/v1/pools?offset=abc'],
      ];
      for (const [method, path] of odd) {
        const r = await api.call(method, path);
        assert.ok(r.status >= 200 && r.status < 500, `${method} ${path.slice(0, 60)}: ${r.status} ${r.text}`);
        if (r.status >= 400) assert.ok(r.json?.detail && !/\n\s+at /.test(r.json.detail), `${method} ${path.slice(0, 60)}: ${r.text}`);
      }
      // Bodies: not JSON, nested deep, huge, wrong type.
      for (const body of ['{', 'null', '"x"', '1', JSON.stringify({ conf: JSON.parse('['.repeat(500) + ']'.repeat(500)) }), `{"conf":{"x":"${'y'.repeat(2_000_000)}"}}`]) {
        const r = await api.call('POST', '/api/v1/dags/hello/dagRuns', { body });
        assert.ok(r.status >= 400 && r.status < 500, `body ${body.slice(0, 40)}: ${r.status} ${r.text.slice(0, 200)}`);
      }
      assert.equal((await api.call('GET', '/health', { token: null })).status, 200);
    });

    test('a deeply nested or oversized conf, a __proto__ key and a bad run id are 400 problems naming the field', async () => {
      let nested = '1';
      for (let i = 0; i < 5000; i++) nested = `{"a":${nested}}`;
      const deep = await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: `{"conf":${nested}}` });
      expectProblem(deep, 400, /conf is nested more than 32 levels deep/);
      const big = await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { conf: { x: 'y'.repeat(70_000) } } });
      expectProblem(big, 400, /conf is \d+ bytes as JSON; at most 65536 are allowed/);
      const proto = await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: '{"conf":{"__proto__":{"polluted":true}}}' });
      expectProblem(proto, 400, /"__proto__"/);
      assert.doesNotMatch(proto.json.detail, /not valid JSON/);
      for (const runId of ['../../../../tmp/evil', 'has space', 'x'.repeat(251), 'a/b']) {
        const r = await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { runId } });
        expectProblem(r, 400, /letters, digits and _ \. ~ : \+ - only, 1 to 250 characters/);
      }
      const fine = await api.call('POST', '/api/v1/dags/hello/dagRuns', { body: { runId: 'my_run-1.2:3+4~5', conf: { a: { b: [1, 2, { c: 3 }] } } } });
      assert.equal(fine.status, 201, fine.text);
      assert.equal((await api.call('GET', '/health', { token: null })).status, 200);
    });

    test('a too-large header is a 431 problem body, like every other error', async () => {
      const r = await api.call('GET', '/api/v1/dags', { headers: { 'x-big': 'x'.repeat(40_000) } });
      expectProblem(r, 431, /header/i);
      const q = await api.call('GET', `/api/v1/dags?x=${'y'.repeat(40_000)}`);
      assert.ok([414, 431].includes(q.status), `${q.status} ${q.text.slice(0, 200)}`);
      assert.match(q.headers.get('content-type') ?? '', /^application\/problem\+json/);
    });
  });
}

describe('health and routes without a reachable database', () => {
  test('/health is 503 naming the metadatabase; API routes are 503 without details', async () => {
    const { openDb } = await import('../../src/db/connect.ts');
    const h = await startFloe('sqlite');
    // Nothing listens on port 1: every query fails to connect.
    const down = await openDb('postgres://floe@127.0.0.1:1/floe');
    const api = await startApi(down, h.rt.cfg);
    try {
      const r = await api.call('GET', '/health', { token: null });
      assert.equal(r.status, 503);
      assert.deepEqual(r.json, { status: 'unhealthy', metadatabase: { status: 'unhealthy', reason: 'ECONNREFUSED' }, scheduler: { status: 'unknown', liveSchedulers: null, latestHeartbeat: null, healthCheckThreshold: h.rt.cfg.scheduler.healthCheckThreshold } });
      const dags = await api.call('GET', '/api/v1/dags');
      expectProblem(dags, 503, /the metadata database is unreachable/);
      assert.doesNotMatch(dags.text, /127\.0\.0\.1|ECONNREFUSED/);
      assert.equal((await api.call('GET', '/health/live', { token: null })).status, 200);
    } finally {
      await api.close();
      await down.close();
      await h.close();
    }
  });
});
