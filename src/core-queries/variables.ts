// Variables in the metadata database: key → JSON value, shared by the CLI, the API and the task runner. With a
// key configured every value is stored encrypted (as Airflow does with a Fernet key); without one, a variable
// whose key looks sensitive is refused unless `secrets.allowPlaintext` says otherwise.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { checkId, SecretInputError } from '../secrets/connection.ts';
import { HOW_TO_MAKE_A_KEY, SecretsKeyError } from '../secrets/crypto.ts';
import { isSensitiveName } from '../secrets/masker.ts';
import type { SecretStoreOptions } from '../secrets/settings.ts';
import { nowIso } from '../util/time.ts';
import { applyPage } from './dags.ts';
import { invalid, notFound } from './errors.ts';
import type { Page, Paged } from './page.ts';

type Db = Kysely<Database>;

/** Largest value, as JSON text. */
export const MAX_VARIABLE_BYTES = 256 * 1024;

export interface VariableRecord {
  key: string;
  /** The value; undefined when it cannot be decrypted here (`error` says why). */
  value: unknown;
  description: string | null;
  sensitive: boolean;
  encrypted: boolean;
  error?: string;
  createdAt: string;
  updatedAt: string;
}

const aad = (key: string) => `variable:${key}`;

/** Input errors and key errors as the query layer's `invalid` (the API answers 400, the CLI prints the line). */
export function asQueryError(e: unknown): never {
  if (e instanceof SecretInputError || e instanceof SecretsKeyError) throw invalid(e.message);
  throw e;
}

/** The JSON text to store for a value; refuses what JSON cannot hold and what is too large. */
function valueJson(key: string, value: unknown): string {
  if (value === undefined) throw new SecretInputError(`variable ${key}: expected a JSON value`);
  const json = JSON.stringify(value);
  if (Buffer.byteLength(json) > MAX_VARIABLE_BYTES) throw new SecretInputError(`variable ${key}: the value is larger than ${MAX_VARIABLE_BYTES / 1024} KiB as JSON`);
  return json;
}

function sealValue(o: SecretStoreOptions, key: string, json: string): { val: string; is_encrypted: number } {
  if (o.keyring.primaryId) return { val: o.keyring.encrypt(json, aad(key)), is_encrypted: 1 };
  if (isSensitiveName(key, o.sensitiveNames) && !o.allowPlaintext)
    throw new SecretsKeyError(
      `variable ${key}: its key looks sensitive, so it is stored encrypted, and no encryption key is configured: ${HOW_TO_MAKE_A_KEY}; or set secrets.allowPlaintext: true to store it unencrypted`,
    );
  return { val: json, is_encrypted: 0 };
}

function openValue(o: SecretStoreOptions, row: { key: string; val: string; is_encrypted: number }): unknown {
  const json = row.is_encrypted ? o.keyring.decrypt(row.val, aad(row.key)) : row.val;
  return JSON.parse(json);
}

function record(o: SecretStoreOptions, row: Database['variable']): VariableRecord {
  const base = {
    key: row.key,
    description: row.description,
    sensitive: isSensitiveName(row.key, o.sensitiveNames),
    encrypted: row.is_encrypted === 1,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  try {
    return { ...base, value: openValue(o, row) };
  } catch (e) {
    return { ...base, value: undefined, error: `variable ${row.key}: ${(e as Error).message}` };
  }
}

/** Creates or replaces a variable. `description` undefined keeps the current one, null clears it. */
export async function setVariable(db: Db, o: SecretStoreOptions, key: string, value: unknown, description?: string | null): Promise<{ created: boolean }> {
  let sealed: { val: string; is_encrypted: number };
  try {
    checkId(key, 'variable key');
    sealed = sealValue(o, key, valueJson(key, value));
  } catch (e) {
    asQueryError(e);
  }
  const now = nowIso();
  return db.transaction().execute(async (trx) => {
    const existing = await trx.selectFrom('variable').select('key').where('key', '=', key).executeTakeFirst();
    if (existing) {
      await trx
        .updateTable('variable')
        .set({ ...sealed, updated_at: now, ...(description !== undefined ? { description } : {}) })
        .where('key', '=', key)
        .execute();
      return { created: false };
    }
    await trx.insertInto('variable').values({ key, ...sealed, description: description ?? null, created_at: now, updated_at: now }).execute();
    return { created: true };
  });
}

/** The stored variable, decrypted; null when there is none. Throws when it cannot be decrypted. */
export async function getVariable(db: Db, o: SecretStoreOptions, key: string): Promise<VariableRecord | null> {
  const row = await db.selectFrom('variable').selectAll().where('key', '=', key).executeTakeFirst();
  if (!row) return null;
  const r = record(o, row);
  if (r.error) throw invalid(r.error);
  return r;
}

export async function requireVariable(db: Db, o: SecretStoreOptions, key: string): Promise<VariableRecord> {
  const r = await getVariable(db, o, key);
  if (!r) throw notFound(`no variable "${key}"`);
  return r;
}

export async function listVariables(db: Db, o: SecretStoreOptions, page: Page = {}): Promise<Paged<VariableRecord>> {
  const [rows, total] = await Promise.all([applyPage(db.selectFrom('variable').selectAll().orderBy('key'), page).execute(), db.selectFrom('variable').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()]);
  return { rows: rows.map((r) => record(o, r)), total: Number(total.n) };
}

export async function deleteVariable(db: Db, key: string): Promise<boolean> {
  const r = await db.deleteFrom('variable').where('key', '=', key).executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

export type OnExisting = 'overwrite' | 'skip' | 'fail';

/** Variables from an object `{ key: value }` (Airflow's export format). All are checked before any is written. */
export async function importVariables(db: Db, o: SecretStoreOptions, data: unknown, onExisting: OnExisting = 'overwrite'): Promise<{ created: string[]; updated: string[]; skipped: string[] }> {
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw invalid('expected a JSON object of variables, like {"region": "eu", "limits": {"rows": 100}}');
  const entries = Object.entries(data as Record<string, unknown>);
  try {
    for (const [k, v] of entries) sealValue(o, checkId(k, 'variable key'), valueJson(k, v));
  } catch (e) {
    asQueryError(e);
  }
  const existing = new Set((await db.selectFrom('variable').select('key').execute()).map((r) => r.key));
  const clash = entries.filter(([k]) => existing.has(k)).map(([k]) => k);
  if (onExisting === 'fail' && clash.length) throw invalid(`variables already exist: ${clash.join(', ')} (use --on-existing overwrite or skip)`);
  const out = { created: [] as string[], updated: [] as string[], skipped: [] as string[] };
  for (const [k, v] of entries) {
    if (existing.has(k) && onExisting === 'skip') {
      out.skipped.push(k);
      continue;
    }
    const { created } = await setVariable(db, o, k, v);
    (created ? out.created : out.updated).push(k);
  }
  return out;
}

/** Every stored variable as `{ key: value }`, decrypted. Throws when one cannot be decrypted. */
export async function exportVariables(db: Db, o: SecretStoreOptions): Promise<Record<string, unknown>> {
  const { rows } = await listVariables(db, o);
  const bad = rows.find((r) => r.error);
  if (bad) throw invalid(bad.error!);
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}
