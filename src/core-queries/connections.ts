// Connections in the metadata database, shared by the CLI, the API and the task runner. Passwords (and extras,
// which often hold tokens) are stored encrypted when a key is configured; without one, a password or a
// sensitive extra field is refused unless `secrets.allowPlaintext` says otherwise.
import type { Kysely } from 'kysely';
import type { ConnectionTable, Database } from '../db/schema.ts';
import { checkId, type ConnectionFields, type ConnectionRecord, connectionFromFields } from '../secrets/connection.ts';
import { HOW_TO_MAKE_A_KEY, SecretsKeyError } from '../secrets/crypto.ts';
import { isSensitiveName } from '../secrets/masker.ts';
import type { SecretStoreOptions } from '../secrets/settings.ts';
import { nowIso } from '../util/time.ts';
import { applyPage } from './dags.ts';
import { conflict, invalid, notFound } from './errors.ts';
import type { Page, Paged } from './page.ts';
import { asQueryError } from './variables.ts';

type Db = Kysely<Database>;

const aad = (connId: string, field: 'password' | 'extra') => `connection:${connId}:${field}`;

/** A connection as listed: everything but the password, which is only said to exist. */
export interface ConnectionSummary extends Omit<ConnectionRecord, 'password' | 'extra'> {
  hasPassword: boolean;
  /** The extra; undefined when it cannot be decrypted here (`error` says why). */
  extra: Record<string, unknown> | null | undefined;
  encrypted: boolean;
  error?: string;
}

type Sealed = Pick<ConnectionTable, 'password' | 'extra' | 'is_encrypted' | 'is_extra_encrypted'>;

function seal(o: SecretStoreOptions, connId: string, c: ConnectionFields): Sealed {
  const key = o.keyring.primaryId !== null;
  const refuse = (what: string) =>
    new SecretsKeyError(`connection ${connId}: cannot store ${what}: no encryption key is configured: ${HOW_TO_MAKE_A_KEY}; or set secrets.allowPlaintext: true to store it unencrypted`);
  const extraJson = c.extra && Object.keys(c.extra).length ? JSON.stringify(c.extra) : null;
  if (!key && c.password !== null && !o.allowPlaintext) throw refuse('its password');
  const sensitiveExtra = extraJson !== null && Object.keys(c.extra!).some((k) => isSensitiveName(k, o.sensitiveNames));
  if (!key && sensitiveExtra && !o.allowPlaintext) throw refuse(`its extra field ${Object.keys(c.extra!).find((k) => isSensitiveName(k, o.sensitiveNames))}`);
  return {
    password: c.password === null ? null : key ? o.keyring.encrypt(c.password, aad(connId, 'password')) : c.password,
    is_encrypted: c.password !== null && key ? 1 : 0,
    extra: extraJson === null ? null : key ? o.keyring.encrypt(extraJson, aad(connId, 'extra')) : extraJson,
    is_extra_encrypted: extraJson !== null && key ? 1 : 0,
  };
}

function openRow(o: SecretStoreOptions, row: ConnectionTable): ConnectionRecord {
  const password = row.password === null ? null : row.is_encrypted ? o.keyring.decrypt(row.password, aad(row.conn_id, 'password')) : row.password;
  const extraJson = row.extra === null ? null : row.is_extra_encrypted ? o.keyring.decrypt(row.extra, aad(row.conn_id, 'extra')) : row.extra;
  return { ...fieldsOf(row), password, extra: extraJson === null ? null : (JSON.parse(extraJson) as Record<string, unknown>) };
}

const fieldsOf = (row: ConnectionTable) => ({
  connId: row.conn_id,
  connType: row.conn_type,
  description: row.description,
  host: row.host,
  port: row.port,
  login: row.login,
  schema: row.schema,
});

function summary(o: SecretStoreOptions, row: ConnectionTable): ConnectionSummary {
  const base = { ...fieldsOf(row), hasPassword: row.password !== null, encrypted: row.is_encrypted === 1 || row.is_extra_encrypted === 1 };
  try {
    const extraJson = row.extra === null ? null : row.is_extra_encrypted ? o.keyring.decrypt(row.extra, aad(row.conn_id, 'extra')) : row.extra;
    return { ...base, extra: extraJson === null ? null : (JSON.parse(extraJson) as Record<string, unknown>) };
  } catch (e) {
    return { ...base, extra: undefined, error: `connection ${row.conn_id}: extra: ${(e as Error).message}` };
  }
}

/** Adds a connection; one with that id is a conflict unless `overwrite`. */
export async function addConnection(db: Db, o: SecretStoreOptions, connId: string, c: ConnectionFields, opts: { overwrite?: boolean } = {}): Promise<{ created: boolean }> {
  let sealed: Sealed;
  try {
    checkId(connId, 'connection id');
    sealed = seal(o, connId, c);
  } catch (e) {
    asQueryError(e);
  }
  const now = nowIso();
  return db.transaction().execute(async (trx) => {
    const exists = await trx.selectFrom('connection').select('conn_id').where('conn_id', '=', connId).executeTakeFirst();
    const row = { conn_type: c.connType, description: c.description, host: c.host, port: c.port, login: c.login, schema: c.schema, ...sealed, updated_at: now };
    if (exists) {
      if (!opts.overwrite) throw conflict(`connection "${connId}" already exists (delete it first, or change it)`);
      await trx.updateTable('connection').set(row).where('conn_id', '=', connId).execute();
      return { created: false };
    }
    await trx.insertInto('connection').values({ conn_id: connId, ...row, created_at: now }).execute();
    return { created: true };
  });
}

/** The fields of a change: undefined keeps a field, null clears it. */
export type ConnectionPatch = { [K in keyof ConnectionFields]?: ConnectionFields[K] | null };

/** Changes some fields of a connection (the others stay, the password included). */
export async function updateConnection(db: Db, o: SecretStoreOptions, connId: string, patch: ConnectionPatch): Promise<void> {
  const current = await getConnection(db, o, connId);
  if (!current) throw notFound(`no connection "${connId}"`);
  const merged: Record<string, unknown> = { ...current };
  for (const [k, v] of Object.entries(patch)) if (v !== undefined) merged[k] = v;
  let c: ConnectionFields;
  try {
    c = connectionFromFields(merged);
  } catch (e) {
    asQueryError(e);
  }
  await addConnection(db, o, connId, c, { overwrite: true });
}

/** The stored connection, decrypted; null when there is none. Throws (invalid) when it cannot be decrypted. */
export async function getConnection(db: Db, o: SecretStoreOptions, connId: string): Promise<ConnectionRecord | null> {
  const row = await db.selectFrom('connection').selectAll().where('conn_id', '=', connId).executeTakeFirst();
  if (!row) return null;
  try {
    return openRow(o, row);
  } catch (e) {
    if (e instanceof SecretsKeyError || e instanceof SyntaxError) throw invalid(`connection ${connId}: ${e.message}`);
    throw e;
  }
}

/** The connection without its password, for showing. */
export async function getConnectionSummary(db: Db, o: SecretStoreOptions, connId: string): Promise<ConnectionSummary | null> {
  const row = await db.selectFrom('connection').selectAll().where('conn_id', '=', connId).executeTakeFirst();
  return row ? summary(o, row) : null;
}

export async function listConnections(db: Db, o: SecretStoreOptions, page: Page = {}): Promise<Paged<ConnectionSummary>> {
  const [rows, total] = await Promise.all([
    applyPage(db.selectFrom('connection').selectAll().orderBy('conn_id'), page).execute(),
    db.selectFrom('connection').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map((r) => summary(o, r)), total: Number(total.n) };
}

export async function deleteConnection(db: Db, connId: string): Promise<boolean> {
  const r = await db.deleteFrom('connection').where('conn_id', '=', connId).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Every stored connection, decrypted (for export). */
export async function allConnections(db: Db, o: SecretStoreOptions): Promise<ConnectionRecord[]> {
  const rows = await db.selectFrom('connection').selectAll().orderBy('conn_id').execute();
  return rows.map((r) => {
    try {
      return openRow(o, r);
    } catch (e) {
      throw invalid(`connection ${r.conn_id}: ${(e as Error).message}`);
    }
  });
}

/** Adds many connections (an import); all are checked before any is written. */
export async function importConnections(
  db: Db,
  o: SecretStoreOptions,
  conns: [string, ConnectionFields][],
  onExisting: 'overwrite' | 'skip' | 'fail' = 'fail',
): Promise<{ created: string[]; updated: string[]; skipped: string[] }> {
  try {
    for (const [id, c] of conns) seal(o, checkId(id, 'connection id'), c);
  } catch (e) {
    asQueryError(e);
  }
  const existing = new Set((await db.selectFrom('connection').select('conn_id').execute()).map((r) => r.conn_id));
  const clash = conns.filter(([id]) => existing.has(id)).map(([id]) => id);
  if (onExisting === 'fail' && clash.length) throw conflict(`connections already exist: ${clash.join(', ')} (use --on-existing overwrite or skip)`);
  const out = { created: [] as string[], updated: [] as string[], skipped: [] as string[] };
  for (const [id, c] of conns) {
    if (existing.has(id) && onExisting === 'skip') {
      out.skipped.push(id);
      continue;
    }
    const { created } = await addConnection(db, o, id, c, { overwrite: true });
    (created ? out.created : out.updated).push(id);
  }
  return out;
}

export interface RotateResult {
  variables: number;
  connections: number;
  /** Values that were stored unencrypted and are now encrypted. */
  newlyEncrypted: number;
}

/**
 * Re-encrypts with the first key every value encrypted with another key, and encrypts values stored
 * unencrypted (allowed by secrets.allowPlaintext before a key existed). Each row is written on its own; a row
 * that cannot be decrypted with the configured keys is left as it is and named in the error thrown at the end.
 */
export async function rotateSecrets(db: Db, o: SecretStoreOptions): Promise<RotateResult> {
  const k = o.keyring;
  if (!k.primaryId) throw invalid(`no encryption key is configured: ${HOW_TO_MAKE_A_KEY}`);
  const out: RotateResult = { variables: 0, connections: 0, newlyEncrypted: 0 };
  const failed: string[] = [];
  const stale = (v: string | null, enc: number) => v !== null && (!enc || k.keyIdOf(v) !== k.primaryId);
  for (const row of await db.selectFrom('variable').selectAll().execute()) {
    if (!stale(row.val, row.is_encrypted)) continue;
    try {
      const json = row.is_encrypted ? k.decrypt(row.val, `variable:${row.key}`) : row.val;
      await db.updateTable('variable').set({ val: k.encrypt(json, `variable:${row.key}`), is_encrypted: 1 }).where('key', '=', row.key).where('val', '=', row.val).execute();
    } catch (e) {
      if (!(e instanceof SecretsKeyError)) throw e;
      failed.push(`variable ${row.key}: ${e.message}`);
      continue;
    }
    out.variables++;
    if (!row.is_encrypted) out.newlyEncrypted++;
  }
  for (const row of await db.selectFrom('connection').selectAll().execute()) {
    const pw = stale(row.password, row.is_encrypted);
    const ex = stale(row.extra, row.is_extra_encrypted);
    if (!pw && !ex) continue;
    try {
      const c = openRow(o, row);
      const set: Partial<ConnectionTable> = {};
      if (pw) Object.assign(set, { password: k.encrypt(c.password!, aad(row.conn_id, 'password')), is_encrypted: 1 });
      if (ex) Object.assign(set, { extra: k.encrypt(JSON.stringify(c.extra), aad(row.conn_id, 'extra')), is_extra_encrypted: 1 });
      await db.updateTable('connection').set(set).where('conn_id', '=', row.conn_id).where('updated_at', '=', row.updated_at).execute();
    } catch (e) {
      if (!(e instanceof SecretsKeyError)) throw e;
      failed.push(`connection ${row.conn_id}: ${e.message}`);
      continue;
    }
    out.connections++;
    if ((pw && !row.is_encrypted) || (ex && !row.is_extra_encrypted)) out.newlyEncrypted++;
  }
  if (failed.length)
    throw invalid(`re-encrypted ${out.variables} variables and ${out.connections} connections, but ${failed.length} could not be decrypted with the configured keys: ${failed.join('; ')}`);
  return out;
}

/**
 * After values stored unencrypted were encrypted: on SQLite the old text stays in freed pages and WAL frames
 * until the file is rebuilt, so rebuild it (VACUUM) and empty the WAL. Needs a moment without other writers;
 * returns why it could not, or null. PostgreSQL's old row versions go with its own (auto)vacuum.
 */
export async function scrubFreedPages(db: { kysely: Db; dialect: string }): Promise<string | null> {
  if (db.dialect !== 'sqlite') return null;
  const { sql } = await import('kysely');
  try {
    await sql`vacuum`.execute(db.kysely);
    const r = await sql<{ busy: number }>`pragma wal_checkpoint(truncate)`.execute(db.kysely);
    return r.rows[0]?.busy ? 'the WAL file is in use by another process (it is emptied at its next checkpoint)' : null;
  } catch (e) {
    return (e as Error).message;
  }
}
