// Serving the API and web UI from a runtime (`floe api`, `floe standalone`); loaded when one of them runs.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApi } from '../../api/server.ts';
import type { LoadedConfig } from '../../config/load.ts';
import { kubeApiFromConfig } from '../../kubernetes/client.ts';
import type { Runtime } from '../runtime.ts';

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
  const app = await buildApi({ db: rt.db, cfg: rt.cfg, log: rt.log, kube: () => kubeApiFromConfig(rt.cfg) });
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
