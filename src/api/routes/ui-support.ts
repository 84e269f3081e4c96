// Routes the web UI needs beside Airflow's own: who the token is (to show or hide write buttons), the DAGs
// list's run counts and next runs, and a task instance's XCom entries.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { findDag } from '../../core-queries/dags.ts';
import { dagStats } from '../../core-queries/dag-stats.ts';
import { listDagRuns } from '../../core-queries/runs.ts';
import { listXcom } from '../../core-queries/xcom.ts';
import type { ApiContext } from '../context.ts';
import { dagRunJson, taskInstanceJson } from '../serialize.ts';
import { idText, intParam, parseInput } from '../validate.ts';
import { requireRun, runParams } from './dag-runs.ts';
import { dagIdParams, requireDag } from './dags.ts';

export function uiSupportRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/auth/me', async (req) => ({ auth: ctx.cfg.api.auth, role: req.principal?.role ?? 'admin' }));

  const statsQuery = z
    .object({
      dagIds: z
        .union([z.string(), z.array(z.string())])
        .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean))
        .pipe(z.array(idText('DAG id')).min(1, 'expected at least one DAG id').max(1000, 'expected at most 1000 DAG ids')),
      recent: intParam(1, 1000).default(25),
    })
    .strict();
  app.get('/dagStats', async (req) => {
    const q = parseInput(statsQuery, req.query, 'query');
    const dags = (await Promise.all([...new Set(q.dagIds)].map((id) => findDag(ctx.db.kysely, id)))).filter((d) => d !== null);
    return { dagStats: await dagStats(ctx.db.kysely, dags.map((d) => d.dag), q.recent, ctx.now()) };
  });

  // The DAG page's grid in one request: the latest runs (newest first) and all their task instances.
  const gridQuery = z.object({ limit: intParam(1, 100).default(25), offset: intParam(0, Number.MAX_SAFE_INTEGER).default(0) }).strict();
  app.get('/dags/:dagId/grid', async (req) => {
    const { dagId } = parseInput(dagIdParams, req.params, 'path');
    const q = parseInput(gridQuery, req.query, 'query');
    await requireDag(ctx, dagId);
    const runs = await listDagRuns(ctx.db.kysely, { dagId, limit: q.limit, offset: q.offset });
    const runIds = runs.rows.map((r) => r.run_id);
    const tis = runIds.length ? await ctx.db.kysely.selectFrom('task_instance').selectAll().where('dag_id', '=', dagId).where('run_id', 'in', runIds).orderBy('task_id').orderBy('map_index').execute() : [];
    return { dagRuns: runs.rows.map(dagRunJson), totalEntries: runs.total, taskInstances: tis.map(taskInstanceJson) };
  });

  const tiParams = runParams.extend({ taskId: idText('task id') });
  app.get('/dags/:dagId/dagRuns/:runId/taskInstances/:taskId/xcomEntries', async (req) => {
    const p = parseInput(tiParams, req.params, 'path');
    const { mapIndex } = parseInput(z.object({ mapIndex: intParam(-1, 1_000_000).default(-1) }).strict(), req.query, 'query');
    await requireRun(ctx, p.dagId, p.runId);
    const entries = await listXcom(ctx.db.kysely, { dagId: p.dagId, runId: p.runId, taskId: p.taskId, mapIndex });
    return { xcomEntries: entries, totalEntries: entries.length };
  });
}
