// The web UI: the single-page app built into dist-ui/ (npm run build:ui), served at / beside the API. Its files
// and its client-side routes are public; the data comes from /api/v1, which keeps requiring a token.
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { sendProblem } from './problem.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A route of the web UI (static file or client-side route): served without a token. */
    floeUi?: boolean;
  }
}

/** Where `npm run build:ui` writes the app (the repository root's dist-ui/). */
export const DEFAULT_UI_ROOT = path.resolve(import.meta.dirname, '../../dist-ui');

export const UI_NOT_BUILT = 'the UI is not built: run npm run build:ui';

/** Paths the catch-all must leave to the API's own rules (a token, then a 404 problem). */
const API_PATH = /^\/?(api|health)(\/|$)/;

/** The path a catch-all route matched, decoded by the router (so /%61pi/… is seen as /api/…). */
const wildcardPath = (req: FastifyRequest): string => `/${(req.params as Record<string, string> | undefined)?.['*'] ?? ''}`;

/** True for the UI's routes: the auth hook lets these through without a token. */
export function isPublicUiRequest(req: FastifyRequest): boolean {
  if (!req.routeOptions.config?.floeUi) return false;
  return req.routeOptions.url !== '/*' || !API_PATH.test(wildcardPath(req));
}

const wantsHtml = (req: FastifyRequest): boolean => (req.headers.accept ?? '').includes('text/html');

const NOT_BUILT_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Floe</title></head>
<body style="font-family: system-ui, sans-serif; margin: 3rem; line-height: 1.5">
<h1>Floe web UI</h1><p><strong>${UI_NOT_BUILT}</strong> (it writes dist-ui/), then restart this server.</p>
<p>The REST API is served at <code>/api/v1</code> as usual.</p></body></html>`;

/**
 * Registers the UI at `/`: the built files (hashed assets cached for a year, index.html never), and index.html for
 * any other GET that accepts HTML (client-side routes, deep links). A missing build serves a page saying how to
 * build it, and logs it once: never a failed start.
 */
export async function registerUi(app: FastifyInstance, o: { root?: string } = {}): Promise<{ built: boolean }> {
  const root = o.root ?? DEFAULT_UI_ROOT;
  const built = existsSync(path.join(root, 'index.html'));
  await app.register(async (ui) => {
    ui.addHook('onRoute', (r) => {
      r.config = { ...(r.config ?? {}), floeUi: true };
    });
    if (!built) {
      app.log.warn({ root }, UI_NOT_BUILT);
      ui.get('/*', async (req, reply) => {
        if (API_PATH.test(wildcardPath(req)) || !wantsHtml(req)) return sendProblem(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`);
        return reply.code(503).type('text/html; charset=utf-8').header('cache-control', 'no-store').send(NOT_BUILT_PAGE);
      });
      return;
    }
    // Loaded here, not at the top: the CLI's other commands should not pay for it.
    const { default: fastifyStatic } = await import('@fastify/static');
    await ui.register(fastifyStatic, {
      root,
      prefix: '/',
      // One route per built file, found at start: unknown paths fall through to the catch-all below.
      wildcard: false,
      index: false,
      cacheControl: false,
      // Built assets have content hashes in their names; everything else is checked on each load.
      setHeaders: (reply, file) => {
        reply.header('cache-control', file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'no-cache');
      },
    });
    ui.get('/*', async (req, reply) => {
      if (API_PATH.test(wildcardPath(req)) || !wantsHtml(req)) return sendProblem(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`);
      return reply.header('cache-control', 'no-cache').sendFile('index.html');
    });
  });
  return { built };
}
