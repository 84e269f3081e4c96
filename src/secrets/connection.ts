// Connections as Airflow has them: id → type, host, port, login, password, schema, extra (a JSON object),
// given as fields or as a URI (`postgres://user:pa%40ss@db.internal:5432/reports?sslmode=require`). Parsing
// and printing follow Airflow's Connection (`get_uri`, `_parse_from_uri`) so AIRFLOW_CONN_* URIs read the same.
// Errors name the field and never contain the password.
import type { Connection } from '../sdk/secrets-types.ts';

/** A connection's fields as stored: those a task sees (the SDK's Connection), but an extra may be absent. */
export interface ConnectionFields extends Omit<Connection, 'connId' | 'uri' | 'extra'> {
  extra: Record<string, unknown> | null;
}

export interface ConnectionRecord extends ConnectionFields {
  connId: string;
}

/** A bad connection or variable given by a user: the message names the field. */
export class SecretInputError extends Error {
  override name = 'SecretInputError';
}

export const ID_PATTERN = /^[A-Za-z0-9_.-]{1,250}$/;
const ID_RULE = 'letters, digits, _ . - only, 1 to 250 characters';

export function checkId(id: unknown, what: string): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) throw new SecretInputError(`${what}: expected ${ID_RULE}; got ${JSON.stringify(id)?.slice(0, 80)}`);
  return id;
}

const TYPE_PATTERN = /^[A-Za-z][A-Za-z0-9_.+-]{0,99}$/;

export function checkConnType(t: unknown, where = 'conn_type'): string {
  if (typeof t !== 'string' || !TYPE_PATTERN.test(t)) throw new SecretInputError(`${where}: expected a connection type such as postgres, http or aws (a letter, then letters, digits, _ . + -); got ${JSON.stringify(t)?.slice(0, 80)}`);
  return t;
}

export function checkPort(p: unknown, where = 'port'): number | null {
  if (p === null || p === undefined || p === '') return null;
  const n = typeof p === 'string' && /^\d+$/.test(p) ? Number(p) : p;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 65535) throw new SecretInputError(`${where}: expected a port number from 0 to 65535; got ${JSON.stringify(p)?.slice(0, 80)}`);
  return n;
}

/** Extra: a JSON object, given as one or as its JSON text (Airflow stores and exports it as text). */
export function checkExtra(e: unknown, where = 'extra'): Record<string, unknown> | null {
  if (e === null || e === undefined || e === '') return null;
  let v = e;
  if (typeof e === 'string') {
    try {
      v = JSON.parse(e);
    } catch (err) {
      throw new SecretInputError(`${where}: not valid JSON: ${(err as Error).message}`);
    }
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new SecretInputError(`${where}: expected a JSON object like {"sslmode": "require"}`);
  return v as Record<string, unknown>;
}

const optText = (v: unknown, where: string, max = 10_000): string | null => {
  if (v === null || v === undefined || v === '') return null;
  if (typeof v !== 'string') throw new SecretInputError(`${where}: expected text`);
  if (v.length > max) throw new SecretInputError(`${where}: longer than ${max} characters`);
  return v;
};

/** How a field is named in messages: `conn_type` (files, Airflow JSON), `body.connType` (API), `--conn-type` (CLI). */
export type FieldLabel = (field: keyof ConnectionFields) => string;
const SNAKE: Record<keyof ConnectionFields, string> = { connType: 'conn_type', description: 'description', host: 'host', port: 'port', login: 'login', password: 'password', schema: 'schema', extra: 'extra' };
export const snakeLabel =
  (prefix = ''): FieldLabel =>
  (f) =>
    `${prefix}${SNAKE[f]}`;

/** Fields given one by one (CLI options, API body, an import file's entry). */
export function connectionFromFields(f: Partial<Record<keyof ConnectionFields, unknown>>, label: FieldLabel = snakeLabel()): ConnectionFields {
  const password = f.password;
  if (password !== null && password !== undefined && typeof password !== 'string') throw new SecretInputError(`${label('password')}: expected text`);
  return {
    connType: checkConnType(f.connType, label('connType')),
    description: optText(f.description, label('description')),
    host: optText(f.host, label('host'), 1000),
    port: checkPort(f.port, label('port')),
    login: optText(f.login, label('login'), 1000),
    password: password === '' || password === undefined ? null : (password as string | null),
    schema: optText(f.schema, label('schema'), 1000),
    extra: checkExtra(f.extra, label('extra')),
  };
}

/** Airflow's JSON form (`conn_type`, `host`, …, `extra` as text or object), as in its connection exports and AIRFLOW_CONN_* JSON. */
export function connectionFromAirflowJson(o: unknown, where = ''): ConnectionFields {
  if (!o || typeof o !== 'object' || Array.isArray(o)) throw new SecretInputError(`${where || 'connection'}: expected an object with conn_type, host, login, …`);
  const known = new Set(['conn_type', 'connType', 'description', 'host', 'port', 'login', 'password', 'schema', 'extra', 'uri', 'conn_id', 'connId', 'connectionId']);
  const unknown = Object.keys(o).filter((k) => !known.has(k));
  if (unknown.length) throw new SecretInputError(`${where}${unknown[0]}: unknown field (known: conn_type, description, host, port, login, password, schema, extra, uri)`);
  const r = o as Record<string, unknown>;
  if (typeof r.uri === 'string') {
    const c = parseConnectionUri(r.uri, `${where}uri`);
    return { ...c, description: optText(r.description, `${where}description`) };
  }
  return connectionFromFields({ ...r, connType: r.conn_type ?? r.connType }, snakeLabel(where));
}

const decode = (s: string, where: string): string => {
  try {
    return decodeURIComponent(s);
  } catch {
    throw new SecretInputError(`${where}: bad percent-encoding`);
  }
};

/**
 * `type://login:password@host:port/schema?extra=…` (Airflow's form). Reserved characters in login, password,
 * host and schema must be percent-encoded (`@` as %40, `/` as %2F, `:` as %3A). Query parameters become
 * `extra`; `__extra__` holds the whole extra as JSON. A `-` in the scheme stands for `_` in the type, and
 * `postgresql` is `postgres`, as in Airflow.
 */
export function parseConnectionUri(uri: string, where = 'uri'): ConnectionFields {
  const hint = 'expected a URI like postgres://user:password@host:5432/schema?key=value';
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/(.*)$/s.exec(uri.trim());
  if (!m) throw new SecretInputError(`${where}: ${hint}`);
  if (m[2].includes('://')) throw new SecretInputError(`${where}: a host with its own protocol (two "://") is not supported; percent-encode the host`);
  let connType = m[1].toLowerCase();
  if (connType === 'postgresql') connType = 'postgres';
  connType = connType.replaceAll('-', '_');
  let rest = m[2];
  const hashAt = rest.indexOf('#');
  if (hashAt >= 0) rest = rest.slice(0, hashAt);
  const qAt = rest.indexOf('?');
  const query = qAt >= 0 ? rest.slice(qAt + 1) : '';
  if (qAt >= 0) rest = rest.slice(0, qAt);
  const slash = rest.indexOf('/');
  const authority = slash >= 0 ? rest.slice(0, slash) : rest;
  const path = slash >= 0 ? rest.slice(slash + 1) : '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : null;
  const hostport = at >= 0 ? authority.slice(at + 1) : authority;
  let login: string | null = null;
  let password: string | null = null;
  if (userinfo !== null) {
    const colon = userinfo.indexOf(':');
    login = decode(colon >= 0 ? userinfo.slice(0, colon) : userinfo, `${where}: login`) || null;
    // The password's own text is never shown in an error.
    password = colon >= 0 ? decode(userinfo.slice(colon + 1), `${where}: password`) || null : null;
  }
  let host = hostport;
  let port: number | null = null;
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(hostport)!;
  host = hp[1];
  if (hp[2] !== undefined && hp[2] !== '') {
    if (!/^\d+$/.test(hp[2]))
      throw new SecretInputError(`${where}: the port is not a number (percent-encode reserved characters of the login and password: @ as %40, / as %2F, : as %3A)`);
    port = checkPort(hp[2], `${where}: port`);
  }
  let extra: Record<string, unknown> | null = null;
  if (query) {
    const params = new URLSearchParams(query);
    if (params.has('__extra__')) extra = checkExtra(params.get('__extra__'), `${where}: __extra__`);
    else {
      extra = {};
      for (const k of new Set(params.keys())) {
        const all = params.getAll(k);
        extra[k] = all.length > 1 ? all : all[0];
      }
    }
  }
  return {
    connType: checkConnType(connType, `${where}: type`),
    description: null,
    host: decode(host, `${where}: host`) || null,
    port,
    login,
    password,
    schema: decode(path, `${where}: schema`) || null,
    extra,
  };
}

const enc = (s: string) => encodeURIComponent(s);

/** The connection as a URI, Airflow's `get_uri()`: parseConnectionUri gives the same fields back. */
export function connectionUri(c: ConnectionFields): string {
  let uri = `${c.connType.toLowerCase().replaceAll('_', '-')}://`;
  let auth = '';
  if (c.login) auth += enc(c.login);
  if (c.password) auth += `:${enc(c.password)}`;
  if (auth) uri += `${auth}@`;
  let hostBlock = c.host ? enc(c.host) : '';
  if (c.port !== null) hostBlock += hostBlock === '' && auth === '' ? `@:${c.port}` : `:${c.port}`;
  if (c.schema) hostBlock += `/${enc(c.schema)}`;
  uri += hostBlock;
  if (c.extra && Object.keys(c.extra).length) {
    const simple = Object.values(c.extra).every((v) => typeof v === 'string');
    const q = simple ? new URLSearchParams(c.extra as Record<string, string>) : new URLSearchParams({ __extra__: JSON.stringify(c.extra) });
    uri += `${c.schema ? '' : '/'}?${q.toString()}`;
  }
  return uri;
}

/** The connection as an environment variable or import value gives it: a URI, or (starting with `{`) Airflow's JSON form. */
export function parseConnectionValue(text: string, where: string): ConnectionFields {
  const t = text.trim();
  if (t.startsWith('{')) {
    let o: unknown;
    try {
      o = JSON.parse(t);
    } catch (e) {
      throw new SecretInputError(`${where}: not valid JSON: ${(e as Error).message}`);
    }
    return connectionFromAirflowJson(o, `${where}: `);
  }
  return parseConnectionUri(t, where);
}
