// /api/v1/dags/:dagId/dagRuns: list (`~` for every DAG), get, trigger (the same path as `floe dags trigger`).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { RUN_ID_PATTERN, RUN_ID_RULE } from '../../dag/run-input.ts';
import { findDag } from '../../core-queries/dags.ts';
import { dagHasRuns, getDagRun, listDagRuns, triggerDagRun } from '../../core-queries/runs.ts';
import { DAG_RUN_STATES } from '../../scheduler/states.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../problem.ts';
import { dagRunJson } from '../serialize.ts';
import { idText, isoDate, listParam, pageQuery, parseInput } from '../validate.ts';
import { requireDag } from './dags.ts';

export const runParams = z.object({ dagId: idText('DAG id'), runId: idText('run id') });

/** The run, or a 404 naming what is missing (the DAG or the run). */
export async function requireRun(ctx: ApiContext, dagId: string, runId: string) {
  const run = await getDagRun(ctx.db.kysely, dagId, runId);
  if (run) return run;
  if (!(await findDag(ctx.db.kysely, dagId)) && !(await dagHasRuns(ctx.db.kysely, dagId))) await requireDag(ctx, dagId);
  throw new ApiError(404, `DAG "${dagId}" has no run "${runId}"`);
}

export function dagRunRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const listQuery = z.object({ ...pageQuery, state: listParam(DAG_RUN_STATES).optional() }).strict();
  app.get('/dags/:dagId/dagRuns', async (req) => {
    const { dagId } = parseInput(z.object({ dagId: idText('DAG id') }), req.params, 'path');
    const q = parseInput(listQuery, req.query, 'query');
    const all = dagId === '~';
    // Runs of a DAG no longer parsed are still listed; a DAG with neither a row nor runs is unknown.
    if (!all && !(await findDag(ctx.db.kysely, dagId)) && !(await dagHasRuns(ctx.db.kysely, dagId))) await requireDag(ctx, dagId);
    const { rows, total } = await listDagRuns(ctx.db.kysely, { dagId: all ? undefined : dagId, states: q.state, limit: q.limit, offset: q.offset });
    return { dagRuns: rows.map(dagRunJson), totalEntries: total };
  });

  app.get('/dags/:dagId/dagRuns/:runId', async (req) => {
    const { dagId, runId } = parseInput(runParams, req.params, 'path');
    return dagRunJson(await requireRun(ctx, dagId, runId));
  });

  const triggerBody = z
    .object({
      /** Merged over the DAG's params. */
      conf: z.record(z.string(), z.unknown(), { error: 'expected a JSON object like {"key": "value"}' }).optional(),
      logicalDate: isoDate.optional(),
      runId: z.string().regex(RUN_ID_PATTERN, `expected a run id of ${RUN_ID_RULE}`).optional(),
    })
    .strict();
  app.post('/dags/:dagId/dagRuns', async (req, reply) => {
    const { dagId } = parseInput(z.object({ dagId: idText('DAG id') }), req.params, 'path');
    const body = parseInput(triggerBody, req.body, 'body');
    const dag = await requireDag(ctx, dagId);
    const runId = await triggerDagRun(ctx.db.kysely, dag.dag, { conf: body.conf, logicalDate: body.logicalDate, runId: body.runId });
    req.log.info({ dagId, runId, by: req.principal?.source }, 'DAG run triggered');
    const run = await requireRun(ctx, dagId, runId);
    return reply
      .code(201)
      .header('location', `/api/v1/dags/${encodeURIComponent(dagId)}/dagRuns/${encodeURIComponent(runId)}`)
      .send(dagRunJson(run));
  });
}
