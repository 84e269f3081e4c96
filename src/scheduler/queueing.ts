// The critical section: scheduled → queued within executor slots, pools and each DAG's maxActiveTasks.
// On PostgreSQL the pool rows are locked (FOR UPDATE) so schedulers queue one at a time, and candidate
// rows are taken with SKIP LOCKED; no try is queued twice and no pool over-fills.
import type { Logger } from 'pino';
import type { SerializedDag, SerializedTask } from '../dag/model.ts';
import type { Db } from '../db/connect.ts';
import type { Executor, Workload } from '../executors/types.ts';
import { chunks, groupBy, runKey } from '../util/collections.ts';
import { nowIso } from '../util/time.ts';

export interface QueueingContext {
  executor: Executor;
  jobId: number;
  dags: Map<string, { dag: SerializedDag; paused: boolean; hash?: string }>;
  scope?: { dagId: string; runIds: string[] };
  log: Logger;
  /** Called when candidates were cut by the query limit or slots: the caller should loop again at once. */
  onMore?: () => void;
  /**
   * A launch id never handed out before (`<jobId>.<n>`): the tries queued by one statement share one, which is
   * enough, since a task instance is queued at most once by a statement.
   */
  nextLaunchId: () => string;
}

export interface Candidate {
  dag_id: string;
  run_id: string;
  task_id: string;
  map_index: number;
  try_number: number;
  pool: string;
  pool_slots: number;
}

/** Pure choice of which candidates (already in priority order) fit the limits. */
export function chooseToQueue(
  candidates: Candidate[],
  limits: { slots: number; poolFree: Map<string, number>; dagFree: Map<string, number> },
  onNoPool?: (c: Candidate) => void,
): Candidate[] {
  const chosen: Candidate[] = [];
  const poolFree = new Map(limits.poolFree);
  const dagFree = new Map(limits.dagFree);
  for (const c of candidates) {
    if (chosen.length >= limits.slots) break;
    const pf = poolFree.get(c.pool);
    if (pf === undefined) {
      onNoPool?.(c);
      continue;
    }
    if (pf < c.pool_slots) continue;
    const df = dagFree.get(c.dag_id) ?? 0;
    if (df <= 0) continue;
    poolFree.set(c.pool, pf - c.pool_slots);
    dagFree.set(c.dag_id, df - 1);
    chosen.push(c);
  }
  return chosen;
}

export const taskRunCommand = (c: { dagId: string; runId: string; taskId: string; mapIndex: number }, tryNumber: number, launchId: string): string[] => [
  'floe', 'tasks', 'run', c.dagId, c.taskId, c.runId, '--try', String(tryNumber), '--map-index', String(c.mapIndex), '--launch', launchId,
];

const warnedNoPool = new Set<string>();
const taskMaps = new WeakMap<SerializedDag, Map<string, SerializedTask>>();
export function taskOf(dag: SerializedDag, taskId: string): SerializedTask | undefined {
  let m = taskMaps.get(dag);
  if (!m) taskMaps.set(dag, (m = new Map(dag.tasks.map((t) => [t.taskId, t]))));
  return m.get(taskId);
}

/** Queues what fits and returns how many; calls `ctx.onMore` when more may be queueable right away. */
export async function queueScheduledTasks(db: Db, ctx: QueueingContext): Promise<number> {
  const slots = ctx.executor.openSlots();
  if (slots <= 0) return 0;
  // Most loops have nothing to queue: one indexed lookup instead of the locking transaction.
  const any = await db.kysely.selectFrom('task_instance').select('task_id').where('state', '=', 'scheduled').limit(1).executeTakeFirst();
  if (!any) return 0;
  const limit = Math.max(slots * 4, 64);
  let more = false;
  const chosen = await db.kysely.transaction().execute(async (trx) => {
    let poolQuery = trx.selectFrom('pool').select(['name', 'slots']);
    if (db.dialect === 'postgres') poolQuery = poolQuery.forUpdate();
    const pools = await poolQuery.execute();
    const used = await trx
      .selectFrom('task_instance')
      .select(['pool', (eb) => eb.fn.sum<number>('pool_slots').as('n')])
      .where('state', 'in', ['queued', 'running'])
      .groupBy('pool')
      .execute();
    const usedBy = new Map(used.map((u) => [u.pool, Number(u.n)]));
    const poolFree = new Map(pools.map((p) => [p.name, p.slots - (usedBy.get(p.name) ?? 0)]));
    const activePerDag = await trx
      .selectFrom('task_instance')
      .select(['dag_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('state', 'in', ['queued', 'running'])
      .groupBy('dag_id')
      .execute();
    const activeBy = new Map(activePerDag.map((a) => [a.dag_id, Number(a.n)]));
    const dagFree = new Map<string, number>();
    for (const [id, c] of ctx.dags) if (!c.paused || ctx.scope) dagFree.set(id, c.dag.maxActiveTasks - (activeBy.get(id) ?? 0));

    let q = trx
      .selectFrom('task_instance as ti')
      .innerJoin('dag_run as dr', (j) => j.onRef('dr.dag_id', '=', 'ti.dag_id').onRef('dr.run_id', '=', 'ti.run_id'))
      .select(['ti.dag_id', 'ti.run_id', 'ti.task_id', 'ti.map_index', 'ti.try_number', 'ti.pool', 'ti.pool_slots'])
      .where('ti.state', '=', 'scheduled')
      .where('dr.state', '=', 'running')
      .orderBy('ti.priority_weight', 'desc')
      .orderBy('dr.logical_date')
      .orderBy('ti.task_id')
      .orderBy('ti.map_index')
      .limit(limit);
    if (ctx.scope) q = q.where('ti.dag_id', '=', ctx.scope.dagId).where('ti.run_id', 'in', ctx.scope.runIds);
    if (db.dialect === 'postgres') q = q.forUpdate('ti').skipLocked();
    // A task gone from its DAG (or a DAG gone) stays scheduled until the next pass marks it removed.
    const rows = await q.execute();
    more = rows.length === limit;
    const candidates = rows.filter((c) => {
      const cached = ctx.dags.get(c.dag_id);
      return cached !== undefined && taskOf(cached.dag, c.task_id) !== undefined;
    });
    const picked = chooseToQueue(candidates, { slots, poolFree, dagFree }, (c) => {
      if (warnedNoPool.has(`${c.dag_id}.${c.task_id}`)) return;
      warnedNoPool.add(`${c.dag_id}.${c.task_id}`);
      ctx.log.warn({ dagId: c.dag_id, taskId: c.task_id, pool: c.pool }, `task waits: pool "${c.pool}" does not exist (create it with floe pools set)`);
    });
    const t = nowIso();
    const launched: { c: Candidate; launchId: string }[] = [];
    // Group by run so each UPDATE is one statement for many tasks: the unmapped task instances of a run together,
    // the chosen instances of a mapped task together (only those chosen: others may not fit the limits).
    for (const group of groupBy(picked, (c) => (c.map_index < 0 ? runKey(c.dag_id, c.run_id) : `${runKey(c.dag_id, c.run_id)}\u0000${c.task_id}`)).values())
      for (const part of chunks(group, 500)) {
        const launchId = ctx.nextLaunchId();
        for (const c of part) launched.push({ c, launchId });
        let u = trx
          .updateTable('task_instance')
          .set((eb) => ({ state: 'queued', try_number: eb('try_number', '+', 1), launch_id: launchId, queued_at: t, queued_by_job_id: ctx.jobId, updated_at: t, external_executor_id: null }))
          .where('dag_id', '=', part[0].dag_id)
          .where('run_id', '=', part[0].run_id);
        u = part[0].map_index < 0
          ? u.where('task_id', 'in', part.map((c) => c.task_id)).where('map_index', '=', -1)
          : u.where('task_id', '=', part[0].task_id).where('map_index', 'in', part.map((c) => c.map_index));
        await u.where('state', '=', 'scheduled').execute();
      }
    return launched;
  });
  for (const { c, launchId } of chosen) {
    const cached = ctx.dags.get(c.dag_id)!;
    const task = taskOf(cached.dag, c.task_id)!;
    const key = { dagId: c.dag_id, runId: c.run_id, taskId: c.task_id, mapIndex: c.map_index };
    const tryNumber = c.try_number + 1;
    const work: Workload = {
      key,
      tryNumber,
      launchId,
      command: taskRunCommand(key, tryNumber, launchId),
      queue: task.queue,
      executorConfig: task.executorConfig,
      fileloc: cached.dag.fileloc,
      executionTimeout: task.executionTimeout,
      task,
      dagHash: cached.hash,
    };
    ctx.executor.queue(work);
  }
  if (more || chosen.length === slots) ctx.onMore?.();
  return chosen.length;
}
