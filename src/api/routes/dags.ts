// /api/v1/dags and /api/v1/importErrors: DAGs as last parsed by the DAG processor (the API does not parse files).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { findDag, importErrorNaming, listDags, listImportErrors, setDagPaused } from '../../core-queries/dags.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../problem.ts';
import { dagDetailJson, dagJson, importErrorJson } from '../serialize.ts';
import { boolParam, idText, listParam, pageQuery, parseInput } from '../validate.ts';

export const dagIdParams = z.object({ dagId: idText('DAG id') });

/** The DAG, or a 404 that says why it is missing when an import error names it. */
export async function requireDag(ctx: ApiContext, dagId: string) {
  const dag = await findDag(ctx.db.kysely, dagId);
  if (dag) return dag;
  const err = await importErrorNaming(ctx.db.kysely, dagId);
  throw new ApiError(404, err ? `DAG "${dagId}" failed to import from ${err.fileloc}: ${err.message}` : `no DAG "${dagId}"`);
}

export function dagRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const listQuery = z
    .object({
      ...pageQuery,
      paused: boolParam.optional(),
      /** Include DAGs whose file no longer defines them. */
      onlyActive: boolParam.default(true),
      dagIdPrefix: idText('DAG id prefix').optional(),
    })
    .strict();
  app.get('/dags', async (req) => {
    const q = parseInput(listQuery, req.query, 'query');
    const { rows, total } = await listDags(ctx.db.kysely, { limit: q.limit, offset: q.offset, paused: q.paused, onlyActive: q.onlyActive, dagIdPrefix: q.dagIdPrefix });
    return { dags: rows.map(dagJson), totalEntries: total };
  });

  app.get('/dags/:dagId', async (req) => {
    const { dagId } = parseInput(dagIdParams, req.params, 'path');
    return dagDetailJson(await requireDag(ctx, dagId));
  });

  const patchBody = z.object({ isPaused: z.boolean() }).strict();
  app.patch('/dags/:dagId', async (req) => {
    const { dagId } = parseInput(dagIdParams, req.params, 'path');
    const body = parseInput(patchBody, req.body, 'body');
    if (!(await setDagPaused(ctx.db.kysely, dagId, body.isPaused))) await requireDag(ctx, dagId);
    req.log.info({ dagId, isPaused: body.isPaused, by: req.principal?.source }, 'DAG paused flag set');
    return dagJson(await requireDag(ctx, dagId));
  });

  const errorsQuery = z.object({ ...pageQuery, kind: listParam(['error', 'warning']).optional(), fileloc: z.string().min(1).optional() }).strict();
  app.get('/importErrors', async (req) => {
    const q = parseInput(errorsQuery, req.query, 'query');
    const { rows, total } = await listImportErrors(ctx.db.kysely, { limit: q.limit, offset: q.offset, kinds: q.kind?.length ? q.kind : ['error', 'warning'], fileloc: q.fileloc });
    return { importErrors: rows.map(importErrorJson), totalEntries: total };
  });
}
