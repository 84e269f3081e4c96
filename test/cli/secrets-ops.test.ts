// The #18 commands as a user runs them (bin/floe.js in child processes, the database shared with an in-process
// scheduler): variables, connections, secrets, config, tasks test masking, tasks clear → the failed task and its
// downstream run again, tasks mark, dags mark-run / delete / next-run, dags backfill --rerun-failed.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { generateKey } from '../../src/secrets/crypto.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

const BIN = fileURLToPath(new URL('../../bin/floe.js', import.meta.url));
const KEY = generateKey();
const PW = 'cli-Passw0rd-1618';

let h: FloeHarness;

function floe(args: string[], o: { input?: string; env?: Record<string, string> } = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH!, HOME: h.home, FLOE_HOME: h.home, FLOE_DAGS_FOLDER: h.dagsFolder, FLOE__LOGGING__LEVEL: 'silent', FLOE_CONFIG: '', FLOE__SECRETS__KEY: KEY, ...o.env },
    cwd: h.home,
    input: o.input ?? '',
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** A failed command: exit 1 and one `error: …` line. */
function fails(r: ReturnType<typeof floe>, message: RegExp) {
  assert.equal(r.code, 1, `exit code: ${r.out}${r.err}`);
  assert.match(r.err, /^error: [^\n]+\n$/, 'one error line');
  assert.match(r.err, message);
}

const fixed = () => path.join(h.home, 'fixed');

before(async () => {
  h = await startFloe('sqlite', { config: { secrets: { key: KEY } } });
  h.writeDag(
    'cli.ts',
    `${SDK_IMPORT}
import { existsSync } from 'node:fs';
dag({ dagId: 'etl', schedule: '@daily', startDate: '2024-01-01', catchup: false }, () => {
  const extract = task('extract', async () => 1)();
  const load = task('load', async () => {
    if (!existsSync(${JSON.stringify(fixed())})) throw new Error('load is broken until fixed');
    return 2;
  })();
  const report = task('report', async () => 3)();
  chain(extract, load, report);
  task({ taskId: 'cleanup', triggerRule: 'all_done' }, async () => 4)().after(load);
});
dag({ dagId: 'peek', schedule: null }, () => {
  task('show', async (ctx) => {
    const c = await ctx.connection('warehouse');
    console.log('connecting with', c.password);
    return { uri: c.uri, region: await ctx.variables.get('region') };
  })();
});
dag({ dagId: 'scratch', schedule: null }, () => { task('t', async () => 1)(); });
`,
  );
  await h.parse();
});
after(() => h?.close());

describe('variables', () => {
  test('set, get, list, delete; JSON or text; stdin; sensitive values masked in the list', () => {
    assert.match(floe(['variables', 'set', 'region', 'eu-west-1', '--description', 'where we run']).out, /variable region created/);
    assert.match(floe(['variables', 'set', 'limits', '{"rows": 100}']).out, /variable limits created/);
    assert.match(floe(['variables', 'set', 'port', '5432', '--string']).out, /created/);
    assert.match(floe(['variables', 'set', 'api_token', '-'], { input: 'tok-from-stdin-4711\n' }).out, /variable api_token created/);
    assert.equal(floe(['variables', 'get', 'limits']).out, '{"rows":100}\n');
    assert.equal(floe(['variables', 'get', 'region']).out, 'eu-west-1\n');
    assert.equal(floe(['variables', 'get', 'region', '--json']).out, '"eu-west-1"\n');
    assert.equal(floe(['variables', 'get', 'port', '--json']).out, '"5432"\n');
    assert.equal(floe(['variables', 'get', 'api_token']).out, 'tok-from-stdin-4711\n', 'the CLI user gets the real value');
    assert.equal(floe(['variables', 'get', 'region'], { env: { FLOE_VAR_REGION: 'us-east-1' } }).out, 'us-east-1\n', 'the environment wins');
    assert.equal(floe(['variables', 'get', 'region'], { env: { AIRFLOW_VAR_REGION: 'ap-south-1' } }).out, 'ap-south-1\n', "Airflow's variables are read too");
    assert.equal(floe(['variables', 'get', 'nope', '--default', 'dflt']).out, 'dflt\n');
    fails(floe(['variables', 'get', 'nope']), /variable "nope" is not set \(looked in FLOE_VAR_NOPE, AIRFLOW_VAR_NOPE, the metadata database\)/);
    const list = JSON.parse(floe(['variables', 'list', '-o', 'json']).out);
    assert.deepEqual(
      list.map((v: { key: string; value: string; encrypted: boolean }) => [v.key, v.value, v.encrypted]),
      [['api_token', '***', true], ['limits', '{"rows":100}', true], ['port', '5432', true], ['region', 'eu-west-1', true]],
    );
    fails(floe(['variables', 'set', 'bad key', '1']), /variable key: expected letters, digits, _ \. - only/);
    fails(floe(['variables', 'set', 'db_password', 'x'], { env: { FLOE__SECRETS__KEY: '' } }), /its key looks sensitive.*floe secrets generate-key/);
    assert.match(floe(['variables', 'delete', 'port']).out, /variable port deleted/);
    fails(floe(['variables', 'delete', 'port']), /no variable "port"/);
  });

  test('import and export', () => {
    const file = path.join(h.home, 'vars.json');
    writeFileSync(file, JSON.stringify({ region: 'eu-central-1', batch: { size: 10 } }));
    assert.match(floe(['variables', 'import', file, '--on-existing', 'skip']).out, /imported 1 variable \(1 created, 0 updated, 1 skipped\)/);
    assert.match(floe(['variables', 'import', file]).out, /imported 2 variables \(0 created, 2 updated, 0 skipped\)/);
    fails(floe(['variables', 'import', file, '--on-existing', 'fail']), /variables already exist: region, batch/);
    writeFileSync(file, '{oops');
    fails(floe(['variables', 'import', file]), /vars\.json: not valid JSON/);
    const out = path.join(h.home, 'export.json');
    assert.match(floe(['variables', 'export', out]).out, /exported 4 variables/);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')).api_token, 'tok-from-stdin-4711');
    assert.deepEqual(JSON.parse(floe(['variables', 'export', '-']).out).batch, { size: 10 });
  });
});

describe('connections', () => {
  test('add from a URI, fields, stdin or JSON; get and list never show the password; delete', () => {
    assert.match(floe(['connections', 'add', 'warehouse', '--conn-uri', `postgres://etl:${encodeURIComponent(PW)}@wh.internal:5432/dw?sslmode=require`]).out, /connection warehouse added \(password encrypted\)/);
    assert.match(floe(['connections', 'add', 'api', '--conn-type', 'http', '--conn-host', 'api.example.com', '--conn-port', '443', '--conn-login', 'svc', '--conn-password-stdin', '--conn-extra', '{"timeout": 30}'], { input: `${PW}\n` }).out, /connection api added/);
    assert.match(floe(['connections', 'add', 'aws_default', '--conn-json', '{"conn_type": "aws", "login": "AKIA", "password": "aws-secret-key-1", "extra": {"region_name": "eu-west-1"}}']).out, /added/);
    fails(floe(['connections', 'add', 'api', '--conn-type', 'http']), /connection "api" already exists/);
    fails(floe(['connections', 'add', 'x', '--conn-uri', 'http://h', '--conn-host', 'y']), /--conn-host cannot be combined with --conn-uri/);
    fails(floe(['connections', 'add', 'x']), /give exactly one of --conn-uri, --conn-json or --conn-type/);
    fails(floe(['connections', 'add', 'x', '--conn-type', 'http', '--conn-port', 'eighty']), /--conn-port: expected a port number/);
    const noKey = floe(['connections', 'add', 'x', '--conn-uri', `http://u:${PW}@h`], { env: { FLOE__SECRETS__KEY: '' } });
    fails(noKey, /connection x: cannot store its password: no encryption key is configured: make a key with "floe secrets generate-key"/);
    assert.ok(!noKey.err.includes(PW));

    const got = JSON.parse(floe(['connections', 'get', 'warehouse', '-o', 'json']).out)[0];
    assert.deepEqual([got.host, got.port, got.password, got.uri, got.source], ['wh.internal', 5432, '***', 'postgres://etl:***@wh.internal:5432/dw?sslmode=require', 'database']);
    const fromEnv = JSON.parse(floe(['connections', 'get', 'warehouse', '-o', 'json'], { env: { AIRFLOW_CONN_WAREHOUSE: 'postgres://u:env-pass-1234@envhost/db' } }).out)[0];
    assert.deepEqual([fromEnv.host, fromEnv.password, fromEnv.source], ['envhost', '***', 'env AIRFLOW_CONN_WAREHOUSE']);
    const list = floe(['connections', 'list']);
    assert.ok(!list.out.includes(PW) && !list.out.includes('aws-secret-key-1'));
    assert.match(list.out, /api\s+http\s+api\.example\.com\s+443\s+svc\s+true/);
    fails(floe(['connections', 'get', 'nope']), /connection "nope" is not defined \(looked in FLOE_CONN_NOPE, AIRFLOW_CONN_NOPE, the metadata database\)/);
    assert.ok(!readFileSync(path.join(h.home, 'floe.db')).toString('latin1').includes(PW), 'not in the database file');
    assert.match(floe(['connections', 'delete', 'aws_default']).out, /connection aws_default deleted/);
    fails(floe(['connections', 'delete', 'aws_default']), /no connection "aws_default"/);
  });

  test('import (.json, .yaml, .env) and export (json, yaml, env)', () => {
    const json = path.join(h.home, 'conns.json');
    writeFileSync(json, JSON.stringify({ imported_json: { conn_type: 'postgres', host: 'pg', port: 5432, login: 'a', password: 'imp-pass-1', extra: '{"x": "y"}' } }));
    assert.match(floe(['connections', 'import', json]).out, /imported 1 connection \(1 added/);
    const again = floe(['connections', 'import', json]);
    assert.match(again.out, /0 added, 0 replaced, 1 skipped/);
    assert.match(again.err, /skipped imported_json: it exists/);
    const env = path.join(h.home, 'conns.env');
    writeFileSync(env, `# comment\nimported_env=redis://:redis-pass-22@cache:6379/0\n`);
    assert.match(floe(['connections', 'import', env]).out, /1 added/);
    const yml = path.join(h.home, 'conns.yaml');
    writeFileSync(yml, 'imported_yaml:\n  conn_type: http\n  host: y.example.com\n');
    assert.match(floe(['connections', 'import', yml]).out, /1 added/);
    writeFileSync(env, 'broken=not a uri\n');
    fails(floe(['connections', 'import', env]), /conns\.env:1: broken: expected a URI like/);

    const out = path.join(h.home, 'out.json');
    assert.match(floe(['connections', 'export', out]).out, /exported 5 connections/);
    assert.equal(statSync(out).mode & 0o777, 0o600);
    const data = JSON.parse(readFileSync(out, 'utf8'));
    assert.deepEqual([data.warehouse.password, data.imported_json.extra], [PW, { x: 'y' }]);
    assert.match(floe(['connections', 'export', '-', '--format', 'env']).out, /^imported_env=redis:\/\/:redis-pass-22@cache:6379\/0$/m);
    assert.match(floe(['connections', 'export', '-', '--format', 'yaml']).out, /imported_yaml:\n {2}conn_type: http/);
  });
});

describe('secrets and config', () => {
  test('generate-key, and rotate with two keys: the old key can then go', () => {
    const newKey = floe(['secrets', 'generate-key']).out.trim();
    assert.equal(Buffer.from(newKey, 'base64').length, 32);
    const rotated = floe(['secrets', 'rotate'], { env: { FLOE__SECRETS__KEY: `${newKey},${KEY}` } });
    assert.equal(rotated.code, 0, rotated.err);
    assert.match(rotated.out, /re-encrypted with key [0-9a-f]{8}: \d+ variables, \d+ connections \(0 were unencrypted\)/);
    assert.match(rotated.out, /remove [0-9a-f]{8} from secrets\.key when every process has the new one/);
    assert.equal(floe(['variables', 'get', 'api_token'], { env: { FLOE__SECRETS__KEY: newKey } }).out, 'tok-from-stdin-4711\n');
    fails(floe(['variables', 'get', 'api_token']), /variable api_token: encrypted with key [0-9a-f]{8}, which is not among the configured keys/);
    // Rotate back so the other tests keep using KEY.
    assert.equal(floe(['secrets', 'rotate'], { env: { FLOE__SECRETS__KEY: `${KEY},${newKey}` } }).code, 0);
    fails(floe(['secrets', 'rotate'], { env: { FLOE__SECRETS__KEY: '' } }), /no encryption key is configured/);
  });

  test('config get / list: effective values with their sources, secrets masked', () => {
    const env = { FLOE__CORE__PARALLELISM: '7', FLOE_DATABASE_URL: 'postgres://floe:db-Passw0rd@db:5432/floe', FLOE__API__ADMIN_TOKENS: 'admin-token-0123456789abcdef' };
    writeFileSync(path.join(h.home, 'floe.yaml'), 'scheduler:\n  zombieThreshold: 90\n');
    try {
      const list = floe(['config', 'list', '-o', 'json'], { env });
      assert.equal(list.code, 0, list.err);
      const rows = new Map((JSON.parse(list.out) as { key: string; value: string; source: string }[]).map((r) => [r.key, r]));
      assert.deepEqual(rows.get('core.parallelism'), { key: 'core.parallelism', value: '7', source: 'env FLOE__CORE__PARALLELISM' });
      assert.deepEqual(rows.get('scheduler.zombieThreshold'), { key: 'scheduler.zombieThreshold', value: '90', source: `file ${path.join(h.home, 'floe.yaml')}` });
      assert.deepEqual(rows.get('core.defaultRetryDelay')?.source, 'default');
      assert.deepEqual(rows.get('database.url'), { key: 'database.url', value: 'postgres://floe:***@db:5432/floe', source: 'env FLOE_DATABASE_URL' });
      assert.deepEqual([rows.get('secrets.key')?.value, rows.get('api.adminTokens')?.value], ['["***"]', '["***"]']);
      assert.ok(!list.out.includes(KEY) && !list.out.includes('db-Passw0rd') && !list.out.includes('admin-token-0123'));
      assert.equal(floe(['config', 'get', 'core.parallelism'], { env }).out, '7\n');
      assert.equal(floe(['config', 'get', 'core.executor', '--source']).out, 'local\t(default)\n');
      assert.equal(floe(['config', 'get', 'secrets.key']).out, '["***"]\n');
      fails(floe(['config', 'get', 'core.nope']), /no configuration key "core\.nope" \(core has: core\.dagsFolder, core\.executor/);
      assert.match(floe(['config', 'list', '--section', 'secrets']).out, /secrets\.allowPlaintext\s+false\s+default/);
    } finally {
      rmSync(path.join(h.home, 'floe.yaml'));
    }
  });

  test('tasks test prints *** for a connection password the task printed and returned', () => {
    const r = floe(['tasks', 'test', 'peek', 'show', '2024-05-01']);
    assert.equal(r.code, 0, r.err);
    assert.ok(!r.out.includes(PW), r.out);
    assert.match(r.out, /"uri": "postgres:\/\/etl:\*\*\*@wh\.internal:5432\/dw\?sslmode=require"/);
    const log = floe(['tasks', 'logs', 'peek', 'show', 'test__2024-05-01T00:00:00.000Z']).out;
    assert.match(log, /connecting with \*\*\*/);
    assert.ok(!log.includes(PW));
  });
});

describe('operations', () => {
  let runId: string;
  const state = async (taskId: string, run = runId) => (await h.tis('etl', run)).get(taskId)?.state;
  const runState = async (run = runId) => (await h.rt.db.kysely.selectFrom('dag_run').select('state').where('dag_id', '=', 'etl').where('run_id', '=', run).executeTakeFirstOrThrow()).state;

  test('tasks clear: dry run, confirmation, then the failed task and its downstream run again', async () => {
    runId = await h.trigger('etl');
    await h.runUntilRunDone('etl', runId, 120_000);
    assert.deepEqual([await runState(), await state('load'), await state('report'), await state('cleanup')], ['failed', 'failed', 'upstream_failed', 'success']);

    const dry = floe(['tasks', 'clear', 'etl', '-r', runId, '-t', '^load$', '-d', '--dry-run']);
    assert.equal(dry.code, 0, dry.err);
    assert.match(dry.out, /load\s+-1\s+failed/);
    assert.match(dry.out, /report\s+-1\s+upstream_failed/);
    assert.match(dry.out, /cleanup\s+-1\s+success/);
    assert.match(dry.out, /3 task instances would be cleared \(dry run\)/);
    fails(floe(['tasks', 'clear', 'etl', '-r', runId, '-t', '^load$', '-d']), /tasks clear would clear 3 task instances: run it with --yes to confirm/);
    assert.equal(await runState(), 'failed', 'nothing changed without --yes');
    assert.match(floe(['tasks', 'clear', 'etl', '-r', runId, '-f', '--dry-run']).out, /2 task instances would be cleared/);
    assert.match(floe(['tasks', 'clear', 'etl', '-r', runId, '-t', 'load', '-u', '-f', '--dry-run']).out, /1 task instance would be cleared/, 'only-failed keeps the successful upstream out');
    assert.match(floe(['tasks', 'clear', 'etl', '-r', runId, '-t', 'load', '-u', '--dry-run']).out, /2 task instances would be cleared/);
    assert.match(floe(['tasks', 'clear', 'etl', '-s', '2030-01-01', '--dry-run']).out, /nothing to clear/);
    fails(floe(['tasks', 'clear', 'etl', '-t', 'zz']), /no task of DAG "etl" matches the regex "zz"/);
    fails(floe(['tasks', 'clear', 'etl', '-s', 'yesterday']), /--start-date: expected a date/);
    fails(floe(['tasks', 'clear', 'nope']), /no DAG "nope"/);

    writeFileSync(fixed(), 'yes');
    const cleared = floe(['tasks', 'clear', 'etl', '-t', '^load$', '-d', '-r', runId, '--yes']);
    assert.equal(cleared.code, 0, cleared.err);
    assert.match(cleared.out, new RegExp(`cleared 3 task instances; runs queued again: ${runId.replace(/[.+]/g, '\\$&')}`));
    assert.deepEqual([await runState(), await state('load'), await state('extract')], ['queued', 'none', 'success']);
    await h.runUntilRunDone('etl', runId, 120_000);
    assert.deepEqual([await runState(), await state('load'), await state('report'), await state('cleanup')], ['success', 'success', 'success', 'success']);
    const tries = (await h.history('etl', runId)).filter((x) => x.task_id === 'load').map((x) => `${x.try_number}:${x.state}`);
    assert.deepEqual(tries, ['1:failed', '2:success']);
    rmSync(fixed());
  });

  test('tasks mark and dags mark-run', async () => {
    assert.match(floe(['tasks', 'mark', 'etl', 'report', runId, 'failed', '--dry-run']).out, /etl\.report in .* would be failed \(was success\)/);
    assert.equal(await state('report'), 'success');
    const m = floe(['tasks', 'mark', 'etl', 'report', runId, 'failed']);
    assert.match(m.out, /etl\.report in .* is failed \(was success\)/);
    assert.match(m.out, /queued again/);
    assert.equal(await state('report'), 'failed');
    assert.match(floe(['tasks', 'mark', 'etl', 'report', runId, 'failed']).out, /is already failed/);
    fails(floe(['tasks', 'mark', 'etl', 'report', runId, 'skipped']), /state: expected "success" or "failed", got "skipped"/);
    fails(floe(['tasks', 'mark', 'etl', 'zz', runId, 'success']), /has no task instance "zz"/);
    const run = floe(['dags', 'mark-run', 'etl', runId, 'success']);
    assert.match(run.out, /report: failed → success/);
    assert.match(run.out, new RegExp(`run .* of etl: queued → success`));
    assert.deepEqual([await runState(), await state('report')], ['success', 'success']);
    fails(floe(['dags', 'mark-run', 'etl', 'nope', 'success']), /DAG "etl" has no run "nope"/);
  });

  test('dags next-run', () => {
    const r = JSON.parse(floe(['dags', 'next-run', 'etl', '-n', '2', '-o', 'json']).out);
    assert.equal(r.length, 2);
    assert.equal(new Date(r[1].logical_date).getTime() - new Date(r[0].logical_date).getTime(), 86_400_000);
    assert.equal(r[0].due_at, r[0].data_interval_end);
    assert.match(floe(['dags', 'next-run', 'scratch']).out, /none: DAG scratch has no schedule/);
    fails(floe(['dags', 'next-run', 'nope']), /no DAG "nope"/);
  });

  test('dags backfill --rerun-failed runs the failed tasks of runs already there', () => {
    const first = floe(['dags', 'backfill', 'etl', '-s', '2024-02-01', '-e', '2024-02-02']);
    assert.equal(first.code, 1, 'both runs fail');
    assert.match(first.out, /backfill done: 0 succeeded, 2 failed/);
    writeFileSync(fixed(), 'yes');
    const plain = floe(['dags', 'backfill', 'etl', '-s', '2024-02-01', '-e', '2024-02-02']);
    assert.match(plain.out, /already present \(left as they are\): backfill__2024-02-01.*, backfill__2024-02-02/);
    assert.match(plain.out, /nothing to backfill/);
    const rerun = floe(['dags', 'backfill', 'etl', '-s', '2024-02-01', '-e', '2024-02-02', '--rerun-failed']);
    assert.equal(rerun.code, 0, rerun.out + rerun.err);
    assert.match(rerun.out, /already present, failed task instances cleared to run again: backfill__2024-02-01T00:00:00\.000Z, backfill__2024-02-02T00:00:00\.000Z/);
    assert.match(rerun.out, /backfill done: 2 succeeded, 0 failed/);
    rmSync(fixed());
  });

  test('dags delete: confirmation, then the metadata is gone (the file stays)', async () => {
    const runId2 = await h.trigger('scratch');
    await h.runUntilRunDone('scratch', runId2, 60_000);
    fails(floe(['dags', 'delete', 'scratch']), /dags delete removes DAG scratch and its 1 run: run it with --yes/);
    const r = floe(['dags', 'delete', 'scratch', '--yes']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /deleted DAG scratch: 1 run, 1 task instance, 1 try in history, 1 XCom/);
    assert.match(r.err, /its file and task logs are untouched/);
    assert.equal((await h.rt.db.kysely.selectFrom('dag_run').select('run_id').where('dag_id', '=', 'scratch').execute()).length, 0);
    fails(floe(['dags', 'delete', 'scratch', '--yes']), /no DAG "scratch"/);
    assert.ok(existsSync(path.join(h.dagsFolder, 'cli.ts')));
  });
});
