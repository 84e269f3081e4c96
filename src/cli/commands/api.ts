// floe api: the REST API server (src/api) and the web UI, until SIGTERM/SIGINT, which lets in-flight requests finish.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from '@commander-js/extra-typings';
import type { FastifyInstance } from 'fastify';
import { TokenStore } from '../../api/auth.ts';
import { buildApi } from '../../api/server.ts';
import { type LoadedConfig, loadConfig } from '../../config/load.ts';
import { kubeApi, openRuntime, type Runtime } from '../runtime.ts';
import { parseIntArg } from './common-args.ts';

/** Longest wait for in-flight requests after a stop signal before the process exits anyway. */
const CLOSE_TIMEOUT_MS = 10_000;

/** The URL to print for an address the server listens on (a wildcard address is reached as localhost). */
export function browsableUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || host === '' ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

/**
 * `floe standalone` with token auth and no token configured: an admin token kept in FLOE_HOME (made once, mode
 * 0600), as Airflow's standalone makes an admin password. Returns it, or null when tokens are configured.
 */
export function ensureStandaloneToken(cfg: LoadedConfig): string | null {
  const api = cfg.api;
  if (api.auth !== 'token' || api.readTokens.length || api.adminTokens.length || api.tokensFile) return null;
  const file = path.join(cfg.home, 'standalone-admin-token');
  let token = existsSync(file) ? readFileSync(file, 'utf8').trim() : '';
  if (!token) {
    mkdirSync(cfg.home, { recursive: true });
    token = randomBytes(32).toString('hex');
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  }
  api.adminTokens = [token];
  return token;
}

/** Builds the API (and web UI), listens, and prints where to open it. The caller closes it. */
export async function serveApi(rt: Runtime, o: { generatedToken?: string | null } = {}): Promise<FastifyInstance> {
  const app = await buildApi({ db: rt.db, cfg: rt.cfg, log: rt.log, kube: () => kubeApi(rt.cfg) });
  try {
    await app.listen({ host: rt.cfg.api.host, port: rt.cfg.api.port });
  } catch (e) {
    await app.close();
    throw new Error(`api: cannot listen on ${rt.cfg.api.host}:${rt.cfg.api.port}: ${(e as Error).message}`);
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : rt.cfg.api.port;
  const url = browsableUrl(rt.cfg.api.host, port);
  const login = o.generatedToken
    ? `Log in with the admin token ${o.generatedToken} (kept in ${path.join(rt.cfg.home, 'standalone-admin-token')})`
    : rt.cfg.api.auth === 'none'
      ? 'No login: api.auth is none'
      : 'Log in with a token from api.adminTokens, api.readTokens or api.tokensFile';
  process.stdout.write(`Floe web UI and API: ${url}\n${login}\n`);
  return app;
}

async function runApi(o: { host?: string; port?: string }): Promise<void> {
  const cfg = loadConfig();
  if (o.host) cfg.api.host = o.host;
  if (o.port !== undefined) {
    const port = parseIntArg(o.port, '--port');
    if (port < 0 || port > 65535) throw new Error(`--port: expected 0 to 65535, got ${port}`);
    cfg.api.port = port;
  }
  // Refuse a misconfigured auth before touching the database.
  new TokenStore(cfg.api);
  const rt = await openRuntime({ cfg });
  let app: FastifyInstance;
  try {
    app = await serveApi(rt);
  } catch (e) {
    await rt.close();
    throw e;
  }
  let closing: Promise<void> | null = null;
  const shutdown = (signal: string) => {
    rt.log.info({ signal }, 'API stopping: finishing in-flight requests');
    const force = setTimeout(() => {
      rt.log.warn(`API requests still running after ${CLOSE_TIMEOUT_MS} ms; exiting`);
      process.exit(1);
    }, CLOSE_TIMEOUT_MS);
    force.unref();
    closing ??= app.close().then(() => rt.close());
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  await new Promise<void>((resolve) => app.server.once('close', resolve));
  await closing;
}

export function registerApiCommands(program: Command): void {
  program
    .command('api')
    .description('REST API server (/api/v1, /health) and web UI (/); bearer-token auth from the api config section')
    .option('--host <host>', 'address to listen on (default api.host, 0.0.0.0)')
    .option('--port <port>', 'TCP port (default api.port, 8080; 0 picks a free one)')
    .action((o) => runApi(o));
}
