// Serving the web UI beside the API: built files and client-side routes without a token, index.html for deep
// links, hashed assets cached, API paths still behind the token however they are spelled, and a page (not a
// crash) when the UI is not built.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { buildApi } from '../../src/api/server.ts';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';
import { ADMIN } from './helpers.ts';

describe('web UI serving', () => {
  let h: FloeHarness;
  let root: string;
  const servers: { close(): Promise<unknown> }[] = [];
  before(async () => {
    h = await startFloe('sqlite');
    root = mkdtempSync(path.join(tmpdir(), 'floe-ui-'));
    mkdirSync(path.join(root, 'assets'));
    writeFileSync(path.join(root, 'index.html'), '<!doctype html><title>Floe test UI</title>');
    writeFileSync(path.join(root, 'assets', 'app-abc123.js'), 'console.log(1)');
  });
  after(async () => {
    for (const s of servers) await s.close();
    await h?.close();
    rmSync(root, { recursive: true, force: true });
  });

  async function serve(uiRoot: string) {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => lines.push(l) });
    const app = await buildApi({ db: h.rt.db, cfg: { ...h.rt.cfg, api: { ...h.rt.cfg.api, auth: 'token', adminTokens: [ADMIN], readTokens: [] } }, log, kube: () => { throw new Error('no kube'); }, uiRoot });
    await app.listen({ host: '127.0.0.1', port: 0 });
    servers.push(app);
    const addr = app.server.address();
    const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
    const get = (p: string, headers: Record<string, string> = {}) => fetch(base + p, { headers });
    return { get, lines };
  }
  const html = { accept: 'text/html,application/xhtml+xml' };

  test('files and client-side routes without a token; deep links get index.html; assets are cached', async () => {
    const { get } = await serve(root);
    for (const p of ['/', '/dags', '/dags/etl/runs/manual__2024-01-01T00%3A00%3A00.000Z/tasks/load/tries/2', '/pools?x=1']) {
      const r = await get(p, html);
      assert.equal(r.status, 200, p);
      assert.match(await r.text(), /Floe test UI/, p);
      assert.equal(r.headers.get('cache-control'), 'no-cache', p);
    }
    const js = await get('/assets/app-abc123.js');
    assert.equal(js.status, 200);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    assert.match(js.headers.get('cache-control') ?? '', /immutable/);
    // A missing file asked for by a script (not a page) is a 404 problem, not index.html.
    const missing = await get('/assets/nope.js', { accept: '*/*' });
    assert.equal(missing.status, 404);
    assert.match(missing.headers.get('content-type') ?? '', /problem\+json/);
  });

  test('API paths keep their token, however spelled; with a token an unknown API path is a 404 problem', async () => {
    const { get } = await serve(root);
    for (const p of ['/api/v1/dags', '/api/v1/nope', '/%61pi/v1/dags', '/api/v1//dags', '/api', '/%61pi/v1/nope'])
      assert.equal((await get(p, html)).status, 401, p);
    const r = await get('/api/v1/nope', { ...html, authorization: `Bearer ${ADMIN}` });
    assert.equal(r.status, 404);
    assert.match((await r.json()).detail, /no route GET \/api\/v1\/nope/);
    assert.equal((await get('/health', html)).status, 200);
  });

  test('a missing build: one log line and a page saying how to build it; the API still works', async () => {
    const { get, lines } = await serve(path.join(root, 'not-built'));
    const r = await get('/dags', html);
    assert.equal(r.status, 503);
    assert.match(await r.text(), /the UI is not built: run npm run build:ui/);
    assert.equal(lines.filter((l) => l.includes('the UI is not built: run npm run build:ui')).length, 1);
    assert.equal((await get('/api/v1/dags', { authorization: `Bearer ${ADMIN}` })).status, 200);
  });
});
