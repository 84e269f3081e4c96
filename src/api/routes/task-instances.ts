// /api/v1/dags/:dagId/dagRuns/:runId/taskInstances: the run's task instances, one with its tries, a try's log.
import { open } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { locateTaskLog } from '../../core-queries/logs.ts';
import { getTaskInstance, taskInstancesOfRun, tryHistory } from '../../core-queries/task-instances.ts';
import { apiMessage, statusCode } from '../../kubernetes/client.ts';
import { readPodLog } from '../../kubernetes/pod-logs.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../problem.ts';
import { taskInstanceJson, tryJson } from '../serialize.ts';
import { idText, intParam, pageQuery, parseInput } from '../validate.ts';
import { requireRun, runParams } from './dag-runs.ts';

const tiParams = runParams.extend({ taskId: idText('task id') });
const mapIndexQuery = { mapIndex: intParam(-1, 1_000_000).default(-1) };

export function taskInstanceRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const base = '/dags/:dagId/dagRuns/:runId/taskInstances';

  app.get(base, async (req) => {
    const { dagId, runId } = parseInput(runParams, req.params, 'path');
    const q = parseInput(z.object(pageQuery).strict(), req.query, 'query');
    await requireRun(ctx, dagId, runId);
    // A queued run has no task instances yet: they are created when it starts.
    const { rows, total } = await taskInstancesOfRun(ctx.db.kysely, dagId, runId, q);
    return { taskInstances: rows.map(taskInstanceJson), totalEntries: total };
  });

  async function requireTI(dagId: string, runId: string, taskId: string, mapIndex: number) {
    const ti = await getTaskInstance(ctx.db.kysely, dagId, runId, taskId, mapIndex);
    if (ti) return ti;
    await requireRun(ctx, dagId, runId);
    throw new ApiError(404, `run "${runId}" of DAG "${dagId}" has no task instance "${taskId}"${mapIndex >= 0 ? ` with map index ${mapIndex}` : ''}`);
  }

  app.get(`${base}/:taskId`, async (req) => {
    const { dagId, runId, taskId } = parseInput(tiParams, req.params, 'path');
    const { mapIndex } = parseInput(z.object(mapIndexQuery).strict(), req.query, 'query');
    const ti = await requireTI(dagId, runId, taskId, mapIndex);
    const tries = (await tryHistory(ctx.db.kysely, dagId, runId, { taskId, mapIndex })).map(tryJson);
    // The current try is in the history only once it ended (a reschedule-mode sensor's try goes on between pokes).
    if (ti.try_number > 0 && (ti.state === 'queued' || ti.state === 'running' || ti.state === 'up_for_reschedule'))
      tries.push(tryJson({ task_id: taskId, map_index: mapIndex, try_number: ti.try_number, state: ti.state, start_date: ti.start_date, end_date: null, hostname: ti.hostname, external_executor_id: ti.external_executor_id, reason: null }));
    return { ...taskInstanceJson(ti), tries };
  });

  app.get(`${base}/:taskId/logs/:tryNumber`, async (req, reply) => {
    const p = parseInput(tiParams.extend({ tryNumber: intParam(1, 1_000_000) }), req.params, 'path');
    // offset: bytes of the log already read (follow mode asks for what was written since).
    const { mapIndex, offset } = parseInput(z.object({ ...mapIndexQuery, offset: intParam(0, Number.MAX_SAFE_INTEGER).default(0) }).strict(), req.query, 'query');
    const ti = await requireTI(p.dagId, p.runId, p.taskId, mapIndex);
    const what = `try ${p.tryNumber} of ${p.dagId}.${p.taskId}${mapIndex >= 0 ? `[${mapIndex}]` : ''} in run ${p.runId}`;
    if (p.tryNumber > ti.try_number) throw new ApiError(404, `no ${what}: the task instance is at try ${ti.try_number}`);
    const src = await locateTaskLog(ctx.db.kysely, ctx.cfg.logging.logsFolder!, { dagId: p.dagId, runId: p.runId, taskId: p.taskId, mapIndex }, p.tryNumber);
    reply.type('text/plain; charset=utf-8').header('x-floe-log-source', src.kind === 'pod' ? `pod ${src.pod.namespace}/${src.pod.name}` : 'file');
    if (src.kind === 'file') {
      let fh;
      try {
        fh = await open(src.file, 'r');
      } catch {
        throw new ApiError(404, `no log for ${what}`);
      }
      // The size now bounds what is sent, so X-Floe-Log-Next-Offset is exactly where the next read starts.
      const size = (await fh.stat()).size;
      reply.header('x-floe-log-next-offset', String(Math.max(size, offset)));
      if (offset >= size) {
        await fh.close();
        return reply.send('');
      }
      return reply.send(fh.createReadStream({ start: offset, end: size - 1 }));
    }
    // The try ran (or runs) in a pod and its log file is not here (yet): ask the Kubernetes API.
    let api;
    try {
      api = ctx.kube();
    } catch (e) {
      req.log.warn({ err: e }, 'no Kubernetes API for a pod log');
      throw new ApiError(503, `the log of ${what} is in pod ${src.pod.namespace}/${src.pod.name}, but this server has no Kubernetes API access (${(e as Error).message})`);
    }
    try {
      const text = Buffer.from(await readPodLog(api, src.pod), 'utf8');
      reply.header('x-floe-log-next-offset', String(Math.max(text.length, offset)));
      return reply.send(text.subarray(Math.min(offset, text.length)).toString('utf8'));
    } catch (e) {
      if (statusCode(e) === 404) throw new ApiError(404, `no log for ${what}: its file is not in the logs folder and pod ${src.pod.namespace}/${src.pod.name} no longer exists`);
      req.log.warn({ err: e }, 'reading a pod log failed');
      throw new ApiError(502, `reading the log of ${what} from pod ${src.pod.namespace}/${src.pod.name} failed: ${apiMessage(e)}`);
    }
  });
}
