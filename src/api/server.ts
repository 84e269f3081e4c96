// The REST API: Fastify, bearer-token auth (read / admin), JSON in camelCase, problem-details errors.
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.ts';
import type { Db } from '../db/connect.ts';
import type { KubeApi } from '../kubernetes/client.ts';
import { bearerToken, canWrite, isReadMethod, type Principal, TokenStore } from './auth.ts';
import type { ApiContext } from './context.ts';
import { installJsonBodyParser } from './json-body.ts';
import { answerClientError, installErrorHandlers, sendProblem } from './problem.ts';
import { dagRunRoutes } from './routes/dag-runs.ts';
import { dagRoutes } from './routes/dags.ts';
import { healthRoutes } from './routes/health.ts';
import { operationRoutes } from './routes/operations.ts';
import { poolRoutes } from './routes/pools.ts';
import { secretsRoutes } from './routes/secrets.ts';
import { taskInstanceRoutes } from './routes/task-instances.ts';
import { taskPodRoutes } from './routes/task-pods.ts';
import { uiSupportRoutes } from './routes/ui-support.ts';
import { isPublicUiRequest, registerUi } from './ui-static.ts';
import { configureMasker } from '../secrets/settings.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent the request (null with api.auth: none). */
    principal: Principal | null;
  }
}

export interface ApiDeps {
  db: Db;
  cfg: LoadedConfig;
  log: Logger;
  /** The Kubernetes API, for logs of tries running in pods; made on first use. */
  kube: () => KubeApi;
  now?: () => Date;
  /** Serve the web UI at / (default true); `uiRoot` is its built files (default: the repository's dist-ui/). */
  ui?: boolean;
  uiRoot?: string;
}

const REALM = 'Bearer realm="floe"';
const MAX_PARAM_LENGTH = 2000;
/** Routes served without a token (probes). */
const PUBLIC_ROUTES = new Set(['/health', '/health/live']);

/**
 * Builds the server (not listening yet). Throws AuthConfigError when api.auth is token and no token is
 * configured, or a token source is invalid.
 */
export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const auth = deps.cfg.api.auth;
  configureMasker(deps.cfg);
  const tokens = new TokenStore(deps.cfg.api, deps.log);
  let kube: KubeApi | null = null;
  const ctx: ApiContext = { db: deps.db, cfg: deps.cfg, log: deps.log, now: deps.now ?? (() => new Date()), kube: () => (kube ??= deps.kube()) };

  const app = Fastify({
    loggerInstance: deps.log as FastifyBaseLogger,
    // Run ids can be long (custom ids, ISO dates); the default 100 characters would turn them into 404s.
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH, ignoreTrailingSlash: true },
    bodyLimit: 1 << 20,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    // Requests Node refuses before Fastify sees them (headers too large, malformed HTTP): problem details too.
    clientErrorHandler: answerClientError,
    // Errors the router raises before any route (bad URL encoding, over-long parameter): problem details too.
    frameworkErrors: (err, _req, reply) => {
      const status = err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 414 : 400;
      void sendProblem(reply, status, err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? `a path parameter is longer than ${MAX_PARAM_LENGTH} characters` : 'malformed URL (bad percent-encoding)');
    },
  });
  // JSON bodies only: anything else is a 415 naming the content type.
  installJsonBodyParser(app);
  app.decorateRequest('principal', null);
  installErrorHandlers(app);

  // Deny by default: every route but the public ones, and every unmatched URL, needs a token. Decided on the
  // matched route, not on the raw URL (which may spell /api/ percent-encoded).
  app.addHook('onRequest', async (req, reply) => {
    if (auth === 'none') return;
    const route = req.routeOptions.url;
    if (route !== undefined && PUBLIC_ROUTES.has(route)) return;
    // The web UI's files and client-side routes: its data comes from /api/v1, which needs the token.
    if (isPublicUiRequest(req)) return;
    const token = bearerToken(req.headers.authorization);
    if (token === null) return sendProblem(reply, 401, 'missing bearer token: send "Authorization: Bearer <token>"', { 'www-authenticate': REALM });
    const who = token === false ? null : tokens.lookup(token);
    if (!who) return sendProblem(reply, 401, 'invalid bearer token', { 'www-authenticate': `${REALM}, error="invalid_token"` });
    req.principal = who;
    if (!isReadMethod(req.method) && !canWrite(who))
      return sendProblem(reply, 403, `this token may only read: ${req.method} ${req.url.split('?')[0]} needs an admin token`, {
        'www-authenticate': `${REALM}, error="insufficient_scope"`,
      });
  });

  healthRoutes(app, ctx);
  await app.register(
    async (v1) => {
      dagRoutes(v1, ctx);
      dagRunRoutes(v1, ctx);
      taskInstanceRoutes(v1, ctx);
      taskPodRoutes(v1, ctx);
      operationRoutes(v1, ctx);
      uiSupportRoutes(v1, ctx);
      poolRoutes(v1, ctx);
      secretsRoutes(v1, ctx);
    },
    { prefix: '/api/v1' },
  );
  if (deps.ui ?? true) await registerUi(app, { root: deps.uiRoot });
  if (auth === 'none') deps.log.warn('api.auth is none: anyone who reaches this API can trigger runs, pause DAGs and change pools');
  else deps.log.info({ readTokens: tokens.count('read'), adminTokens: tokens.count('admin') }, 'API token auth on');
  return app;
}
