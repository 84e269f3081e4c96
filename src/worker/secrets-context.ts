// What a try gets of variables, connections and masking: `ctx.variables.get`, `ctx.connection`, `ctx.mask`, and
// a task log that writes `***` for every secret this process knows. Known at the start of a try: the
// configuration's own secrets, sensitive environment variables, and every connection password and sensitive
// variable of the metadata database (re-read at most every 30 s by a warm process); then whatever the task
// reads or registers.
import type { Kysely } from 'kysely';
import { type LoadedConfig, loadConfig } from '../config/load.ts';
import type { Database } from '../db/schema.ts';
import { globalMasker, isSensitiveName } from '../secrets/masker.ts';
import { maskEnvironment, SecretsLookup } from '../secrets/lookup.ts';
import { configureMasker, storeOptions } from '../secrets/settings.ts';
import type { Connection, TaskSecrets } from '../sdk/secrets-types.ts';
import type { TaskLog } from './task-log.ts';

/** How long a warm process trusts the database's secrets it read for masking before reading them again. */
const PRELOAD_TTL_MS = 30_000;

export interface TrySecrets {
  /** The context fields (spread into the task's ctx). */
  ctx: TaskSecrets;
  /** Masks a text the try produced (its failure reason, what `floe tasks test` prints). */
  mask(text: string): string;
}

let configured: LoadedConfig | null = null;
let configError: Error | null = null;
let envMasked = false;
const preloaded = new WeakMap<object, { at: number; done: Promise<void> }>();

/** The configuration the runner was handed, else the one this process's environment gives (loaded once). */
function configOf(cfg: LoadedConfig | undefined): LoadedConfig | null {
  if (cfg) return cfg;
  if (!configured && !configError) {
    try {
      configured = loadConfig();
    } catch (e) {
      configError = e as Error;
    }
  }
  return configured;
}

/** Registers every connection password and sensitive variable of the database (those this process can decrypt). */
async function preload(db: Kysely<Database>, cfg: LoadedConfig, warn: (msg: string) => void): Promise<void> {
  const m = globalMasker();
  const o = storeOptions(cfg);
  try {
    const conns = await db.selectFrom('connection').select(['conn_id', 'password', 'is_encrypted', 'extra', 'is_extra_encrypted']).execute();
    for (const c of conns) {
      try {
        if (c.password !== null) m.add(c.is_encrypted ? o.keyring.decrypt(c.password, `connection:${c.conn_id}:password`) : c.password);
        if (c.extra !== null) m.add(JSON.parse(c.is_extra_encrypted ? o.keyring.decrypt(c.extra, `connection:${c.conn_id}:extra`) : c.extra));
      } catch {
        // Not decryptable here: the task cannot read it through Floe either.
      }
    }
    const names = cfg.secrets.sensitiveNames;
    const vars = await db
      .selectFrom('variable')
      .select(['key', 'val', 'is_encrypted'])
      .where((eb) => eb.or(names.map((n) => eb(eb.fn('lower', ['key']), 'like', `%${n.toLowerCase().replaceAll('-', '_')}%`))))
      .execute();
    for (const v of vars) {
      if (!isSensitiveName(v.key, names)) continue;
      try {
        m.add(JSON.parse(v.is_encrypted ? o.keyring.decrypt(v.val, `variable:${v.key}`) : v.val), v.key);
      } catch {
        /* as above */
      }
    }
  } catch (e) {
    warn(`secrets of the metadata database could not be read for masking: ${(e as Error).message}`);
  }
}

/**
 * Sets up masking for a try's log and returns its context fields. Never throws: a configuration that cannot be
 * loaded fails the try only when the task reads a variable or connection.
 */
export async function openTrySecrets(deps: { db: { kysely: Kysely<Database> }; cfg?: LoadedConfig }, log: TaskLog): Promise<TrySecrets> {
  const cfg = configOf(deps.cfg);
  const m = globalMasker();
  log.setMasker(m);
  if (cfg) {
    configureMasker(cfg);
    if (!envMasked) {
      maskEnvironment(cfg);
      envMasked = true;
    }
    const db = deps.db.kysely;
    let p = preloaded.get(db);
    if (!p || Date.now() - p.at > PRELOAD_TTL_MS) {
      p = { at: Date.now(), done: preload(db, cfg, (msg) => log.line('WARN', msg)) };
      preloaded.set(db, p);
    }
    await p.done;
  }
  const lookup = cfg ? new SecretsLookup(cfg, deps.db.kysely) : null;
  const need = (): SecretsLookup => {
    if (!lookup) throw new Error(`variables and connections are unavailable: the configuration could not be loaded: ${configError?.message}`);
    return lookup;
  };
  const ctx: TaskSecrets = {
    variables: {
      async get(key: string, ...fallback: unknown[]) {
        const found = await need().variable(key);
        if (found) return found.value;
        if (fallback.length) return fallback[0];
        throw new Error(`variable "${key}" is not set (looked in ${need().variablePlaces(key)}): set it with "floe variables set ${key} VALUE", or pass a default to ctx.variables.get`);
      },
    } as TaskSecrets['variables'],
    async connection(connId: string): Promise<Connection> {
      const found = await need().connection(connId);
      if (!found) throw new Error(`connection "${connId}" is not defined (looked in ${need().connectionPlaces(connId)}): add it with "floe connections add ${connId} --conn-uri …"`);
      const c = found.value;
      return { connId, connType: c.connType, description: c.description, host: c.host, port: c.port, login: c.login, password: c.password, schema: c.schema, extra: c.extra, uri: c.uri };
    },
    mask(value: unknown) {
      m.add(value);
    },
  };
  return { ctx, mask: (text) => m.mask(text) };
}
