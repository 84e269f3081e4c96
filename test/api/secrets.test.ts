// /api/v1/variables, /api/v1/connections, DELETE /api/v1/dags/{id} and clearTaskInstances' task regex and date
// range. Passwords are never returned, nor sensitive variable values or extra fields; error details never
// echo a password; read tokens read only.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getConnection } from '../../src/core-queries/connections.ts';
import { getVariable } from '../../src/core-queries/variables.ts';
import { generateKey } from '../../src/secrets/crypto.ts';
import { storeOptions } from '../../src/secrets/settings.ts';
import { triggerRun } from '../../src/scheduler/dag-runs.ts';
import { getDag } from '../../src/cli/runtime.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { isProblem, READ, startApi, type TestApi } from './helpers.ts';

const expectProblem = (r: Parameters<typeof isProblem>[0], status: number, detail: RegExp) => assert.equal(isProblem(r, status, detail), null);
const PW = 'api-Passw0rd-2718';

describe('variables, connections and DAG deletion over the API', () => {
  let h: FloeHarness;
  let api: TestApi;
  let noKeyApi: TestApi;

  before(async () => {
    h = await startFloe('sqlite', { config: { secrets: { key: generateKey() } } });
    h.writeDag(
      'ops.ts',
      `${SDK_IMPORT}
dag({ dagId: 'ops', schedule: null }, () => {
  chain(task('extract', async () => 1)(), task('load', async () => { throw new Error('load is broken'); })(), task('report', async () => 3)());
});
dag({ dagId: 'doomed', schedule: null }, () => { task('t', async () => 1)(); });
`,
    );
    await h.parse();
    api = await startApi(h.rt.db, h.rt.cfg);
    noKeyApi = await startApi(h.rt.db, { ...h.rt.cfg, secrets: { ...h.rt.cfg.secrets, key: [] } });
  });
  after(async () => {
    await api?.close();
    await noKeyApi?.close();
    await h?.close();
  });

  test('variables: create, read, list, change, delete; sensitive values are not returned', async () => {
    const created = await api.call('POST', '/api/v1/variables', { body: { key: 'limits', value: { rows: 100 }, description: 'batch sizes' } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.headers.get('location'), '/api/v1/variables/limits');
    assert.deepEqual([created.json.key, created.json.value, created.json.description, created.json.sensitive, created.json.encrypted], ['limits', { rows: 100 }, 'batch sizes', false, true]);
    expectProblem(await api.call('POST', '/api/v1/variables', { body: { key: 'limits', value: 1 } }), 409, /variable "limits" already exists/);
    assert.equal((await api.call('POST', '/api/v1/variables', { body: { key: 'partner_api_key', value: 'pk-live-998877' } })).status, 201);

    const one = await api.call('GET', '/api/v1/variables/partner_api_key', { token: READ });
    assert.deepEqual([one.status, one.json.value, one.json.sensitive], [200, null, true]);
    const list = await api.call('GET', '/api/v1/variables?limit=10', { token: READ });
    assert.equal(list.json.totalEntries, 2);
    assert.ok(!list.text.includes('pk-live-998877'), 'a sensitive value is never returned');
    assert.deepEqual(list.json.variables.map((v: { key: string; value: unknown }) => [v.key, v.value]), [['limits', { rows: 100 }], ['partner_api_key', null]]);

    const patched = await api.call('PATCH', '/api/v1/variables/limits', { body: { value: { rows: 5 } } });
    assert.deepEqual([patched.status, patched.json.value, patched.json.description], [200, { rows: 5 }, 'batch sizes']);
    const described = await api.call('PATCH', '/api/v1/variables/limits', { body: { description: null } });
    assert.deepEqual([described.json.value, described.json.description], [{ rows: 5 }, null]);
    assert.deepEqual((await getVariable(h.rt.db.kysely, storeOptions(h.rt.cfg), 'partner_api_key'))?.value, 'pk-live-998877');

    expectProblem(await api.call('GET', '/api/v1/variables/nope'), 404, /no variable "nope"/);
    expectProblem(await api.call('PATCH', '/api/v1/variables/nope', { body: { value: 1 } }), 404, /no variable "nope"/);
    expectProblem(await api.call('POST', '/api/v1/variables', { body: { key: 'bad key', value: 1 } }), 400, /variable key: expected letters, digits, _ \. - only/);
    expectProblem(await api.call('POST', '/api/v1/variables', { body: { key: 'novalue' } }), 400, /body\.value: expected a JSON value/);
    expectProblem(await api.call('POST', '/api/v1/variables', { body: { key: 'x', value: 1, extra: 2 } }), 400, /body: Unrecognized key: "extra"/);
    expectProblem(await api.call('POST', '/api/v1/variables', { token: READ, body: { key: 'x', value: 1 } }), 403, /needs an admin token/);
    expectProblem(await noKeyApi.call('POST', '/api/v1/variables', { body: { key: 'db_password', value: 'x' } }), 400, /its key looks sensitive.*floe secrets generate-key/);

    assert.equal((await api.call('DELETE', '/api/v1/variables/limits')).status, 204);
    expectProblem(await api.call('DELETE', '/api/v1/variables/limits'), 404, /no variable "limits"/);
  });

  test('connections: a password goes in and never comes out, also not in errors', async () => {
    const uri = `postgres://etl:${encodeURIComponent(PW)}@wh.internal:5432/dw?sslmode=require`;
    const byUri = await api.call('POST', '/api/v1/connections', { body: { connectionId: 'warehouse', uri, description: 'the warehouse' } });
    assert.equal(byUri.status, 201, byUri.text);
    assert.deepEqual(byUri.json, {
      connectionId: 'warehouse',
      connType: 'postgres',
      description: 'the warehouse',
      host: 'wh.internal',
      port: 5432,
      login: 'etl',
      schema: 'dw',
      extra: { sslmode: 'require' },
      hasPassword: true,
      encrypted: true,
    });
    const byFields = await api.call('POST', '/api/v1/connections', {
      body: { connectionId: 'partner', connType: 'http', host: 'api.partner.com', port: 443, login: 'svc', password: PW, extra: { api_token: 'tk-5544332211', timeout: 30 } },
    });
    assert.equal(byFields.status, 201, byFields.text);
    assert.deepEqual(byFields.json.extra, { api_token: '***', timeout: 30 });
    expectProblem(await api.call('POST', '/api/v1/connections', { body: { connectionId: 'partner', connType: 'http' } }), 409, /connection "partner" already exists/);

    for (const r of [await api.call('GET', '/api/v1/connections', { token: READ }), await api.call('GET', '/api/v1/connections/partner', { token: READ })]) {
      assert.equal(r.status, 200, r.text);
      assert.ok(!r.text.includes(PW) && !r.text.includes('tk-5544332211') && !/"password"/.test(r.text), r.text);
    }
    const patched = await api.call('PATCH', '/api/v1/connections/partner', { body: { password: 'new-Passw0rd-1', port: null } });
    assert.deepEqual([patched.status, patched.json.port, patched.json.hasPassword, patched.json.host], [200, null, true, 'api.partner.com']);
    const stored = await getConnection(h.rt.db.kysely, storeOptions(h.rt.cfg), 'partner');
    assert.deepEqual([stored?.password, stored?.extra], ['new-Passw0rd-1', { api_token: 'tk-5544332211', timeout: 30 }]);
    const cleared = await api.call('PATCH', '/api/v1/connections/partner', { body: { password: null } });
    assert.equal(cleared.json.hasPassword, false);

    // Bad input: named, without echoing a password.
    const bad = [
      [{ connectionId: 'b1', connType: 'http', port: 'eighty' }, /body\.port: expected a port number from 0 to 65535; got "eighty"/],
      [{ connectionId: 'b2', connType: 'http', password: 123456789 }, /body\.password: expected a string or null/],
      [{ connectionId: 'b3', uri: `postgres://etl:my/${PW}@db:5432/x` }, /body\.uri: the port is not a number/],
      [{ connectionId: 'b4', uri: 'postgres://db', host: 'x' }, /body\.uri: cannot be combined with body\.host/],
      [{ connectionId: 'b5', connType: 'http', extra: '[1]' }, /body\.extra: expected a JSON object/],
      [{ connectionId: 'b 6', connType: 'http' }, /connection id: expected letters, digits/],
      [{ connectionId: 'b7' }, /body\.connType: expected a connection type/],
    ] as const;
    for (const [body, detail] of bad) {
      const r = await api.call('POST', '/api/v1/connections', { body });
      expectProblem(r, 400, detail);
      assert.ok(!r.text.includes(PW) && !r.text.includes('123456789'), r.text);
    }
    const refused = await noKeyApi.call('POST', '/api/v1/connections', { body: { connectionId: 'nokey', connType: 'http', password: PW } });
    expectProblem(refused, 400, /connection nokey: cannot store its password: no encryption key is configured/);
    assert.ok(!refused.text.includes(PW));
    expectProblem(await api.call('PATCH', '/api/v1/connections/nope', { body: { host: 'x' } }), 404, /no connection "nope"/);
    expectProblem(await api.call('PATCH', '/api/v1/connections/partner', { body: { connType: null } }), 400, /body\.connType: a connection always has a type/);
    expectProblem(await api.call('DELETE', '/api/v1/connections/partner', { token: READ }), 403, /needs an admin token/);
    assert.equal((await api.call('DELETE', '/api/v1/connections/partner')).status, 204);
    expectProblem(await api.call('GET', '/api/v1/connections/partner'), 404, /no connection "partner"/);
  });

  test('clearTaskInstances with a task regex and a date range, as floe tasks clear -t -s -e', async () => {
    const dag = await getDag(h.rt, 'ops');
    const runs: string[] = [];
    for (const d of ['2024-03-01', '2024-03-02', '2024-03-03']) runs.push(await triggerRun(h.rt.db.kysely, dag, { logicalDate: new Date(`${d}T00:00:00Z`) }));
    await h.runUntilRunsFinish('ops', 3, 120_000);
    const r = await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { taskRegex: '^lo', includeDownstream: true, startDate: '2024-03-02', endDate: '2024-03-03', dryRun: true } });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(
      r.json.taskInstances.map((t: { runId: string; taskId: string; state: string }) => `${t.runId.slice(8, 18)} ${t.taskId} ${t.state}`),
      ['2024-03-02 load failed', '2024-03-02 report upstream_failed', '2024-03-03 load failed', '2024-03-03 report upstream_failed'],
    );
    const upstream = await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { taskRegex: 'load', includeUpstream: true, onlyFailed: false, dagRunId: runs[0] } });
    assert.deepEqual(upstream.json.taskInstances.map((t: { taskId: string }) => t.taskId), ['extract', 'load']);
    expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { taskRegex: '^zz' } }), 400, /no task of DAG "ops" matches the regex "\^zz"/);
    expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { taskRegex: '(' } }), 400, /task regex "\(": Invalid regular expression/);
    expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { taskRegex: 'a', taskIds: ['load'] } }), 400, /task ids or a task regex, not both/);
    expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { startDate: '2024-03-05', endDate: '2024-03-01' } }), 400, /is after the end date/);
    expectProblem(await api.call('POST', '/api/v1/dags/ops/clearTaskInstances', { body: { startDate: '2024-13-01' } }), 400, /body\.startDate/);
  });

  test('DELETE a DAG: its metadata goes, a try in flight refuses it', async () => {
    const dag = await getDag(h.rt, 'doomed');
    const runId = await triggerRun(h.rt.db.kysely, dag, {});
    await h.runUntilRunDone('doomed', runId, 60_000);
    await h.rt.db.kysely.updateTable('task_instance').set({ state: 'running' }).where('dag_id', '=', 'doomed').execute();
    expectProblem(await api.call('DELETE', '/api/v1/dags/doomed'), 409, /DAG "doomed" has tries queued or running \(t in manual__.*: running\)/);
    await h.rt.db.kysely.updateTable('task_instance').set({ state: 'success' }).where('dag_id', '=', 'doomed').execute();
    expectProblem(await api.call('DELETE', '/api/v1/dags/doomed', { token: READ }), 403, /needs an admin token/);
    assert.equal((await api.call('DELETE', '/api/v1/dags/doomed')).status, 204);
    expectProblem(await api.call('GET', '/api/v1/dags/doomed'), 404, /no DAG "doomed"/);
    for (const table of ['dag_run', 'task_instance', 'task_instance_history', 'xcom'] as const)
      assert.equal((await h.rt.db.kysely.selectFrom(table).select('dag_id').where('dag_id', '=', 'doomed').execute()).length, 0, table);
    expectProblem(await api.call('DELETE', '/api/v1/dags/doomed'), 404, /no DAG "doomed"/);
    assert.ok(await h.rt.db.kysely.selectFrom('dag').select('dag_id').where('dag_id', '=', 'ops').executeTakeFirst(), 'other DAGs stay');
  });
});
