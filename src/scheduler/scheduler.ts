// The scheduler loop: executor events → run creation → task decisions → queueing → housekeeping.
// Decisions are the pure functions of decisions.ts / trigger-rules.ts; this file reads and writes rows.
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Insertable, Kysely } from 'kysely';
import type { LoadedConfig } from '../config/load.ts';
import type { SerializedDag, SerializedTask } from '../dag/model.ts';
import type { Database, TaskInstanceTable } from '../db/schema.ts';
import type { Db } from '../db/connect.ts';
import { finishTry, finishTryIn, keyColumns, readTries, type TryEnd, tryIsOver } from '../db/task-instances.ts';
import { recordTaskPod, updateTaskPodEvents } from '../db/task-pods.ts';
import { type Executor, type ExecutorEvent, type TaskRef, type TIKey, tiKeyString } from '../executors/types.ts';
import { chunks, groupBy, runKey } from '../util/collections.ts';
import { nowIso } from '../util/time.ts';
import { createDueRuns } from './dag-runs.ts';
import { failureState, retryDelaySeconds } from '../dag/retries.ts';
import { decideRun, decideRunState, type Expansion, runTimedOut, type TIChange, timeoutChanges, type TIRow } from './decisions.ts';
import { readDecisionInputs } from './decision-inputs.ts';
import { DEFAULT_MAX_MAP_LENGTH } from '../dag/mapping.ts';
import { queueScheduledTasks, taskOf } from './queueing.ts';
import { RunTaskInstances } from './run-task-instances.ts';
import { isTIState, type TIState } from './states.ts';

export interface SchedulerOptions {
  db: Db;
  executor: Executor;
  log: Logger;
  loopIntervalMs: number;
  zombieThresholdMs: number;
  healthCheckThresholdMs: number;
  /** Launches of one try that may fail on infrastructure (runner never started) before the try fails. */
  launchFailureRetries?: number;
  /** A try queued this long without its runner's claim is taken back (scheduler.taskQueuedTimeout); 0/absent: never. */
  queuedTimeoutMs?: number;
  /** Restrict to one DAG's given runs (`dags test`, `dags backfill`); no scheduled runs are created then. */
  scope?: { dagId: string; runIds: string[] };
  /** Most instances one mapped task may have (core.maxMapLength). */
  maxMapLength?: number;
  /** Called after each DAG-run state change (progress displays). */
  onRunFinished?: (dagId: string, runId: string, state: string) => void;
  now?: () => Date;
}

interface CachedDag {
  hash: string;
  dag: SerializedDag;
  paused: boolean;
}

function newTaskInstanceRow(dagId: string, runId: string, task: SerializedTask, t: string, mapIndex = -1, state = 'none'): Insertable<TaskInstanceTable> {
  return {
    dag_id: dagId,
    run_id: runId,
    task_id: task.taskId,
    map_index: mapIndex,
    state,
    try_number: 0,
    max_tries: task.retries,
    pool: task.pool,
    pool_slots: task.poolSlots,
    queue: task.queue,
    priority_weight: 1,
    updated_at: t,
  };
}

async function insertTaskInstances(db: Kysely<Database>, rows: Insertable<TaskInstanceTable>[]): Promise<void> {
  for (const part of chunks(rows, 200)) await db.insertInto('task_instance').values(part).onConflict((oc) => oc.doNothing()).execute();
}

const HOUSEKEEPING_MS = 2000;
const RUN_CREATION_MS = 1000;
const JOB_HEARTBEAT_MS = 5000;

export class Scheduler {
  jobId = 0;
  private readonly dags = new Map<string, CachedDag>();
  private readonly runTis = new RunTaskInstances();
  private wakeUp: (() => void) | null = null;
  private woken = false;
  private stopped = false;
  private lastHousekeeping = 0;
  private lastRunCreation = 0;
  private lastJobHeartbeat = 0;
  private launchSeq = 0;
  private readonly now: () => Date;

  constructor(private readonly o: SchedulerOptions) {
    this.now = o.now ?? (() => new Date());
  }

  /** Wakes the loop now (executor events, new runs). */
  wake = (): void => {
    this.woken = true;
    this.wakeUp?.();
  };

  async start(): Promise<void> {
    const t = nowIso();
    const job = await this.o.db.kysely
      .insertInto('job')
      .values({ job_type: this.o.scope ? 'scoped_scheduler' : 'scheduler', hostname: hostname(), pid: process.pid, state: 'running', start_date: t, latest_heartbeat: t })
      .returning('id')
      .executeTakeFirstOrThrow();
    this.jobId = job.id;
    await this.o.executor.start({ schedulerId: String(this.jobId) });
    this.o.log.info({ jobId: this.jobId, executor: this.o.executor.name }, 'scheduler started');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake();
    await this.o.executor.stop();
    await this.o.db.kysely.updateTable('job').set({ state: 'stopped', latest_heartbeat: nowIso() }).where('id', '=', this.jobId).execute();
  }

  /** Runs loops until `done()` says so (checked after every loop) or stop() is called. */
  async run(done: () => boolean | Promise<boolean> = () => false): Promise<void> {
    for (let loops = 0; !this.stopped; loops++) {
      this.woken = false;
      try {
        await this.loopOnce();
        if (loops === 0) this.o.log.debug({ uptimeMs: Math.round(process.uptime() * 1000) }, 'first scheduler loop done');
      } catch (e) {
        // Nothing a DAG or a bad row does may end the scheduler: log and carry on.
        this.o.log.error({ err: e }, 'scheduler loop failed; continuing');
      }
      if (await done()) return;
      if (!this.woken && !this.stopped)
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.o.loopIntervalMs);
          this.wakeUp = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      this.wakeUp = null;
    }
  }

  async loopOnce(): Promise<void> {
    const now = this.now();
    await this.refreshDags();
    await this.processEvents(await this.o.executor.sync());
    if (!this.o.scope && now.getTime() - this.lastRunCreation >= RUN_CREATION_MS) {
      this.lastRunCreation = now.getTime();
      for (const { dag, paused } of this.dags.values()) {
        if (paused) continue;
        try {
          if ((await createDueRuns(this.o.db.kysely, dag, now)) > 0) this.woken = true;
        } catch (e) {
          this.o.log.error({ err: e, dagId: dag.dagId }, 'could not create DAG runs');
        }
      }
    }
    await this.startQueuedRuns(now);
    await this.scheduleRuns(now);
    let more = false;
    await queueScheduledTasks(this.o.db, {
      executor: this.o.executor,
      jobId: this.jobId,
      dags: this.dags,
      scope: this.o.scope,
      log: this.o.log,
      onMore: () => (more = true),
      nextLaunchId: () => `${this.jobId}.${++this.launchSeq}`,
    });
    // Loop again at once only when there may be more to queue right now; executor events wake the loop anyway.
    if (more && this.o.executor.openSlots() > 0) this.woken = true;
    // Beat well within the threshold others use to declare this scheduler dead.
    if (now.getTime() - this.lastJobHeartbeat >= Math.min(JOB_HEARTBEAT_MS, this.o.healthCheckThresholdMs / 3)) {
      this.lastJobHeartbeat = now.getTime();
      await this.heartbeat(now);
    }
    if (now.getTime() - this.lastHousekeeping >= HOUSEKEEPING_MS) {
      this.lastHousekeeping = now.getTime();
      this.runTis.prune(now.getTime());
      await this.housekeeping(now);
    }
  }

  /**
   * Beats the job row. A scheduler that was too slow (paused, starved) may have been declared dead meanwhile:
   * its queued tries that had not started were taken back, and their runners' claims now fail. It says so,
   * revives its row, and carries on: its stale reports cannot touch the new launches (launch fencing).
   */
  private async heartbeat(now: Date): Promise<void> {
    const db = this.o.db.kysely;
    const r = await db.updateTable('job').set({ latest_heartbeat: now.toISOString() }).where('id', '=', this.jobId).where('state', '=', 'running').executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return;
    const job = await db.selectFrom('job').select('state').where('id', '=', this.jobId).executeTakeFirst();
    this.o.log.warn(
      { jobId: this.jobId, state: job?.state },
      'this scheduler was taken for dead (its heartbeat was older than scheduler.healthCheckThreshold): other schedulers took back the tries it had queued that had not started; carrying on',
    );
    await db.updateTable('job').set({ state: 'running', latest_heartbeat: now.toISOString() }).where('id', '=', this.jobId).execute();
  }

  private async refreshDags(): Promise<void> {
    let q = this.o.db.kysely.selectFrom('dag').select(['dag_id', 'hash', 'is_paused']).where('is_active', '=', 1);
    if (this.o.scope) q = q.where('dag_id', '=', this.o.scope.dagId);
    const rows = await q.execute();
    const seen = new Set<string>();
    for (const r of rows) {
      seen.add(r.dag_id);
      const cur = this.dags.get(r.dag_id);
      if (cur && cur.hash === r.hash) {
        cur.paused = r.is_paused === 1;
        continue;
      }
      const full = await this.o.db.kysely.selectFrom('dag').select('serialized').where('dag_id', '=', r.dag_id).executeTakeFirstOrThrow();
      this.dags.set(r.dag_id, { hash: r.hash, dag: JSON.parse(full.serialized) as SerializedDag, paused: r.is_paused === 1 });
    }
    for (const id of this.dags.keys()) if (!seen.has(id)) this.dags.delete(id);
  }

  /** Executor saw a try's process end: if the runner did not record an outcome, the try failed. */
  private async processEvents(events: ExecutorEvent[]): Promise<void> {
    if (!events.length) return;
    const db = this.o.db.kysely;
    // One transaction for all handles of a loop: one commit instead of one per try.
    const started = events.filter((ev) => ev.state === 'running' && ev.externalId);
    if (started.length)
      await db.transaction().execute(async (trx) => {
        for (const ev of started) {
          let q = trx
            .updateTable('task_instance')
            .set({ external_executor_id: ev.externalId })
            .where((eb) => eb.and(keyColumns(ev.key)))
            .where('try_number', '=', ev.tryNumber);
          if (ev.launchId) q = q.where('launch_id', '=', ev.launchId);
          await q.execute();
          if (ev.pod?.spec !== undefined) await recordTaskPod(trx, { key: ev.key, tryNumber: ev.tryNumber, namespace: ev.pod.namespace, podName: ev.pod.name, podUid: ev.pod.uid, spec: ev.pod.spec });
        }
        // A fast try may have ended (and written its history row) before its start was seen here: copy the id
        // from its task instance (same try) — one statement per run; usually no history row matches.
        for (const evs of groupBy(started, (ev) => runKey(ev.key.dagId, ev.key.runId)).values())
          for (const part of chunks([...new Set(evs.map((ev) => ev.key.taskId))], 500))
            await trx
              .updateTable('task_instance_history as h')
              .set((eb) => ({
                external_executor_id: eb
                  .selectFrom('task_instance as ti')
                  .select('ti.external_executor_id')
                  .whereRef('ti.dag_id', '=', 'h.dag_id')
                  .whereRef('ti.run_id', '=', 'h.run_id')
                  .whereRef('ti.task_id', '=', 'h.task_id')
                  .whereRef('ti.map_index', '=', 'h.map_index')
                  .whereRef('ti.try_number', '=', 'h.try_number'),
              }))
              .where('h.dag_id', '=', evs[0].key.dagId)
              .where('h.run_id', '=', evs[0].key.runId)
              .where('h.task_id', 'in', part)
              .where('h.external_executor_id', 'is', null)
              .execute();
      });
    const ended = events.filter((ev) => ev.state !== 'running');
    if (!ended.length) return;
    // What Kubernetes said about a pod that ended its try goes with the pod's record (the web UI shows it).
    for (const ev of ended)
      if (ev.pod?.events)
        await updateTaskPodEvents(
          db,
          ev.key,
          ev.tryNumber,
          ev.pod.name,
          ev.pod.events.map((e) => ({ type: e.type, reason: e.reason, message: e.message, count: e.count, lastTimestamp: e.at === null ? null : new Date(e.at).toISOString() })),
          ev.pod.reason ?? null,
        );
    const current = await readTries(db, ended.map((ev) => ev.key));
    for (const ev of ended) {
      const ti = current.get(tiKeyString(ev.key));
      // A report about another launch (taken back, queued again) is stale: the launch it names is over.
      if (!ti || tryIsOver(ti, ev.tryNumber, ev.launchId)) continue;
      let reason = ev.reason ?? `the executor reports the try ${ev.state === 'success' ? 'ended' : 'failed'} but the task runner recorded no result`;
      if (ev.infraFailure && ti.state === 'queued') {
        const r = await this.takeBack({ key: ev.key, tryNumber: ev.tryNumber, launchId: ev.launchId ?? ti.launch_id }, reason, { launchFailure: true, externalId: ev.externalId });
        if (r !== 'over_budget') continue;
        reason = `${reason} (gave up after ${this.o.launchFailureRetries ?? 3} relaunches)`;
      }
      await this.failTry(ev.key, ev.tryNumber, reason, ev.launchId);
    }
  }

  /**
   * Puts one launch of a queued try back to `scheduled` with the same try number, so it is launched again (as a
   * new launch) without spending the task's retries — one statement that a runner's claim of the same launch
   * cannot race (see claimTry): whichever comes first wins. `launchFailure`: the launch failed on
   * infrastructure and counts against kubernetes.podLaunchFailureRetries ('over_budget' once they are spent:
   * the caller fails the try). 'stale': the launch was not queued any more (claimed, ended, taken back).
   */
  private async takeBack(
    ref: { key: TIKey; tryNumber: number; launchId: string | null },
    reason: string,
    o: { launchFailure: boolean; externalId?: string | null },
  ): Promise<'taken_back' | 'over_budget' | 'stale'> {
    const db = this.o.db.kysely;
    const limit = this.o.launchFailureRetries ?? 3;
    const r = await db.transaction().execute(async (trx) => {
      let prior = 0;
      if (o.launchFailure) {
        const n = await trx
          .selectFrom('task_launch_failure')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where((eb) => eb.and(keyColumns(ref.key)))
          .where('try_number', '=', ref.tryNumber)
          .executeTakeFirstOrThrow();
        prior = Number(n.n);
        if (prior >= limit) {
          await trx.insertInto('task_launch_failure').values({ ...keyColumns(ref.key), try_number: ref.tryNumber, external_executor_id: o.externalId ?? null, reason, recorded_at: nowIso() }).execute();
          return { result: 'over_budget' as const, prior };
        }
      }
      let q = trx
        .updateTable('task_instance')
        .set((eb) => ({ state: 'scheduled', try_number: eb('try_number', '-', 1), launch_id: null, queued_by_job_id: null, reason: o.launchFailure ? `relaunching after: ${reason}` : reason, updated_at: nowIso() }))
        .where((eb) => eb.and(keyColumns(ref.key)))
        .where('try_number', '=', ref.tryNumber)
        .where('state', '=', 'queued');
      if (ref.launchId) q = q.where('launch_id', '=', ref.launchId);
      if (Number((await q.executeTakeFirst()).numUpdatedRows) !== 1) return { result: 'stale' as const, prior };
      if (o.launchFailure)
        await trx.insertInto('task_launch_failure').values({ ...keyColumns(ref.key), try_number: ref.tryNumber, external_executor_id: o.externalId ?? null, reason, recorded_at: nowIso() }).execute();
      await trx.updateTable('dag_run').set({ last_scheduling_decision: null }).where('dag_id', '=', ref.key.dagId).where('run_id', '=', ref.key.runId).execute();
      return { result: 'taken_back' as const, prior };
    });
    if (r.result === 'taken_back') {
      if (o.launchFailure) this.o.log.warn({ ti: ref.key, tryNumber: ref.tryNumber, attempt: r.prior + 1 }, `launch failed, relaunching: ${reason}`);
      this.woken = true;
    }
    return r.result;
  }

  /** Ends a try (only the given launch of it, when given) as failed or up_for_retry (per the task's retries), with a reason. */
  async failTry(k: TIKey, tryNumber: number, reason: string, launchId?: string | null): Promise<void> {
    const end = this.failureOf(k, tryNumber, reason);
    if (await finishTry(this.o.db.kysely, k, tryNumber, end, undefined, launchId)) this.failed(k, tryNumber, end);
  }

  /** A failed try's end: up_for_retry (with its retry time) while the task has retries left, else failed. */
  private failureOf(k: TIKey, tryNumber: number, reason: string): TryEnd {
    const cached = this.dags.get(k.dagId);
    const task = cached ? taskOf(cached.dag, k.taskId) : undefined;
    const state = failureState(tryNumber, task?.retries ?? 0);
    const nextRetryAt = state === 'up_for_retry' && task ? new Date(this.now().getTime() + retryDelaySeconds(task, tryNumber) * 1000).toISOString() : null;
    return { state, reason, nextRetryAt };
  }

  private failed(k: TIKey, tryNumber: number, end: TryEnd): void {
    this.o.log.warn({ ti: k, tryNumber, state: end.state }, end.reason ?? '');
    this.woken = true;
  }

  /**
   * Ends a try taken for a zombie, in one transaction that checks the evidence again: the try must still be
   * running with a heartbeat older than `before`. On PostgreSQL a row that another transaction holds locked is
   * skipped (SKIP LOCKED), not waited for: a write in flight on it (a scheduler paused in mid-transaction, the
   * runner's own outcome) is why the heartbeat is late, and once it lands the runner's waiting writes go first.
   */
  private async failZombie(k: TIKey, tryNumber: number, before: string, reason: string): Promise<void> {
    const end = this.failureOf(k, tryNumber, reason);
    const ended = await this.o.db.kysely.transaction().execute(async (trx) => {
      let q = trx.selectFrom('task_instance').select('try_number').where((eb) => eb.and(keyColumns(k))).where('try_number', '=', tryNumber).where('state', '=', 'running').where('last_heartbeat', '<', before);
      if (this.o.db.dialect === 'postgres') q = q.forUpdate().skipLocked();
      if (!(await q.executeTakeFirst())) return false;
      return finishTryIn(trx, k, tryNumber, end, ['running']);
    });
    if (ended) this.failed(k, tryNumber, end);
  }

  /** queued → running for runs within maxActiveRuns; creates their task instances. */
  private async startQueuedRuns(now: Date): Promise<void> {
    const db = this.o.db.kysely;
    let q = db.selectFrom('dag_run').select(['dag_id', 'run_id']).where('state', '=', 'queued').orderBy('logical_date');
    if (this.o.scope) q = q.where('dag_id', '=', this.o.scope.dagId).where('run_id', 'in', this.o.scope.runIds);
    const queued = await q.execute();
    if (!queued.length) return;
    const runningCounts = new Map(
      (await db.selectFrom('dag_run').select(['dag_id', (eb) => eb.fn.countAll<number>().as('n')]).where('state', '=', 'running').groupBy('dag_id').execute()).map(
        (r) => [r.dag_id, Number(r.n)],
      ),
    );
    for (const run of queued) {
      const cached = this.dags.get(run.dag_id);
      // Pausing stops scheduling, not the runs a user asked for explicitly (dags test, backfill).
      if (!cached || (cached.paused && !this.o.scope)) continue;
      const running = runningCounts.get(run.dag_id) ?? 0;
      if (running >= cached.dag.maxActiveRuns) continue;
      const started = await db.transaction().execute(async (trx) => {
        if (this.o.db.dialect === 'postgres') {
          // Several schedulers: lock the DAG's row, then count again, so maxActiveRuns holds across them.
          await trx.selectFrom('dag').select('dag_id').where('dag_id', '=', run.dag_id).forUpdate().execute();
          const n = await trx
            .selectFrom('dag_run')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('dag_id', '=', run.dag_id)
            .where('state', '=', 'running')
            .executeTakeFirstOrThrow();
          if (Number(n.n) >= cached.dag.maxActiveRuns) return false;
        }
        const r = await trx
          .updateTable('dag_run')
          .set({ state: 'running', start_date: now.toISOString(), last_scheduling_decision: null })
          .where('dag_id', '=', run.dag_id)
          .where('run_id', '=', run.run_id)
          .where('state', '=', 'queued')
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) !== 1) return false;
        const t = now.toISOString();
        // A run started again (cleared, marked queued) keeps its rows; a mapped task's rows have map indexes from
        // 0, so only tasks with no row at all get their placeholder.
        const existing = new Set((await trx.selectFrom('task_instance').select('task_id').distinct().where('dag_id', '=', run.dag_id).where('run_id', '=', run.run_id).execute()).map((x) => x.task_id));
        const rows = cached.dag.tasks.filter((task) => !existing.has(task.taskId)).map((task) => newTaskInstanceRow(run.dag_id, run.run_id, task, t));
        await insertTaskInstances(trx, rows);
        return true;
      });
      if (started) runningCounts.set(run.dag_id, running + 1);
    }
  }

  /**
   * Applies trigger rules, due retries and reschedules, branch skips and mapped-task expansions to runs that
   * changed, fails runs past their dagRunTimeout, and finishes runs whose tasks are all done.
   */
  private async scheduleRuns(now: Date): Promise<void> {
    const db = this.o.db.kysely;
    let q = db
      .selectFrom('dag_run')
      .select(['dag_id', 'run_id', 'tis_edited_at', 'start_date'])
      .where('state', '=', 'running')
      .where((eb) => eb.or([eb('last_scheduling_decision', 'is', null), eb('last_scheduling_decision', '<', new Date(now.getTime() - 10_000).toISOString())]));
    if (this.o.scope) q = q.where('dag_id', '=', this.o.scope.dagId).where('run_id', 'in', this.o.scope.runIds);
    const runs = await q.execute();
    for (const run of runs) {
      const cached = this.dags.get(run.dag_id);
      if (!cached) continue;
      const decidedAt = nowIso();
      // Mark first: a try finishing while we decide clears the mark again, so no change is missed.
      await db.updateTable('dag_run').set({ last_scheduling_decision: decidedAt }).where('dag_id', '=', run.dag_id).where('run_id', '=', run.run_id).execute();
      const tis = await this.runTis.read(db, run.dag_id, run.run_id, now.getTime(), run.tis_edited_at);
      // Tasks added to the DAG after the run started get their task instances now.
      const have = new Set(tis.map((t) => t.task_id));
      const missing = cached.dag.tasks.filter((t) => !have.has(t.taskId));
      if (missing.length) {
        const t = nowIso();
        await insertTaskInstances(db, missing.map((task) => newTaskInstanceRow(run.dag_id, run.run_id, task, t)));
        for (const m of missing) tis.push({ task_id: m.taskId, map_index: -1, state: 'none', try_number: 0, next_retry_at: null });
      }
      const rows: TIRow[] = tis.map((t) => ({ taskId: t.task_id, mapIndex: t.map_index, state: (isTIState(t.state) ? t.state : 'none') as TIState, tryNumber: t.try_number, nextRetryAt: t.next_retry_at }));
      const timedOut = runTimedOut(cached.dag, run.start_date, now);
      let changes: TIChange[];
      let expansions: Expansion[] = [];
      if (timedOut) changes = timeoutChanges(rows);
      else {
        const inputs = await readDecisionInputs(db, cached.dag, run.run_id, rows, this.o.maxMapLength ?? DEFAULT_MAX_MAP_LENGTH);
        ({ changes, expansions } = decideRun(cached.dag, rows, now, inputs));
      }
      if (changes.length || expansions.length) await this.applyChanges(run.dag_id, run.run_id, cached.dag, changes, expansions);
      this.runTis.changed(run.dag_id, run.run_id, [...changes, ...expansions]);
      const final = new Map(rows.map((r) => [`${r.taskId}\u0000${r.mapIndex}`, { taskId: r.taskId, state: r.state }]));
      for (const c of changes) final.set(`${c.taskId}\u0000${c.mapIndex ?? -1}`, { taskId: c.taskId, state: c.to });
      for (const e of expansions) {
        final.delete(`${e.taskId}\u0000-1`);
        for (let i = 0; i < e.count; i++) final.set(`${e.taskId}\u0000${i}`, { taskId: e.taskId, state: 'scheduled' });
      }
      const runState = timedOut ? 'failed' : decideRunState(cached.dag, [...final.values()]);
      if (runState !== 'running') {
        const r = await db
          .updateTable('dag_run')
          .set({ state: runState, end_date: nowIso() })
          .where('dag_id', '=', run.dag_id)
          .where('run_id', '=', run.run_id)
          .where('state', '=', 'running')
          .where('last_scheduling_decision', '=', decidedAt)
          .executeTakeFirst();
        if (Number(r.numUpdatedRows) === 1) {
          this.runTis.forget(run.dag_id, run.run_id);
          if (timedOut) this.o.log.warn({ dagId: run.dag_id, runId: run.run_id }, `DAG run failed: it ran longer than ${cached.dag.dagRunTimeout}s (dagRunTimeout); its unfinished task instances were skipped`);
          else this.o.log.info({ dagId: run.dag_id, runId: run.run_id, state: runState }, 'DAG run finished');
          this.o.onRunFinished?.(run.dag_id, run.run_id, runState);
          this.woken = true; // room for the next queued run
        }
      }
    }
  }

  /**
   * Writes one pass's decisions in one transaction: one UPDATE per (from, to, reason) for the unmapped task
   * instances of the run and per mapped task, each only from the state it was decided from; expansions turn a
   * mapped task's placeholder into instance 0 and add the others, all scheduled.
   */
  private async applyChanges(dagId: string, runId: string, dag: SerializedDag, changes: TIChange[], expansions: Expansion[]): Promise<void> {
    await this.o.db.kysely.transaction().execute(async (trx) => {
      const t = nowIso();
      for (const group of groupBy(changes, (c) => `${c.from}\u0000${c.to}\u0000${c.reason ?? ''}\u0000${c.mapIndex === undefined ? '' : c.taskId}`).values()) {
        const { from, to, reason } = group[0];
        const end = to === 'skipped' || to === 'upstream_failed' || to === 'removed' || to === 'failed' ? t : null;
        const set = {
          state: to,
          updated_at: t,
          ...(end ? { end_date: end } : {}),
          ...(to === 'scheduled' ? { next_retry_at: null } : {}),
          ...(reason ? { reason } : {}),
        };
        for (const part of chunks(group, 500)) {
          let u = trx
            .updateTable('task_instance')
            // A sensor poked again keeps its try number: queueing adds one, so take one off here (as a take-back does).
            .set(from === 'up_for_reschedule' && to === 'scheduled' ? (eb) => ({ ...set, try_number: eb('try_number', '-', 1) }) : set)
            .where('dag_id', '=', dagId)
            .where('run_id', '=', runId);
          u = part[0].mapIndex === undefined
            ? u.where('task_id', 'in', part.map((c) => c.taskId)).where('map_index', '=', -1)
            : u.where('task_id', '=', part[0].taskId).where('map_index', 'in', part.map((c) => c.mapIndex!));
          await u.where('state', '=', from).execute();
        }
      }
      for (const e of expansions) {
        const task = taskOf(dag, e.taskId);
        if (!task) continue;
        const r = await trx
          .updateTable('task_instance')
          .set({ map_index: 0, state: 'scheduled', updated_at: t })
          .where('dag_id', '=', dagId)
          .where('run_id', '=', runId)
          .where('task_id', '=', e.taskId)
          .where('map_index', '=', -1)
          .where('state', '=', 'none')
          .executeTakeFirst();
        // Another scheduler expanded it first: its instances are there already.
        if (Number(r.numUpdatedRows) !== 1) continue;
        const rows = Array.from({ length: e.count - 1 }, (_, i) => newTaskInstanceRow(dagId, runId, task, t, i + 1, 'scheduled'));
        await insertTaskInstances(trx, rows);
        this.o.log.info({ dagId, runId, taskId: e.taskId, instances: e.count }, 'mapped task expanded');
      }
    });
  }

  /** Zombies (no runner heartbeat), runaway timeouts, due retries, dead schedulers' queued work. */
  private async housekeeping(now: Date): Promise<void> {
    const db = this.o.db.kysely;
    // Retries whose delay has passed, sensors due for their next poke: mark their runs for a look.
    const due = await db
      .selectFrom('task_instance')
      .select(['dag_id', 'run_id'])
      .distinct()
      .where('state', 'in', ['up_for_retry', 'up_for_reschedule'])
      .where('next_retry_at', '<=', now.toISOString())
      .execute();
    for (const r of due) await db.updateTable('dag_run').set({ last_scheduling_decision: null }).where('dag_id', '=', r.dag_id).where('run_id', '=', r.run_id).execute();
    if (due.length) this.woken = true;

    const zombieBefore = new Date(now.getTime() - this.o.zombieThresholdMs).toISOString();
    const zombies = await db
      .selectFrom('task_instance')
      .select(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number', 'last_heartbeat', 'hostname', 'pid'])
      .where('state', '=', 'running')
      .where('last_heartbeat', '<', zombieBefore)
      .execute();
    for (const z of zombies) {
      await this.failZombie({ dagId: z.dag_id, runId: z.run_id, taskId: z.task_id, mapIndex: z.map_index }, z.try_number, zombieBefore,
        `zombie: no heartbeat from the task runner (pid ${z.pid ?? '?'} on ${z.hostname ?? '?'}) since ${z.last_heartbeat}, over ${this.o.zombieThresholdMs / 1000}s (scheduler.zombieThreshold)`);
    }

    await this.takeOverDeadSchedulers(now);
    await this.takeBackStuckQueued(now);
  }

  /**
   * Schedulers whose heartbeat is older than healthCheckThreshold are declared dead — one conditional UPDATE
   * each, so a scheduler that beats meanwhile is not — and the tries they queued before that moment are taken
   * over: offered to this executor (adopt), else put back to `scheduled` launch by launch (takeBack), which a
   * runner's claim of the same launch cannot race. A slow scheduler that wakes up finds its job declared dead
   * (see heartbeat) and its taken-back launches fenced off.
   */
  private async takeOverDeadSchedulers(now: Date): Promise<void> {
    const db = this.o.db.kysely;
    const declaredAt = nowIso();
    const deadBefore = new Date(now.getTime() - this.o.healthCheckThresholdMs).toISOString();
    const silent = await db.selectFrom('job').select('id').where('id', '!=', this.jobId).where('state', '=', 'running').where('latest_heartbeat', '<', deadBefore).execute();
    for (const { id } of silent) {
      const r = await db.updateTable('job').set({ state: 'dead' }).where('id', '=', id).where('state', '=', 'running').where('latest_heartbeat', '<', deadBefore).executeTakeFirst();
      if (Number(r.numUpdatedRows) === 1) this.o.log.warn({ jobId: id }, `scheduler ${id} declared dead: no heartbeat for over ${this.o.healthCheckThresholdMs / 1000}s (scheduler.healthCheckThreshold)`);
    }
    const dead = await db.selectFrom('job').select('id').where('id', '!=', this.jobId).where('state', '!=', 'running').execute();
    if (!dead.length) return;
    // Only tries queued before now: a scheduler declared dead that comes back queues new tries under its old id.
    const orphans = await db
      .selectFrom('task_instance')
      .select(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number', 'launch_id', 'external_executor_id', 'state'])
      .where('state', 'in', ['queued', 'running'])
      .where('queued_by_job_id', 'in', dead.map((d) => d.id))
      .where('queued_at', '<', declaredAt)
      .execute();
    if (!orphans.length) return;
    const refs: TaskRef[] = orphans.map((o) => ({ key: { dagId: o.dag_id, runId: o.run_id, taskId: o.task_id, mapIndex: o.map_index }, tryNumber: o.try_number, launchId: o.launch_id, externalId: o.external_executor_id }));
    const notAdopted = new Set(await this.o.executor.adopt(refs));
    const running = new Set(refs.filter((_, i) => orphans[i].state === 'running'));
    let takenBack = 0;
    for (const ref of refs) {
      // A queued try nobody adopted goes back to scheduled; a running one nobody can watch is left to zombie
      // detection (its runner may still finish it) and, like adopted ones, is now this scheduler's.
      if (notAdopted.has(ref) && !running.has(ref)) {
        if ((await this.takeBack(ref, `taken back from dead scheduler: its launch ${ref.launchId ?? ''} never started`.trim(), { launchFailure: false })) === 'taken_back') takenBack++;
        continue;
      }
      let q = db.updateTable('task_instance').set({ queued_by_job_id: this.jobId }).where((eb) => eb.and(keyColumns(ref.key))).where('try_number', '=', ref.tryNumber);
      if (ref.launchId) q = q.where('launch_id', '=', ref.launchId);
      await q.execute();
    }
    this.o.log.warn({ orphans: orphans.length, adopted: refs.length - notAdopted.size, takenBack }, 'took over tries queued by a dead scheduler');
    this.woken = true;
  }

  /**
   * Tries this scheduler queued whose runner has not claimed them within scheduler.taskQueuedTimeout (a pod
   * Running whose container never starts Floe, a job no worker takes): each launch is taken back, counting as a
   * launch failure, and the executor drops what it still holds of it (pod, job).
   */
  private async takeBackStuckQueued(now: Date): Promise<void> {
    if (!this.o.queuedTimeoutMs) return;
    const db = this.o.db.kysely;
    const stuck = await db
      .selectFrom('task_instance')
      .select(['dag_id', 'run_id', 'task_id', 'map_index', 'try_number', 'launch_id', 'external_executor_id'])
      .where('state', '=', 'queued')
      .where('queued_by_job_id', '=', this.jobId)
      .where('queued_at', '<', new Date(now.getTime() - this.o.queuedTimeoutMs).toISOString())
      .execute();
    if (!stuck.length) return;
    const reason = `queued for over ${this.o.queuedTimeoutMs / 1000}s without its task runner starting (scheduler.taskQueuedTimeout)`;
    const revoke: TaskRef[] = [];
    for (const row of stuck) {
      const ref: TaskRef = { key: { dagId: row.dag_id, runId: row.run_id, taskId: row.task_id, mapIndex: row.map_index }, tryNumber: row.try_number, launchId: row.launch_id, externalId: row.external_executor_id };
      const r = await this.takeBack(ref, reason, { launchFailure: true, externalId: row.external_executor_id });
      if (r === 'stale') continue;
      revoke.push(ref);
      if (r === 'over_budget') await this.failTry(ref.key, ref.tryNumber, `${reason} (gave up after ${this.o.launchFailureRetries ?? 3} relaunches)`, ref.launchId);
    }
    if (revoke.length) await this.o.executor.revoke(revoke);
  }
}

/** The scheduler's settings from the configuration, around a given executor; `extra` overrides. */
export function schedulerOptions(deps: { cfg: LoadedConfig; db: Db; log: Logger }, executor: Executor, extra: Partial<SchedulerOptions> = {}): SchedulerOptions {
  const { cfg } = deps;
  return {
    db: deps.db,
    executor,
    log: deps.log,
    loopIntervalMs: cfg.scheduler.loopInterval * 1000,
    zombieThresholdMs: cfg.scheduler.zombieThreshold * 1000,
    healthCheckThresholdMs: cfg.scheduler.healthCheckThreshold * 1000,
    launchFailureRetries: cfg.kubernetes.podLaunchFailureRetries,
    queuedTimeoutMs: cfg.scheduler.taskQueuedTimeout * 1000,
    maxMapLength: cfg.core.maxMapLength,
    ...extra,
  };
}
