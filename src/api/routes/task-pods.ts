// GET …/taskInstances/:taskId/tries/:tryNumber/pods: the pods a Kubernetes try ran in, as created, with their
// Kubernetes events and failure reason (recorded by the Kubernetes executor in task_pod).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { readTaskPods } from '../../db/task-pods.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../problem.ts';
import { idText, intParam, parseInput } from '../validate.ts';
import { requireRun, runParams } from './dag-runs.ts';

export function taskPodRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const params = runParams.extend({ taskId: idText('task id'), tryNumber: intParam(1, 1_000_000) });
  app.get('/dags/:dagId/dagRuns/:runId/taskInstances/:taskId/tries/:tryNumber/pods', async (req) => {
    const p = parseInput(params, req.params, 'path');
    const { mapIndex } = parseInput(z.object({ mapIndex: intParam(-1, 1_000_000).default(-1) }).strict(), req.query, 'query');
    const key = { dagId: p.dagId, runId: p.runId, taskId: p.taskId, mapIndex };
    const pods = await readTaskPods(ctx.db.kysely, key, p.tryNumber);
    if (!pods.length) {
      await requireRun(ctx, p.dagId, p.runId);
      throw new ApiError(404, `no pod recorded for try ${p.tryNumber} of ${p.dagId}.${p.taskId}${mapIndex >= 0 ? `[${mapIndex}]` : ''} in run ${p.runId} (it did not run on the Kubernetes executor, or its pod was never created)`);
    }
    return { pods, totalEntries: pods.length };
  });
}
