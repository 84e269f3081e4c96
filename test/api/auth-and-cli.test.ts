// Token sources (inline, tokens file with rotation) and the `floe api` command itself: refusing a missing
// auth setup, serving, and stopping gracefully on SIGTERM.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseTokensFile, TokenStore } from '../../src/api/auth.ts';
import { loadConfig } from '../../src/config/load.ts';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';
import { startApi } from './helpers.ts';

const BIN = fileURLToPath(new URL('../../bin/floe.js', import.meta.url));
let h: FloeHarness;
let dir: string;
before(async () => {
  h = await startFloe('sqlite');
  dir = mkdtempSync(path.join(tmpdir(), 'floe-api-auth-'));
});
after(async () => {
  await h?.close();
  rmSync(dir, { recursive: true, force: true });
});

const FILE_READ = 'file-read-token-0123456789';
const FILE_ADMIN = 'file-admin-token-0123456789';

test('tokens file: roles per line, comments, errors naming the line; rotation takes effect without a restart', async () => {
  assert.throws(() => parseTokensFile('admin short\n', '/x'), /api\.tokensFile \/x, line 1: expected a token of at least 16 characters/);
  assert.throws(() => parseTokensFile('# c\n\nroot abcdefghijklmnopq\n', '/x'), /line 3: role "root": expected read or admin/);
  assert.throws(() => parseTokensFile('abcdefghijklmnopq\n', '/x'), /line 1: expected "<role> <token>"/);
  assert.throws(() => new TokenStore({ ...h.rt.cfg.api, tokensFile: path.join(dir, 'missing') }), /api\.tokensFile: .*missing does not exist/);

  const file = path.join(dir, 'tokens');
  writeFileSync(file, `# role token\nread ${FILE_READ}\nadmin ${FILE_ADMIN}\n`);
  const api = await startApi(h.rt.db, h.rt.cfg, { readTokens: [], adminTokens: [], tokensFile: file });
  try {
    assert.equal((await api.call('GET', '/api/v1/pools', { token: FILE_READ })).status, 200);
    assert.equal((await api.call('PUT', '/api/v1/pools/f', { token: FILE_READ, body: { slots: 1 } })).status, 403);
    assert.equal((await api.call('PUT', '/api/v1/pools/f', { token: FILE_ADMIN, body: { slots: 1 } })).status, 201);

    // Rotate: the old admin token stops working, the new one works (the file is checked every 2 s).
    const NEW_ADMIN = 'rotated-admin-token-0123456789';
    writeFileSync(file, `read ${FILE_READ}\nadmin ${NEW_ADMIN}\n`);
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal((await api.call('GET', '/api/v1/pools', { token: FILE_ADMIN })).status, 401);
    assert.equal((await api.call('GET', '/api/v1/pools', { token: NEW_ADMIN })).status, 200);

    // A broken new version keeps the tokens read before.
    writeFileSync(file, `admin ${NEW_ADMIN}\nsuperuser x\n`);
    await new Promise((r) => setTimeout(r, 2200));
    assert.equal((await api.call('GET', '/api/v1/pools', { token: NEW_ADMIN })).status, 200);
    assert.equal((await api.call('GET', '/api/v1/pools', { token: FILE_READ })).status, 200);
  } finally {
    await api.close();
  }
});

test('tokens from FLOE__API__… variables: a comma-separated list; short tokens are refused naming the variable', () => {
  const cfg = loadConfig({ env: { FLOE__API__READ_TOKENS: 'aaaaaaaaaaaaaaaa1, bbbbbbbbbbbbbbbb2', FLOE__API__ADMIN_TOKENS: '[cccccccccccccccc3]' }, cwd: dir });
  assert.deepEqual([cfg.api.readTokens, cfg.api.adminTokens], [['aaaaaaaaaaaaaaaa1', 'bbbbbbbbbbbbbbbb2'], ['cccccccccccccccc3']]);
  assert.throws(() => loadConfig({ env: { FLOE__API__ADMIN_TOKENS: 'secret' }, cwd: dir }), /FLOE__API__ADMIN_TOKENS=\*\*\*: api\.adminTokens\.0: expected a token of at least 16 characters/);
  assert.throws(() => loadConfig({ env: { FLOE__API__AUTH: 'basic' }, cwd: dir }), /api\.auth/);
});

function env(extra: Record<string, string>): NodeJS.ProcessEnv {
  return { ...process.env, FLOE_HOME: h.home, FLOE_DAGS_FOLDER: h.dagsFolder, FLOE_CONFIG: '', FLOE__LOGGING__LEVEL: 'info', ...extra };
}

test('floe api refuses to start without tokens, naming the keys, unless api.auth is none', () => {
  const r = spawnSync(process.execPath, [BIN, 'api', '--port', '0'], { env: env({}), cwd: h.home, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /error: api\.auth is "token" but no API token is configured: set api\.adminTokens and\/or api\.readTokens .*or set api\.auth: none/);
  const bad = spawnSync(process.execPath, [BIN, 'api', '--port', '99999'], { env: env({ FLOE__API__AUTH: 'none' }), cwd: h.home, encoding: 'utf8', timeout: 60_000 });
  assert.match(bad.stderr, /--port: expected 0 to 65535/);
});

test('floe api serves on --host/--port and stops gracefully on SIGTERM (exit 0)', async () => {
  const child = spawn(process.execPath, [BIN, 'api', '--host', '127.0.0.1', '--port', '0'], { env: env({ FLOE__API__ADMIN_TOKENS: 'cli-admin-token-0123456789' }), cwd: h.home });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`floe api did not start: ${stderr}`)), 60_000);
      child.stderr.on('data', () => {
        const m = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      void exited.then(() => reject(new Error(`floe api exited: ${stderr}`)));
    });
    assert.equal((await fetch(`${url}/health`)).status, 200);
    const r = await fetch(`${url}/api/v1/dags`, { headers: { authorization: 'Bearer cli-admin-token-0123456789' } });
    assert.equal(r.status, 200);
    assert.equal(((await r.json()) as { totalEntries: number }).totalEntries, 0);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, stderr);
    assert.match(stderr, /API stopping: finishing in-flight requests/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
