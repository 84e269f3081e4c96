// GET /health (no auth), for probes and monitors.
//   200/503 = can this API serve: the metadata DB answers within 3 s. The scheduler's state is in the body;
//   `?requireScheduler=true` makes a scheduler without a heartbeat within scheduler.healthCheckThreshold a 503
//   too (for monitors). A dead scheduler does not take the API out of service: that is when users need it.
// GET /health/live: 200 while the process answers HTTP (liveness: restarting the API fixes no DB outage).
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { z } from 'zod';
import type { ApiContext } from '../context.ts';
import { boolParam, parseInput } from '../validate.ts';

const DB_TIMEOUT_MS = 3000;

function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms)))]).finally(() => clearTimeout(timer));
}

/** A short, host-free reason for an unauthenticated body: an error code or the timeout. */
function shortReason(e: unknown): string {
  const err = e as { code?: unknown; message?: string };
  if (typeof err?.code === 'string' && /^[A-Z0-9_]+$/.test(err.code)) return err.code;
  if (/timed out/.test(err?.message ?? '')) return 'timeout';
  return 'error';
}

export function healthRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const query = z.object({ requireScheduler: boolParam.default(false) }).strict();
  // Probes call these every few seconds: their request lines only at warn level.
  app.get('/health', { logLevel: 'warn' }, async (req, reply) => {
    const q = parseInput(query, req.query, 'query');
    const thresholdS = ctx.cfg.scheduler.healthCheckThreshold;
    let db: { status: 'healthy' } | { status: 'unhealthy'; reason: string } = { status: 'healthy' };
    let scheduler: { status: 'healthy' | 'unhealthy' | 'unknown'; liveSchedulers: number | null; latestHeartbeat: string | null; healthCheckThreshold: number };
    try {
      await within(sql`select 1`.execute(ctx.db.kysely), DB_TIMEOUT_MS, 'metadata DB check');
      const since = new Date(ctx.now().getTime() - thresholdS * 1000).toISOString();
      const jobs = await within(
        ctx.db.kysely.selectFrom('job').select('latest_heartbeat').where('job_type', '=', 'scheduler').where('state', '=', 'running').orderBy('latest_heartbeat', 'desc').execute(),
        DB_TIMEOUT_MS,
        'scheduler heartbeat query',
      );
      const live = jobs.filter((j) => j.latest_heartbeat >= since).length;
      scheduler = { status: live > 0 ? 'healthy' : 'unhealthy', liveSchedulers: live, latestHeartbeat: jobs[0]?.latest_heartbeat ?? null, healthCheckThreshold: thresholdS };
    } catch (e) {
      req.log.warn({ err: e }, 'health check: metadata DB unreachable');
      db = { status: 'unhealthy', reason: shortReason(e) };
      scheduler = { status: 'unknown', liveSchedulers: null, latestHeartbeat: null, healthCheckThreshold: thresholdS };
    }
    const ok = db.status === 'healthy' && (!q.requireScheduler || scheduler.status === 'healthy');
    return reply.code(ok ? 200 : 503).header('cache-control', 'no-store').send({ status: ok ? 'healthy' : 'unhealthy', metadatabase: db, scheduler });
  });

  app.get('/health/live', { logLevel: 'warn' }, async (_req, reply) => reply.header('cache-control', 'no-store').send({ status: 'alive' }));
}
