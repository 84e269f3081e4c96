// floe api: the REST API server (src/api) and the web UI, until SIGTERM/SIGINT, which lets in-flight requests finish.
import type { Command } from '@commander-js/extra-typings';
import type { FastifyInstance } from 'fastify';
import { parseIntArg } from './common-args.ts';

/** Longest wait for in-flight requests after a stop signal before the process exits anyway. */
const CLOSE_TIMEOUT_MS = 10_000;

async function runApi(o: { host?: string; port?: string }): Promise<void> {
  const [{ loadConfig }, { TokenStore }, { openRuntime }, { serveApi }] = await Promise.all([
    import('../../config/load.ts'),
    import('../../api/auth.ts'),
    import('../runtime.ts'),
    import('./api-serve.ts'),
  ]);
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
