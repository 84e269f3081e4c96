// The pieces of #18 without a database: encryption and keys, masking (also of a secret split over two writes),
// connection URIs as Airflow reads and writes them, the secrets config section, environment lookups.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { loadConfig } from '../../src/config/load.ts';
import { connectionFromAirflowJson, connectionUri, parseConnectionUri, parseConnectionValue } from '../../src/secrets/connection.ts';
import { generateKey, keyProblem, makeKeyring, SecretsKeyError } from '../../src/secrets/crypto.ts';
import { maskEnvironment, SecretsLookup } from '../../src/secrets/lookup.ts';
import { globalMasker, isSensitiveName, MaskingStream, SecretsMasker } from '../../src/secrets/masker.ts';
import { TaskLog } from '../../src/worker/task-log.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'floe-secrets-unit-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('encryption', () => {
  test('a value round-trips, is bound to its row, and names the key it needs', () => {
    const [k1, k2] = [generateKey(), generateKey()];
    const ring = makeKeyring([k1]);
    const sealed = ring.encrypt('hunter2-password', 'connection:db:password');
    assert.doesNotMatch(sealed, /hunter2/);
    assert.match(sealed, /^v1:[0-9a-f]{8}:/);
    assert.equal(ring.decrypt(sealed, 'connection:db:password'), 'hunter2-password');
    assert.notEqual(ring.encrypt('x', 'a'), ring.encrypt('x', 'a'), 'a fresh IV each time');
    assert.throws(() => ring.decrypt(sealed, 'connection:other:password'), /does not decrypt .* belongs to another row/);
    const tampered = sealed.slice(0, -6) + (sealed.at(-6) === 'A' ? 'B' : 'A') + sealed.slice(-5);
    assert.throws(() => ring.decrypt(tampered, 'connection:db:password'), SecretsKeyError);
    // Rotation: the new key first; values of the old key still decrypt, new ones use the new key.
    const rotated = makeKeyring([k2, k1]);
    assert.equal(rotated.decrypt(sealed, 'connection:db:password'), 'hunter2-password');
    assert.equal(rotated.keyIdOf(rotated.encrypt('v', 'a')), rotated.primaryId);
    assert.notEqual(rotated.primaryId, ring.primaryId);
    assert.throws(() => makeKeyring([k2]).decrypt(sealed, 'connection:db:password'), new RegExp(`encrypted with key ${ring.primaryId}, which is not among the configured keys`));
    assert.throws(() => makeKeyring([]).encrypt('x', 'a'), /no encryption key is configured: make a key with "floe secrets generate-key"/);
  });

  test('keys are base64 of 32 bytes; the config names a bad one without showing it', () => {
    assert.equal(keyProblem(generateKey()), null);
    assert.equal(keyProblem(Buffer.alloc(32, 7).toString('base64url')), null, 'URL-safe base64 (a Fernet key) works too');
    assert.match(keyProblem('c2hvcnQ=')!, /32-byte key .* this one is 5 bytes/);
    const key = generateKey();
    assert.deepEqual(loadConfig({ env: { FLOE__SECRETS__KEY: `${key}, ${generateKey()}` }, cwd: dir }).secrets.key.length, 2);
    assert.throws(
      () => loadConfig({ env: { FLOE__SECRETS__KEY: 'not-a-key-but-a-secret-anyway' }, cwd: dir }),
      (e: Error) => /FLOE__SECRETS__KEY=\*\*\*: secrets\.key\.0: expected a base64-encoded 32-byte key/.test(e.message) && !e.message.includes('not-a-key'),
    );
    assert.throws(() => loadConfig({ env: { FLOE__SECRETS__MIN_MASK_LENGTH: '0' }, cwd: dir }), /secrets\.minMaskLength/);
  });
});

describe('masking', () => {
  test('secrets are masked inside longer text, JSON, URIs and per line; short values are not', () => {
    const m = new SecretsMasker();
    m.add('pa"ss/word&1');
    m.add('abc');
    m.add('-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG\n-----END KEY-----');
    assert.equal(m.mask('connecting with pa"ss/word&1 now'), 'connecting with *** now');
    assert.equal(m.mask(JSON.stringify({ password: 'pa"ss/word&1' })), '{"password":"***"}');
    assert.equal(m.mask(`postgres://u:${encodeURIComponent('pa"ss/word&1')}@h/db`), 'postgres://u:***@h/db');
    assert.equal(m.mask('abc is too short to hide'), 'abc is too short to hide');
    assert.equal(m.mask('line MIIEvQIBADANBgkqhkiG'), 'line ***');
    assert.deepEqual(m.redact({ a: ['x pa"ss/word&1'], n: 1 }), { a: ['x ***'], n: 1 });
  });

  test('objects register the values under sensitive keys (all of them under a sensitive name)', () => {
    const m = new SecretsMasker();
    m.add({ region: 'europe-west', nested: { api_token: 'tok-123456' }, Password: 'p4ssw0rd!' });
    assert.equal(m.mask('europe-west tok-123456 p4ssw0rd!'), 'europe-west *** ***');
    m.add({ anything: 'value-under-secret-name' }, 'db_secret');
    assert.equal(m.mask('value-under-secret-name'), '***');
    assert.ok(isSensitiveName('DB_PASSWORD') && isSensitiveName('my-api-key') && isSensitiveName('GITHUB_TOKEN') && !isSensitiveName('region'));
  });

  test('a secret split over two writes of a stream is masked; other text is not held back', () => {
    const m = new SecretsMasker();
    m.add('hunter2-secret');
    const s = new MaskingStream(m);
    let out = s.write('password is hunt');
    assert.equal(out, 'password is ', 'the start of the secret waits');
    out += s.write('er2-secret, ok\nnext line\n');
    assert.equal(out, 'password is ***, ok\nnext line\n');
    assert.equal(s.write('plain text ends with h'), 'plain text ends with ', '"h" might start the secret');
    assert.equal(s.end(), 'h');
    // Byte by byte, with a multi-byte character before it.
    const t = new MaskingStream(m);
    const bytes = Buffer.from('é hunter2-secret é');
    let all = '';
    for (const b of bytes) all += t.write(Buffer.from([b]));
    all += t.end();
    assert.equal(all, 'é *** é');
  });

  test('a task log writes *** to its file and to standard output, for lines and raw chunks per channel', async () => {
    const m = new SecretsMasker();
    m.add('s3cr3t-value');
    const file = path.join(dir, 'masked', 'attempt=1.log');
    const log = new TaskLog(file);
    log.setMasker(m);
    log.line('INFO', 'value is', { password: 's3cr3t-value' });
    log.raw(Buffer.from('out: s3cr'), 'stdout');
    log.raw(Buffer.from('err: nothing\n'), 'stderr');
    log.raw(Buffer.from('3t-value\n'), 'stdout');
    await log.close();
    const text = readFileSync(file, 'utf8');
    assert.doesNotMatch(text, /s3cr3t/);
    assert.match(text, /INFO value is \{ password: '\*\*\*' \}/);
    // The stdout chunk that may begin a secret waits; the stderr chunk between is written meanwhile.
    assert.match(text, /out: err: nothing\n\*\*\*\n$/);
  });
});

describe('connection URIs, as Airflow', () => {
  test('fields from a URI, and back', () => {
    const c = parseConnectionUri('postgresql://alice:p%40ss%2Fw%3Ard@db.internal:5432/reports?sslmode=require&x=1&x=2');
    assert.deepEqual(c, { connType: 'postgres', description: null, host: 'db.internal', port: 5432, login: 'alice', password: 'p@ss/w:rd', schema: 'reports', extra: { sslmode: 'require', x: ['1', '2'] } });
    assert.equal(parseConnectionUri(connectionUri(c)).password, 'p@ss/w:rd');
    assert.deepEqual(parseConnectionUri(connectionUri(c)).extra, c.extra, 'a non-text extra travels as __extra__');
    const gcp = parseConnectionUri('google-cloud-platform://?__extra__=%7B%22project%22%3A+%22p%22%2C+%22n%22%3A+1%7D');
    assert.equal(gcp.connType, 'google_cloud_platform');
    assert.deepEqual(gcp.extra, { project: 'p', n: 1 });
    assert.equal(connectionUri({ ...gcp, extra: { project: 'p' } }), 'google-cloud-platform:///?project=p');
    assert.equal(connectionUri({ connType: 'redis', description: null, host: null, port: 6379, login: null, password: null, schema: null, extra: null }), 'redis://@:6379');
    assert.deepEqual(parseConnectionUri('redis://@:6379').port, 6379);
  });

  test('bad URIs name the problem and never show the password', () => {
    assert.throws(() => parseConnectionUri('not a uri'), /uri: expected a URI like postgres:/);
    assert.throws(
      () => parseConnectionUri('postgres://alice:my/secret@db:5432/x'),
      (e: Error) => /the port is not a number \(percent-encode reserved characters/.test(e.message) && !e.message.includes('my/secret'),
    );
    assert.throws(() => parseConnectionUri('postgres://alice:%zzsecret@db/x'), (e: Error) => /password: bad percent-encoding/.test(e.message) && !e.message.includes('zzsecret'));
    assert.throws(() => parseConnectionUri('postgres://db:70000/x'), /port: expected a port number from 0 to 65535/);
    assert.throws(() => parseConnectionValue('{"conn_type": "http", "hots": "x"}', 'FLOE_CONN_X'), /FLOE_CONN_X: hots: unknown field/);
    assert.deepEqual(connectionFromAirflowJson({ conn_type: 'http', host: 'h', port: '8080', extra: '{"a": 1}' }).extra, { a: 1 });
  });
});

describe('environment', () => {
  test('FLOE_VAR_/FLOE_CONN_ win over AIRFLOW_VAR_/AIRFLOW_CONN_; values are JSON when they parse', async () => {
    const cfg = loadConfig({ env: {}, cwd: dir });
    const env = {
      FLOE_VAR_LIMITS: '{"rows": 5}',
      AIRFLOW_VAR_LIMITS: '{"rows": 1}',
      AIRFLOW_VAR_REGION: 'eu-west',
      FLOE_CONN_WAREHOUSE: 'postgres://etl:wh-passw0rd@wh:5432/dw',
      AIRFLOW_CONN_API: '{"conn_type": "http", "host": "api.example.com", "password": "api-passw0rd"}',
    };
    const lookup = new SecretsLookup(cfg, null, env);
    assert.deepEqual(await lookup.variable('limits'), { value: { rows: 5 }, source: 'env FLOE_VAR_LIMITS' });
    assert.deepEqual(await lookup.variable('region'), { value: 'eu-west', source: 'env AIRFLOW_VAR_REGION' });
    assert.equal(await lookup.variable('missing'), null);
    assert.equal(lookup.variablePlaces('missing'), 'FLOE_VAR_MISSING, AIRFLOW_VAR_MISSING');
    const wh = await lookup.connection('warehouse');
    assert.equal(wh?.source, 'env FLOE_CONN_WAREHOUSE');
    assert.equal(wh?.value.password, 'wh-passw0rd');
    assert.equal(wh?.value.uri, 'postgres://etl:wh-passw0rd@wh:5432/dw');
    assert.equal((await lookup.connection('api'))?.value.host, 'api.example.com');
    // Reading a connection registers its password with the process's masker.
    assert.equal(globalMasker().mask('wh-passw0rd'), '***');
  });

  test('sensitive environment variables are masked, flags and small numbers are not', () => {
    const cfg = loadConfig({ env: {}, cwd: dir });
    maskEnvironment(cfg, { DB_PASSWORD: 'env-db-passw0rd', FEATURE_TOKEN_ENABLED: 'true', MY_SECRET_PORT: '5432', REGION: 'plain-value', AIRFLOW_CONN_X: 'http://u:conn-env-pass@h' });
    const m = globalMasker();
    assert.equal(m.mask('env-db-passw0rd conn-env-pass plain-value true 5432'), '*** *** plain-value true 5432');
  });
});
