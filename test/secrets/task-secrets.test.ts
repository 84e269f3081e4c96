// Tasks on the local executor read variables and connections (database, encrypted, and the environment), and
// their logs and failure reasons show *** for every secret: a printed connection password, a password inside a
// URI or JSON, one split over two writes of a shell command, a sensitive environment variable, a value the task
// registered, and the password of a connection the task never read.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { addConnection } from '../../src/core-queries/connections.ts';
import { setVariable } from '../../src/core-queries/variables.ts';
import { parseConnectionUri } from '../../src/secrets/connection.ts';
import { generateKey } from '../../src/secrets/crypto.ts';
import { storeOptions } from '../../src/secrets/settings.ts';
import { taskLogPath } from '../../src/worker/task-log.ts';
import { type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

const PW = 'wh-Passw0rd-4242';
const OTHER_PW = 'never-read-pass-777';
const TOKEN = 'sensitive-var-token-31337';
const ENV_PW = 'env-db-password-9001';
const RUNTIME = 'runtime-registered-5150';
const ENV_CONN_PW = 'env-conn-pass-8080';

const dagSource = `${SDK_IMPORT}
dag({ dagId: 'uses_secrets', schedule: null }, () => {
  task('read', async (ctx) => {
    const region = await ctx.variables.get('region');
    const limits = await ctx.variables.get<{ rows: number }>('limits');
    const fallback = await ctx.variables.get('not_set', 'fallback');
    const token = await ctx.variables.get<string>('partner_token');
    const c = await ctx.connection('warehouse');
    const fromEnv = await ctx.connection('env_api');
    console.log('password is ' + c.password + ', token ' + token);
    ctx.log('uri ' + c.uri);
    console.log(JSON.stringify({ conn: c }));
    console.log('env db password ' + process.env.DB_PASSWORD + ', env connection password ' + fromEnv.password);
    console.log('the other connection has ${OTHER_PW}');
    ctx.mask('${RUNTIME}');
    console.log('registered ${RUNTIME}');
    return { region, limits, fallback, host: c.host, port: c.port, extra: c.extra, envHost: fromEnv.host };
  })();
  shell({
    taskId: 'sh',
    env: { PW: '{{ conn.warehouse.password }}' },
    command: 'echo "rendered {{ conn.warehouse.password }} in {{ var.value.region }} with {{ var.json.limits.rows }}"; ' +
      'printf "split: %s" "$(echo "$PW" | cut -c1-6)"; sleep 0.3; printf "%s done\\\\n" "$(echo "$PW" | cut -c7-)"; echo "$DB_PASSWORD" >&2',
  });
  task('fails', async (ctx) => {
    const c = await ctx.connection('warehouse');
    throw new Error('cannot connect to ' + c.uri);
  })();
  task('missing', async (ctx) => ctx.variables.get('nowhere'))();
});
`;

let h: FloeHarness;
let runId: string;
const saved = { DB_PASSWORD: process.env.DB_PASSWORD, FLOE_CONN_ENV_API: process.env.FLOE_CONN_ENV_API };

before(async () => {
  // The task processes inherit this environment, as they inherit a scheduler's or a pod's.
  process.env.DB_PASSWORD = ENV_PW;
  process.env.FLOE_CONN_ENV_API = `http://svc:${ENV_CONN_PW}@api.internal:8443`;
  h = await startFloe('sqlite', { config: { secrets: { key: generateKey() } } });
  const o = storeOptions(h.rt.cfg);
  await addConnection(h.rt.db.kysely, o, 'warehouse', { ...parseConnectionUri(`postgres://etl:${PW}@wh.internal:5432/dw`), extra: { sslmode: 'require' } });
  await addConnection(h.rt.db.kysely, o, 'other', parseConnectionUri(`mysql://x:${OTHER_PW}@other`));
  await setVariable(h.rt.db.kysely, o, 'region', 'eu-west-1');
  await setVariable(h.rt.db.kysely, o, 'limits', { rows: 100 });
  await setVariable(h.rt.db.kysely, o, 'partner_token', TOKEN);
  h.writeDag('secrets.ts', dagSource);
  await h.parse();
  runId = await h.trigger('uses_secrets');
  await h.runUntilRunDone('uses_secrets', runId, 120_000);
});
after(async () => {
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
  await h?.close();
});

const logOf = (taskId: string) => readFileSync(taskLogPath(h.rt.cfg.logging.logsFolder!, { dagId: 'uses_secrets', taskId, runId, mapIndex: -1 }, 1), 'utf8');
const SECRETS = [PW, encodeURIComponent(PW), OTHER_PW, TOKEN, ENV_PW, RUNTIME, ENV_CONN_PW];
const assertMasked = (text: string, what: string) => {
  for (const s of SECRETS) assert.ok(!text.includes(s), `${what} contains ${s}:\n${text}`);
};

test('a function task reads variables and connections from the database and the environment', async () => {
  const tis = await h.tis('uses_secrets', runId);
  assert.equal(tis.get('read')?.state, 'success', tis.get('read')?.reason ?? '');
  const x = await h.rt.db.kysely.selectFrom('xcom').select('value').where('dag_id', '=', 'uses_secrets').where('task_id', '=', 'read').executeTakeFirstOrThrow();
  assert.deepEqual(JSON.parse(x.value), { region: 'eu-west-1', limits: { rows: 100 }, fallback: 'fallback', host: 'wh.internal', port: 5432, extra: { sslmode: 'require' }, envHost: 'api.internal' });
});

test('its log shows *** for every secret, in plain text, URIs, JSON, the environment and registered values', () => {
  const log = logOf('read');
  assertMasked(log, 'the log of read');
  assert.match(log, /password is \*\*\*, token \*\*\*/);
  assert.match(log, /uri postgres:\/\/etl:\*\*\*@wh\.internal:5432\/dw\?sslmode=require/);
  assert.match(log, /"password":"\*\*\*"/);
  assert.match(log, /env db password \*\*\*, env connection password \*\*\*/);
  assert.match(log, /the other connection has \*\*\*/);
  assert.match(log, /registered \*\*\*/);
});

test('a shell task: templates render secrets, the rendered command and a secret split over two writes are masked', async () => {
  const tis = await h.tis('uses_secrets', runId);
  assert.equal(tis.get('sh')?.state, 'success', tis.get('sh')?.reason ?? '');
  const log = logOf('sh');
  assertMasked(log, 'the log of sh');
  assert.match(log, /running command: echo "rendered \*\*\* in eu-west-1 with 100"/);
  assert.match(log, /^rendered \*\*\* in eu-west-1 with 100$/m);
  assert.match(log, /^split: \*\*\* done$/m);
  assert.match(log, /^\*\*\*$/m, 'DB_PASSWORD on standard error');
  assert.match(log, /INFO try 1 succeeded; returned "split: \*\*\* done"/, 'the XCom is the whole last line (not the last chunk), masked in the log');
});

test('failure reasons are masked; a missing variable names where it was looked for', async () => {
  const tis = await h.tis('uses_secrets', runId);
  assert.equal(tis.get('fails')?.state, 'failed');
  assert.equal(tis.get('fails')?.reason, 'Error: cannot connect to postgres://etl:***@wh.internal:5432/dw?sslmode=require');
  const history = await h.history('uses_secrets', runId);
  assertMasked(JSON.stringify(history), 'the try history');
  assertMasked(logOf('fails'), 'the log of fails');
  assert.match(tis.get('missing')?.reason ?? '', /variable "nowhere" is not set \(looked in FLOE_VAR_NOWHERE, AIRFLOW_VAR_NOWHERE, the metadata database\)/);
  // Nothing the scheduler stored about the run holds a secret either.
  const rows = await h.rt.db.kysely.selectFrom('task_instance').selectAll().where('dag_id', '=', 'uses_secrets').execute();
  assertMasked(JSON.stringify(rows), 'task_instance rows');
  void path;
});
