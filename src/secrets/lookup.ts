// Where a task's variables and connections come from, first found wins (Airflow's order: environment, secrets
// backend, metadata database):
//   1. the environment: FLOE_VAR_<KEY> / FLOE_CONN_<ID>, then Airflow's AIRFLOW_VAR_<KEY> / AIRFLOW_CONN_<ID>;
//   2. Kubernetes Secrets, when secrets.kubernetesBackend is on;
//   3. the metadata database.
// Every secret value found is registered with this process's masker.
import type { Kysely } from 'kysely';
import type { LoadedConfig } from '../config/load.ts';
import { getConnection } from '../core-queries/connections.ts';
import { getVariable } from '../core-queries/variables.ts';
import type { Database } from '../db/schema.ts';
import { type ConnectionFields, connectionUri, parseConnectionValue } from './connection.ts';
import { globalMasker, isSensitiveName } from './masker.ts';
import { storeOptions } from './settings.ts';

export type LookupConfig = Pick<LoadedConfig, 'secrets' | 'kubernetes'>;
type Env = Record<string, string | undefined>;

export const ENV_VAR_PREFIXES = ['FLOE_VAR_', 'AIRFLOW_VAR_'] as const;
export const ENV_CONN_PREFIXES = ['FLOE_CONN_', 'AIRFLOW_CONN_'] as const;

/** A variable's value as text from the environment or a Secret: JSON when it parses (42, true, {"a": 1}), else the text. */
export function parseVariableText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface Found<T> {
  value: T;
  /** Where it came from: `env FLOE_VAR_REGION`, `kubernetes secret floe-var-region`, `database`. */
  source: string;
}

/** What a task receives from ctx.connection(). */
export interface ResolvedConnection extends ConnectionFields {
  connId: string;
  extra: Record<string, unknown>;
  uri: string;
}

export class SecretsLookup {
  private readonly cache = new Map<string, Promise<unknown>>();
  constructor(
    private readonly cfg: LookupConfig,
    private readonly db: Kysely<Database> | null,
    private readonly env: Env = process.env,
  ) {}

  /** Where a variable would be looked for, for messages. */
  variablePlaces(key: string): string {
    const up = key.toUpperCase();
    return [
      ...ENV_VAR_PREFIXES.map((p) => `${p}${up}`),
      ...(this.cfg.secrets.kubernetesBackend ? [`Kubernetes Secret ${this.cfg.secrets.variablesPrefix}${key.toLowerCase().replaceAll('_', '-')}`] : []),
      ...(this.db ? ['the metadata database'] : []),
    ].join(', ');
  }

  connectionPlaces(connId: string): string {
    const up = connId.toUpperCase();
    return [
      ...ENV_CONN_PREFIXES.map((p) => `${p}${up}`),
      ...(this.cfg.secrets.kubernetesBackend ? [`Kubernetes Secret ${this.cfg.secrets.connectionsPrefix}${connId.toLowerCase().replaceAll('_', '-')}`] : []),
      ...(this.db ? ['the metadata database'] : []),
    ].join(', ');
  }

  async variable(key: string): Promise<Found<unknown> | null> {
    const found = await this.once(`var:${key}`, () => this.findVariable(key));
    if (found && isSensitiveName(key, this.cfg.secrets.sensitiveNames)) globalMasker().add(found.value, key);
    return found;
  }

  async connection(connId: string): Promise<Found<ResolvedConnection> | null> {
    const found = await this.once(`conn:${connId}`, () => this.findConnection(connId));
    if (found) {
      globalMasker().add(found.value.password);
      globalMasker().add(found.value.extra);
    }
    return found;
  }

  private once<T>(key: string, load: () => Promise<T>): Promise<T> {
    let p = this.cache.get(key) as Promise<T> | undefined;
    if (!p) {
      p = load();
      this.cache.set(key, p);
      p.catch(() => this.cache.delete(key));
    }
    return p;
  }

  private async findVariable(key: string): Promise<Found<unknown> | null> {
    for (const prefix of ENV_VAR_PREFIXES) {
      const name = `${prefix}${key.toUpperCase()}`;
      const text = this.env[name];
      if (text !== undefined) return { value: parseVariableText(text), source: `env ${name}` };
    }
    if (this.cfg.secrets.kubernetesBackend) {
      const { variableFromKubernetes } = await import('./kubernetes-backend.ts');
      const s = await variableFromKubernetes(this.cfg, key);
      if (s) return { value: parseVariableText(s.value), source: s.source };
    }
    if (!this.db) return null;
    const v = await getVariable(this.db, storeOptions(this.cfg), key);
    return v ? { value: v.value, source: 'database' } : null;
  }

  private async findConnection(connId: string): Promise<Found<ResolvedConnection> | null> {
    const resolved = (c: ConnectionFields, source: string): Found<ResolvedConnection> => ({
      value: { connId, ...c, extra: c.extra ?? {}, uri: connectionUri(c) },
      source,
    });
    for (const prefix of ENV_CONN_PREFIXES) {
      const name = `${prefix}${connId.toUpperCase()}`;
      const text = this.env[name];
      if (text !== undefined) return resolved(parseConnectionValue(text, name), `env ${name}`);
    }
    if (this.cfg.secrets.kubernetesBackend) {
      const { connectionFromKubernetes } = await import('./kubernetes-backend.ts');
      const s = await connectionFromKubernetes(this.cfg, connId);
      if (s) return resolved(s.value, s.source);
    }
    if (!this.db) return null;
    const c = await getConnection(this.db, storeOptions(this.cfg), connId);
    return c ? resolved(c, 'database') : null;
  }
}

/**
 * Registers with this process's masker the secrets its environment holds: FLOE_CONN_* / AIRFLOW_CONN_*
 * passwords and sensitive extras, sensitive FLOE_VAR_* / AIRFLOW_VAR_* values, and (with
 * secrets.maskEnvironment) every variable whose name looks sensitive, such as DB_PASSWORD or API_TOKEN.
 */
export function maskEnvironment(cfg: Pick<LoadedConfig, 'secrets'>, env: Env = process.env): void {
  const m = globalMasker();
  const names = cfg.secrets.sensitiveNames;
  for (const [name, text] of Object.entries(env)) {
    if (!text) continue;
    const conn = ENV_CONN_PREFIXES.find((p) => name.startsWith(p));
    if (conn) {
      try {
        const c = parseConnectionValue(text, name);
        m.add(c.password);
        m.add(c.extra);
      } catch {
        // A malformed URI fails the task that reads it, with the reason; mask it whole meanwhile.
        m.add(text);
      }
      continue;
    }
    const v = ENV_VAR_PREFIXES.find((p) => name.startsWith(p));
    if (v) {
      if (isSensitiveName(name.slice(v.length), names)) m.add(parseVariableText(text), name.slice(v.length));
      continue;
    }
    if (cfg.secrets.maskEnvironment && isSensitiveName(name, names) && !/^(true|false|yes|no|on|off|null|none|\d{1,6})$/i.test(text)) m.add(text);
  }
}
