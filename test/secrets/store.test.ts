// Variables and connections in the metadata database, on SQLite and PostgreSQL: encrypted at rest (the database
// file never holds a password), refused without a key unless allowed, key rotation with two keys and the
// re-encrypt step, imports and exports.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { addConnection, allConnections, getConnection, listConnections, rotateSecrets, scrubFreedPages, updateConnection } from '../../src/core-queries/connections.ts';
import { exportVariables, getVariable, importVariables, listVariables, setVariable } from '../../src/core-queries/variables.ts';
import { parseConnectionUri } from '../../src/secrets/connection.ts';
import { generateKey } from '../../src/secrets/crypto.ts';
import { storeOptions } from '../../src/secrets/settings.ts';
import { dialects, type FloeHarness, startFloe } from '../helpers/floe.ts';

const PASSWORD = 'Tr0ub4dor&3-at-rest';
const TOKEN = 'tok-at-rest-7f3a9c';

for (const dialect of await dialects()) {
  describe(`variables and connections on ${dialect}`, () => {
    let h: FloeHarness;
    const k1 = generateKey();
    const k2 = generateKey();
    const opts = (keys: string[], allowPlaintext = false) => storeOptions({ secrets: { ...h.rt.cfg.secrets, key: keys, allowPlaintext } });

    before(async () => {
      h = await startFloe(dialect, { config: { secrets: { key: k1 } } });
    });
    after(() => h?.close());

    /** Every byte the database holds (SQLite: the file and its WAL), or every stored value (PostgreSQL). */
    async function rawDatabase(): Promise<string> {
      if (dialect === 'sqlite') {
        const file = path.join(h.home, 'floe.db');
        return [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f).toString('latin1')).join('');
      }
      const rows = [...(await h.rt.db.kysely.selectFrom('connection').selectAll().execute()), ...(await h.rt.db.kysely.selectFrom('variable').selectAll().execute())];
      return JSON.stringify(rows);
    }

    test('a connection password and a sensitive variable are never stored in clear', async () => {
      const o = storeOptions(h.rt.cfg);
      await addConnection(h.rt.db.kysely, o, 'warehouse', { ...parseConnectionUri(`postgres://etl:${encodeURIComponent(PASSWORD)}@wh.internal:5432/dw`), extra: { api_token: TOKEN, sslmode: 'require' } });
      await setVariable(h.rt.db.kysely, o, 'partner_api_key', { key: TOKEN });
      await setVariable(h.rt.db.kysely, o, 'region', 'eu-west-1', 'where we run');
      const raw = await rawDatabase();
      assert.ok(!raw.includes(PASSWORD) && !raw.includes(encodeURIComponent(PASSWORD)), 'the password is not in the database');
      assert.ok(!raw.includes(TOKEN), 'the token is not in the database');
      const c = await getConnection(h.rt.db.kysely, o, 'warehouse');
      assert.equal(c?.password, PASSWORD);
      assert.deepEqual(c?.extra, { api_token: TOKEN, sslmode: 'require' });
      assert.deepEqual((await getVariable(h.rt.db.kysely, o, 'partner_api_key'))?.value, { key: TOKEN });
      const listed = await listConnections(h.rt.db.kysely, o);
      assert.deepEqual(
        listed.rows.map((r) => [r.connId, r.hasPassword, r.encrypted, 'password' in r]),
        [['warehouse', true, true, false]],
      );
      const vars = await listVariables(h.rt.db.kysely, o);
      assert.deepEqual(
        vars.rows.map((v) => [v.key, v.sensitive, v.encrypted, v.description]),
        [
          ['partner_api_key', true, true, null],
          ['region', false, true, 'where we run'],
        ],
      );
    });

    test('without a key a password is refused with how to make one, unless plaintext is allowed', async () => {
      const none = opts([]);
      await assert.rejects(
        addConnection(h.rt.db.kysely, none, 'nokey', parseConnectionUri('http://u:some-password@h')),
        /connection nokey: cannot store its password: no encryption key is configured: make a key with "floe secrets generate-key" .* or set secrets.allowPlaintext: true/,
      );
      await assert.rejects(setVariable(h.rt.db.kysely, none, 'db_password', 'x'), /variable db_password: its key looks sensitive/);
      await addConnection(h.rt.db.kysely, none, 'nopass', parseConnectionUri('http://h:80'));
      await setVariable(h.rt.db.kysely, none, 'plain_setting', 42);
      await addConnection(h.rt.db.kysely, opts([], true), 'legacy', parseConnectionUri('http://u:legacy-plain-pass@h'));
      const row = await h.rt.db.kysely.selectFrom('connection').selectAll().where('conn_id', '=', 'legacy').executeTakeFirstOrThrow();
      assert.deepEqual([row.password, row.is_encrypted], ['legacy-plain-pass', 0]);
      // A process without the key cannot read encrypted values, and says which key they need.
      await assert.rejects(getConnection(h.rt.db.kysely, none, 'warehouse'), /connection warehouse: encrypted with key [0-9a-f]{8} and no key is configured/);
    });

    test('key rotation: two keys are accepted, rotate re-encrypts everything with the first, the old key can go', async () => {
      const both = opts([k2, k1]);
      // Before rotating, values written with k1 read with [k2, k1]; new writes use k2.
      assert.equal((await getConnection(h.rt.db.kysely, both, 'warehouse'))?.password, PASSWORD);
      await updateConnection(h.rt.db.kysely, both, 'warehouse', { host: 'wh2.internal' });
      const r = await rotateSecrets(h.rt.db.kysely, both);
      assert.ok(r.variables >= 2 && r.connections >= 1, JSON.stringify(r));
      assert.ok(r.newlyEncrypted >= 2, 'the unencrypted legacy password and plain variable got encrypted');
      const only2 = opts([k2]);
      const c = await getConnection(h.rt.db.kysely, only2, 'warehouse');
      assert.deepEqual([c?.password, c?.host], [PASSWORD, 'wh2.internal']);
      assert.equal((await getConnection(h.rt.db.kysely, only2, 'legacy'))?.password, 'legacy-plain-pass');
      assert.equal((await getVariable(h.rt.db.kysely, only2, 'region'))?.value, 'eu-west-1');
      await assert.rejects(getConnection(h.rt.db.kysely, opts([k1]), 'warehouse'), /which is not among the configured keys/);
      assert.deepEqual(await rotateSecrets(h.rt.db.kysely, only2), { variables: 0, connections: 0, newlyEncrypted: 0 }, 'nothing left to rotate');
      // What `floe secrets rotate` does after encrypting values that were stored in clear.
      assert.equal(await scrubFreedPages(h.rt.db), null);
      assert.ok(!(await rawDatabase()).includes('legacy-plain-pass'));
    });

    test('import and export of variables and connections', async () => {
      const o = opts([k2]);
      const r = await importVariables(h.rt.db.kysely, o, { a: 1, region: 'us', nested: { x: [1, 2] } }, 'skip');
      assert.deepEqual(r, { created: ['a', 'nested'], updated: [], skipped: ['region'] });
      await assert.rejects(importVariables(h.rt.db.kysely, o, { 'bad key': 1 }), /variable key: expected letters, digits, _ \. - only/);
      await assert.rejects(importVariables(h.rt.db.kysely, o, { a: 2 }, 'fail'), /variables already exist: a/);
      const all = await exportVariables(h.rt.db.kysely, o);
      assert.deepEqual([all.a, all.region, all.nested], [1, 'eu-west-1', { x: [1, 2] }]);
      const conns = await allConnections(h.rt.db.kysely, o);
      assert.equal(conns.find((c) => c.connId === 'warehouse')?.password, PASSWORD);
    });
  });
}
