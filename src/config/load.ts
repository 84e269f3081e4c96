// Loads floe.yaml, applies FLOE__SECTION__KEY environment overrides, validates, resolves paths.
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { isSensitiveName } from '../secrets/masker.ts';
import { configSchema, type FloeConfig } from './schema.ts';

export class ConfigError extends Error {}

export interface LoadedConfig extends FloeConfig {
  /** FLOE_HOME: where the SQLite DB and logs live by default. */
  home: string;
  /** The config file read, if any. */
  configFile: string | null;
}

type Env = Record<string, string | undefined>;

interface EnvOverride {
  name: string;
  raw: string;
}

function envEntries(env: Env): { section: string; key: string; o: EnvOverride }[] {
  const out: { section: string; key: string; o: EnvOverride }[] = [];
  for (const [name, raw] of Object.entries(env)) {
    const m = /^FLOE__([A-Z0-9_]+?)__([A-Z0-9_]+)$/.exec(name);
    if (!m || raw === undefined) continue;
    out.push({ section: toCamel(m[1]), key: toCamel(m[2]), o: { name, raw } });
  }
  return out;
}

function parseEnvValue(raw: string): unknown {
  try {
    return parseYaml(raw);
  } catch {
    return raw;
  }
}

/**
 * `FLOE__CORE__PARALLELISM=4` → core.parallelism = 4. Values are parsed as YAML scalars (numbers, booleans,
 * JSON lists); a key that expects text keeps the text as written (see loadConfig).
 */
export function envOverrides(env: Env): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const { section, key, o } of envEntries(env)) (out[section] ??= {})[key] = parseEnvValue(o.raw);
  return out;
}

function toCamel(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function merge(base: Record<string, unknown>, over: Record<string, Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [section, values] of Object.entries(over)) {
    const cur = out[section];
    out[section] = { ...(cur && typeof cur === 'object' ? cur : {}), ...values };
  }
  return out;
}

export function formatZodIssues(error: z.ZodError, where: string, fromEnv: Map<string, EnvOverride> = new Map()): string {
  return error.issues
    .map((i) => {
      const at = i.path.join('.') || '(root)';
      const env = fromEnv.get(i.path.slice(0, 2).join('.'));
      // A key or token given in the environment is never shown.
      return env ? `${env.name}=${isSensitiveName(env.name) ? '***' : JSON.stringify(env.raw)}: ${at}: ${i.message}` : `${where}: ${at}: ${i.message}`;
    })
    .join('\n');
}

/** FLOE_HOME, and the config file that applies with its values (none: empty). */
function readConfigFile(env: Env, cwd: string, configFileOpt: string | null | undefined): { home: string; configFile: string | null; fileValues: Record<string, unknown> } {
  const home = path.resolve(cwd, env.FLOE_HOME ?? '.floe');
  const candidates = [configFileOpt, env.FLOE_CONFIG, path.join(home, 'floe.yaml'), path.join(cwd, 'floe.yaml')];
  const explicit = configFileOpt ?? env.FLOE_CONFIG;
  if (explicit && !existsSync(path.resolve(cwd, explicit))) throw new ConfigError(`config file ${explicit} does not exist`);
  for (const c of candidates) {
    if (!c) continue;
    const abs = path.resolve(cwd, c);
    if (!existsSync(abs)) continue;
    let parsed: unknown;
    try {
      parsed = parseYaml(readFileSync(abs, 'utf8'));
    } catch (e) {
      throw new ConfigError(`${abs}: not valid YAML: ${(e as Error).message}`);
    }
    if (parsed != null && (typeof parsed !== 'object' || Array.isArray(parsed)))
      throw new ConfigError(`${abs}: expected a mapping of sections (core:, database:, …) at the top level`);
    return { home, configFile: abs, fileValues: (parsed ?? {}) as Record<string, unknown> };
  }
  return { home, configFile: null, fileValues: {} };
}

/**
 * Where each key's effective value comes from: `default`, `file <path>`, or the environment variable that set
 * it (`env FLOE__CORE__PARALLELISM`, `env FLOE_DATABASE_URL`). Keys as `section.key`.
 */
export function configSources(opts: { env?: Env; configFile?: string | null; cwd?: string } = {}): Map<string, string> {
  const env = opts.env ?? process.env;
  const { configFile, fileValues } = readConfigFile(env, opts.cwd ?? process.cwd(), opts.configFile);
  const out = new Map<string, string>();
  for (const [section, values] of Object.entries(fileValues))
    if (values && typeof values === 'object') for (const key of Object.keys(values)) out.set(`${section}.${key}`, `file ${configFile}`);
  for (const { section, key, o } of envEntries(env)) out.set(`${section}.${key}`, `env ${o.name}`);
  if (env.FLOE_DATABASE_URL) out.set('database.url', 'env FLOE_DATABASE_URL');
  if (env.FLOE_DAGS_FOLDER) out.set('core.dagsFolder', 'env FLOE_DAGS_FOLDER');
  return out;
}

/**
 * Reads configuration from (in order of precedence) env overrides, the config file, defaults.
 * The file is `FLOE_CONFIG`, else `$FLOE_HOME/floe.yaml`, else `./floe.yaml` when present.
 */
export function loadConfig(opts: { env?: Env; configFile?: string | null; cwd?: string } = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const { home, configFile, fileValues } = readConfigFile(env, cwd, opts.configFile);
  const overrides = envOverrides(env);
  const fromEnv = new Map(envEntries(env).map((e) => [`${e.section}.${e.key}`, e.o]));
  let result = configSchema.safeParse(merge(fileValues, overrides));
  // A text key given a number-like or boolean-like value (FLOE__QUEUE__PREFIX=2024) takes it as written.
  if (!result.success) {
    let retry = false;
    for (const i of result.error.issues) {
      const e = fromEnv.get(i.path.slice(0, 2).join('.'));
      if (e && i.path.length === 2 && i.code === 'invalid_type' && i.expected === 'string') {
        overrides[String(i.path[0])][String(i.path[1])] = e.raw;
        retry = true;
      }
    }
    if (retry) result = configSchema.safeParse(merge(fileValues, overrides));
  }
  if (!result.success) throw new ConfigError(formatZodIssues(result.error, configFile ?? 'configuration', fromEnv));
  const cfg = result.data;
  const base = configFile ? path.dirname(configFile) : cwd;
  if (env.FLOE_DATABASE_URL) cfg.database.url = env.FLOE_DATABASE_URL;
  cfg.core.dagsFolder = path.resolve(base, env.FLOE_DAGS_FOLDER ?? cfg.core.dagsFolder);
  cfg.logging.logsFolder = path.resolve(base, cfg.logging.logsFolder ?? path.join(home, 'logs'));
  return { ...cfg, home, configFile };
}

/** Database URL actually used: configured, or the SQLite file under FLOE_HOME. */
export function databaseUrl(cfg: LoadedConfig): string {
  return cfg.database.url ?? `sqlite://${path.join(cfg.home, 'floe.db')}`;
}
