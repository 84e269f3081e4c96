// Clear and mark, as Airflow 2's stable REST API has them (admin tokens only: the auth hook refuses other
// writes). The work is in core-queries/operations.ts, shared with the CLI.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { clearTaskInstances, deleteDag, markTaskInstance, setDagRunState, type TaskInstanceRef } from '../../core-queries/operations.ts';
import type { ApiContext } from '../context.ts';
import { dagRunJson } from '../serialize.ts';
import { idText, intParam, isoDate, parseInput } from '../validate.ts';
import { requireRun, runParams } from './dag-runs.ts';
import { dagIdParams, requireDag } from './dags.ts';

const refJson = (r: TaskInstanceRef) => ({ dagId: r.dagId, runId: r.runId, taskId: r.taskId, mapIndex: r.mapIndex, state: r.state });

export function operationRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const clearBody = z
    .object({
      dagRunId: idText('run id').optional(),
      taskIds: z.array(idText('task id'), { error: 'expected an array of task ids' }).max(10_000).optional(),
      // As `floe tasks clear -t`: tasks whose id the regular expression finds (instead of taskIds).
      taskRegex: z.string().min(1).max(1000).optional(),
      // Only runs whose logical date is within [startDate, endDate].
      startDate: isoDate.optional(),
      endDate: isoDate.optional(),
      // Defaults as in Airflow's API: only failed task instances, and a dry run unless told otherwise.
      onlyFailed: z.boolean().default(true),
      includeDownstream: z.boolean().default(false),
      includeUpstream: z.boolean().default(false),
      dryRun: z.boolean().default(true),
    })
    .strict();
  app.post('/dags/:dagId/clearTaskInstances', async (req) => {
    const { dagId } = parseInput(dagIdParams, req.params, 'path');
    const body = parseInput(clearBody, req.body, 'body');
    const dag = await requireDag(ctx, dagId);
    if (body.dagRunId !== undefined) await requireRun(ctx, dagId, body.dagRunId);
    const r = await clearTaskInstances(ctx.db.kysely, dag.dag, { ...body, runId: body.dagRunId });
    if (!r.dryRun) req.log.info({ dagId, runId: body.dagRunId, cleared: r.cleared.length, by: req.principal?.source }, 'task instances cleared');
    return {
      taskInstances: r.cleared.map(refJson),
      notCleared: r.notCleared.map((n) => ({ ...refJson(n), reason: n.reason })),
      requeuedRuns: r.requeuedRuns,
      dryRun: r.dryRun,
    };
  });

  const tiParams = runParams.extend({ taskId: idText('task id') });
  const markBody = z.object({ newState: z.enum(['success', 'failed'], { error: 'expected "success" or "failed"' }), dryRun: z.boolean().default(false) }).strict();
  app.patch('/dags/:dagId/dagRuns/:runId/taskInstances/:taskId', async (req) => {
    const { dagId, runId, taskId } = parseInput(tiParams, req.params, 'path');
    const { mapIndex } = parseInput(z.object({ mapIndex: intParam(-1, 1_000_000).default(-1) }).strict(), req.query, 'query');
    const body = parseInput(markBody, req.body, 'body');
    const dag = await requireDag(ctx, dagId);
    const r = await markTaskInstance(ctx.db.kysely, dag.dag, { dagId, runId, taskId, mapIndex }, body.newState, { dryRun: body.dryRun });
    if (!r.dryRun && r.changed) req.log.info({ dagId, runId, taskId, mapIndex, from: r.taskInstance.state, to: r.newState, by: req.principal?.source }, 'task instance marked');
    return {
      ...refJson(r.taskInstance),
      previousState: r.taskInstance.state,
      state: r.dryRun ? r.taskInstance.state : r.newState,
      changed: r.changed,
      clearedDownstream: r.clearedDownstream.map(refJson),
      requeuedRun: r.requeuedRun,
      dryRun: r.dryRun,
    };
  });

  const runBody = z.object({ state: z.enum(['success', 'failed', 'queued'], { error: 'expected "success", "failed" or "queued"' }) }).strict();
  app.patch('/dags/:dagId/dagRuns/:runId', async (req) => {
    const { dagId, runId } = parseInput(runParams, req.params, 'path');
    const body = parseInput(runBody, req.body, 'body');
    await requireRun(ctx, dagId, runId);
    const r = await setDagRunState(ctx.db.kysely, dagId, runId, body.state);
    req.log.info({ dagId, runId, from: r.previousState, to: r.state, taskInstances: r.taskInstances.length, by: req.principal?.source }, 'DAG run state set');
    return { ...dagRunJson(await requireRun(ctx, dagId, runId)), previousState: r.previousState, taskInstances: r.taskInstances.map((t) => ({ ...refJson(t), newState: t.newState })) };
  });

  // Everything the metadata database holds about a DAG (as `floe dags delete`); its file and logs stay.
  app.delete('/dags/:dagId', async (req, reply) => {
    const { dagId } = parseInput(dagIdParams, req.params, 'path');
    const r = await deleteDag(ctx.db.kysely, dagId);
    req.log.info({ dagId, runs: r.runs, taskInstances: r.taskInstances, by: req.principal?.source }, 'DAG deleted');
    return reply.code(204).send();
  });
}
