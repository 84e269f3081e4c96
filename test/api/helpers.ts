// API test helpers: a server on port 0 against a test harness's DB, and a fetch wrapper.
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApi } from '../../src/api/server.ts';
import type { LoadedConfig } from '../../src/config/load.ts';
import type { FloeConfig } from '../../src/config/schema.ts';
import type { Db } from '../../src/db/connect.ts';
import type { KubeApi } from '../../src/kubernetes/client.ts';

export const READ = 'read-token-0123456789abcdef';
export const ADMIN = 'admin-token-0123456789abcdef';

export interface TestApi {
  app: FastifyInstance;
  url: string;
  call(method: string, path: string, o?: { token?: string | null; body?: unknown; headers?: Record<string, string> }): Promise<{ status: number; headers: Headers; json: any; text: string }>;
  close(): Promise<void>;
}

export async function startApi(db: Db, cfg: LoadedConfig, api: Partial<FloeConfig['api']> = {}, kube?: () => KubeApi): Promise<TestApi> {
  const apiCfg = { ...cfg.api, auth: 'token' as const, readTokens: [READ], adminTokens: [ADMIN], ...api };
  const app = await buildApi({
    db,
    cfg: { ...cfg, api: apiCfg },
    log: pino({ level: process.env.FLOE_TEST_LOG_LEVEL ?? 'silent' }),
    kube: kube ?? (() => { throw new Error('no Kubernetes in this test'); }),
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  return {
    app,
    url,
    async call(method, path, o = {}) {
      const headers: Record<string, string> = { ...(o.headers ?? {}) };
      const token = o.token === undefined ? ADMIN : o.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      let body: string | undefined;
      if (o.body !== undefined) {
        body = typeof o.body === 'string' ? o.body : JSON.stringify(o.body);
        headers['content-type'] ??= 'application/json';
      }
      const r = await fetch(url + path, { method, headers, body });
      const text = await r.text();
      let json: unknown = null;
      try {
        json = text ? JSON.parse(text) : null;
      } catch {
        json = null;
      }
      return { status: r.status, headers: r.headers, json, text };
    },
    close: () => app.close(),
  };
}

/** A problem-details body: status, title and a detail matching `detail`. */
export function isProblem(r: { status: number; headers: Headers; json: any }, status: number, detail: RegExp): string | null {
  if (r.status !== status) return `status ${r.status}, expected ${status}: ${JSON.stringify(r.json)}`;
  if (!/^application\/problem\+json/.test(r.headers.get('content-type') ?? '')) return `content-type ${r.headers.get('content-type')}`;
  if (r.json?.status !== status || typeof r.json?.title !== 'string') return `body ${JSON.stringify(r.json)}`;
  if (!detail.test(r.json.detail)) return `detail ${JSON.stringify(r.json.detail)} does not match ${detail}`;
  return null;
}
