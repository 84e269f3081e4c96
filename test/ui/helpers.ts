// Browser tests' setup: the built UI (built once if dist-ui/ is missing), Debian's Chromium through
// playwright-core (never a browser download), and waits that poll the page instead of sleeping.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const CHROMIUM = process.env.FLOE_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Builds the UI when dist-ui/ has no index.html (a fresh clone that skipped `npm ci`'s prepare). */
export function ensureUiBuilt(): void {
  if (existsSync(path.join(ROOT, 'dist-ui', 'index.html'))) return;
  execFileSync('npm', ['run', 'build:ui'], { cwd: ROOT, stdio: 'inherit' });
}

/** Chromium, or null (with a visible message) when it is missing outside CI; in CI a missing browser fails. */
export async function launchChromium(): Promise<Browser | null> {
  if (!existsSync(CHROMIUM)) {
    const msg = `Chromium is not at ${CHROMIUM}: apt-get install -y chromium (or set FLOE_TEST_CHROMIUM)`;
    if (process.env.CI) throw new Error(`the browser tests need it in CI. ${msg}`);
    console.warn(`# SKIPPING browser tests: ${msg}`);
    return null;
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/** Fails the page's test when it asks any host but the server under test (no CDN, no web fonts). */
export function forbidOutsideRequests(page: Page, base: string, seen: string[]): void {
  const origin = new URL(base).origin;
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(origin) && !u.startsWith('data:') && !u.startsWith('blob:')) seen.push(u);
  });
}

export const WAIT_MS = 90_000;

/** Polls `check` (in Node, reading the page through locators) until it is true; the error says what was awaited. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = WAIT_MS): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
