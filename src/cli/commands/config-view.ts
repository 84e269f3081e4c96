// `floe config list/get`: every key's effective value and where it comes from, with secrets masked: encryption
// keys and API tokens entirely, the password of the database and Redis URLs.
import { configSources, databaseUrl, loadConfig } from '../../config/load.ts';

export type ConfigRow = {
  key: string;
  value: string;
  source: string;
};

/** Keys whose whole value is secret. */
const SECRET_KEYS = new Set(['secrets.key', 'api.readTokens', 'api.adminTokens']);
/** Keys holding a URL whose password is secret. */
const URL_KEYS = new Set(['database.url', 'queue.redisUrl']);

export const maskUrlPassword = (url: string): string => url.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*:)[^@/]*@/i, '$1***@');

function show(key: string, v: unknown): string {
  if (SECRET_KEYS.has(key)) return Array.isArray(v) ? JSON.stringify(v.map(() => '***')) : v == null ? 'null' : '***';
  if (URL_KEYS.has(key) && typeof v === 'string') return maskUrlPassword(v);
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

export function effectiveConfig(env: Record<string, string | undefined> = process.env, cwd = process.cwd()): ConfigRow[] {
  const cfg = loadConfig({ env, cwd });
  const sources = configSources({ env, cwd });
  const rows: ConfigRow[] = [];
  for (const [section, values] of Object.entries(cfg)) {
    if (!values || typeof values !== 'object' || Array.isArray(values)) continue;
    for (const [k, v] of Object.entries(values as Record<string, unknown>)) {
      const key = `${section}.${k}`;
      let value = v;
      let source = sources.get(key) ?? 'default';
      if (key === 'database.url' && v === null) {
        value = databaseUrl(cfg);
        source = 'default ($FLOE_HOME/floe.db)';
      }
      if (key === 'logging.logsFolder' && source === 'default') source = 'default ($FLOE_HOME/logs)';
      rows.push({ key, value: show(key, value), source });
    }
  }
  rows.push({ key: 'home', value: cfg.home, source: env.FLOE_HOME ? 'env FLOE_HOME' : 'default (./.floe)' });
  rows.push({ key: 'configFile', value: cfg.configFile ?? '(none)', source: env.FLOE_CONFIG ? 'env FLOE_CONFIG' : 'search: $FLOE_HOME/floe.yaml, ./floe.yaml' });
  return rows;
}
