// Connection import and export files: JSON or YAML objects of connections by id (Airflow's export format,
// `extra` as an object or JSON text, or a URI string per id), and .env files of ID=URI lines.
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { type ConnectionFields, type ConnectionRecord, connectionFromAirflowJson, connectionUri, parseConnectionValue, SecretInputError } from './connection.ts';

export type ConnectionsFormat = 'json' | 'yaml' | 'env';

export function formatOf(file: string): ConnectionsFormat {
  const ext = path.extname(file).toLowerCase().slice(1);
  return ext === 'yml' || ext === 'yaml' ? 'yaml' : ext === 'env' ? 'env' : 'json';
}

export function parseConnectionsFile(file: string, text: string): [string, ConnectionFields][] {
  const format = formatOf(file);
  const name = path.basename(file);
  const entries: [string, ConnectionFields][] = [];
  if (format === 'env') {
    text.split(/\r?\n/).forEach((line, i) => {
      const t = line.trim();
      if (!t || t.startsWith('#')) return;
      const eq = t.indexOf('=');
      if (eq < 1) throw new SecretInputError(`${name}:${i + 1}: expected ID=URI`);
      const id = t.slice(0, eq).trim();
      entries.push([id, parseConnectionValue(t.slice(eq + 1).trim(), `${name}:${i + 1}: ${id}`)]);
    });
    return entries;
  }
  let data: unknown;
  try {
    data = format === 'yaml' ? parseYaml(text) : JSON.parse(text);
  } catch (e) {
    throw new SecretInputError(`${name}: not valid ${format === 'yaml' ? 'YAML' : 'JSON'}: ${(e as Error).message}`);
  }
  if (!data || typeof data !== 'object' || Array.isArray(data)) throw new SecretInputError(`${name}: expected an object of connections by id, like {"my_db": {"conn_type": "postgres", "host": …}}`);
  for (const [id, v] of Object.entries(data))
    entries.push([id, typeof v === 'string' ? parseConnectionValue(v, `${name}: ${id}`) : connectionFromAirflowJson(v, `${name}: ${id}.`)]);
  return entries;
}

export function formatConnections(all: ConnectionRecord[], format: ConnectionsFormat): string {
  if (format === 'env') return all.map((c) => `${c.connId}=${connectionUri(c)}\n`).join('');
  const obj = Object.fromEntries(
    all.map((c) => [c.connId, { conn_type: c.connType, description: c.description, host: c.host, port: c.port, login: c.login, password: c.password, schema: c.schema, extra: c.extra }]),
  );
  return format === 'yaml' ? stringifyYaml(obj) : `${JSON.stringify(obj, null, 2)}\n`;
}
