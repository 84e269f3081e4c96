// The queue executor: each try becomes a BullMQ job on the queue named by the task's `queue`; `floe worker`
// processes run them. Results come back through BullMQ's event stream (QueueEvents); a periodic check of
// quiet tries against Redis and the metadata DB catches what the stream missed (Redis restarted, events
// trimmed, a worker lost), so no try is lost or leaks an executor slot.
//
// The executor only reports; it never writes task state. It tracks only the tries it was handed or
// adopted, and ignores every other job on the same queues (other schedulers, a hybrid's other half).
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../../config/load.ts';
import type { Db } from '../../db/connect.ts';
import { type Executor, type ExecutorEvent, type ExecutorOptions, type TaskRef, tiKeyString, type Workload } from '../types.ts';
import { externalIdFor, jobIdFor, queueNameProblem } from './job-id.ts';
import { isLostWorkerReason, parseTryJobData, parseTryJobResult, TRY_JOB_NAME, type TryJobData, type TryJobResult } from './protocol.ts';
import { queueSettings } from './settings.ts';
import { readTries, type TryRow, tryIsOver } from '../../db/task-instances.ts';

export interface QueueExecutorConfig {
  redisUrl: string;
  /** Redis key prefix of the queues (queue.prefix). */
  prefix: string;
  /** Tries in flight at once (core.parallelism): handed over and not yet known to be over. */
  parallelism: number;
  /** How long a try may go without news before it is checked against Redis and the DB (ms). */
  reconcileIntervalMs?: number;
  log?: Logger;
}

/** Longest wait for one Redis round trip (add, state check) before it counts as failed and is retried. */
const REDIS_TIMEOUT_MS = 5000;
const CLOSE_TIMEOUT_MS = 2000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;
/** A try waiting this long on a queue without being picked up earns a warning (no worker listens?). */
const WAITING_WARN_MS = 60_000;
/** A job whose try is still queued after the worker refused it or lost it is added again at most this often. */
const MAX_READDS = 2;
// Finished jobs stay in Redis a while so that adding the same try again is a no-op, then go.
const JOB_OPTIONS = { attempts: 1, removeOnComplete: { age: 3600, count: 20_000 }, removeOnFail: { age: 7 * 86_400, count: 20_000 } };

interface Entry {
  jobId: string;
  queue: string;
  data: TryJobData;
  /** An add succeeded (the job is, or was, in Redis). */
  sent: boolean;
  adding: boolean;
  addFailures: number;
  nextAddAt: number;
  sentAt: number;
  /** Last time an event or a check said something about this try (ms). */
  lastNews: number;
  runningReported: boolean;
  /** The job is over but the try still runs elsewhere (a second delivery was refused): follow the DB only. */
  handedOff: boolean;
  readds: number;
  settling: boolean;
}

interface QueueHandle {
  queue: Queue;
  events: QueueEvents | null;
  /** Resolves once the event stream is read from a point before any add of this executor. */
  listening: Promise<void> | null;
}

const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

const isConnectionError = (err: unknown): boolean =>
  /no answer from Redis|max retries per request|ECONNREFUSED|ECONNRESET|Connection is closed|Stream isn't writeable/i.test((err as Error)?.message ?? '');

/** Plain words for the socket errors that mean Redis cannot be reached. */
const SOCKET_CAUSES: Record<string, string> = {
  ECONNREFUSED: 'connection refused (nothing accepts connections at that address)',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  ETIMEDOUT: 'connection timed out',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ECONNRESET: 'connection reset',
};

/**
 * Why Redis refused a call, in the user's terms. A failed call often only says ioredis gave up ("max retries
 * per request", or our own "no answer" timeout); the socket error the connection last reported is the cause.
 */
export function redisFailureCause(err: unknown, connectionError: unknown): string {
  const message = (err as Error)?.message ?? String(err);
  const gaveUp = /max retries per request|no answer from Redis|Connection is closed|Stream isn't writeable/i.test(message);
  const cause = gaveUp && connectionError ? connectionError : err;
  const text = (cause as Error)?.message ?? String(cause);
  const code = (cause as { code?: unknown })?.code;
  if (typeof code === 'string' && SOCKET_CAUSES[code]) return `${SOCKET_CAUSES[code]}: ${text}`;
  if (cause === err && gaveUp) return /no answer from Redis within/i.test(text) ? `no answer within ${REDIS_TIMEOUT_MS / 1000}s` : 'the connection to Redis is down';
  return text;
}

/** The one warning of a Redis outage: what Floe tried, why it failed, what happens to the tries, what to check. */
export function redisOutageMessage(o: { url: string; tried: string; cause: string; waiting: number }): string {
  const auth = /NOAUTH|WRONGPASS|invalid password|invalid username/i.test(o.cause) ? ', and its user and password' : '';
  return (
    `queue executor: ${o.tried} failed on Redis at ${o.url}: ${o.cause}. ` +
    `${o.waiting} ${o.waiting === 1 ? 'try stays' : 'tries stay'} queued and ${o.waiting === 1 ? 'is' : 'are'} added again every ${RETRY_MIN_MS / 1000}–${RETRY_MAX_MS / 1000} s until Redis answers. ` +
    `Check that Redis is running and reachable from this scheduler at that address (queue.redisUrl or FLOE__QUEUE__REDIS_URL${auth}).`
  );
}

/** Resolves/rejects like `p`, or rejects after `ms`; a late rejection of `p` is swallowed. */
async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => {});
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: no answer from Redis within ${ms / 1000}s`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export class QueueExecutor implements Executor {
  readonly name = 'queue';
  private readonly entries = new Map<string, Entry>();
  private events: ExecutorEvent[] = [];
  private readonly handles = new Map<string, QueueHandle>();
  private redis: Redis | null = null;
  private pumpTimer: NodeJS.Timeout | null = null;
  private pumpQueued = false;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private reconciling: Promise<void> | null = null;
  private stopped = false;
  private outageSince: number | null = null;
  /** The last socket error of the command connection: the cause behind ioredis' "max retries" failures. */
  private connectionError: Error | null = null;
  private readonly waitWarnedAt = new Map<string, number>();
  private readonly reconcileMs: number;

  constructor(
    private readonly cfg: QueueExecutorConfig,
    private readonly db: Db,
    private readonly opts: ExecutorOptions,
  ) {
    this.reconcileMs = cfg.reconcileIntervalMs ?? 5000;
  }

  async start(): Promise<void> {
    this.client();
    this.reconcileTimer = setInterval(() => void this.reconcile(), Math.max(50, Math.floor(this.reconcileMs / 2)));
    this.reconcileTimer.unref();
  }

  queue(work: Workload): void {
    const jobId = jobIdFor(work.key, work.tryNumber, work.launchId);
    const problem = queueNameProblem(work.queue);
    if (problem) {
      this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'failed', reason: `task ${work.key.taskId} cannot be queued: ${problem} (task option "queue")` });
      return;
    }
    if (this.entries.has(jobId)) return;
    const data: TryJobData = { key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, executionTimeout: work.executionTimeout, queuedAt: new Date().toISOString(), dagHash: work.dagHash };
    this.entries.set(jobId, this.newEntry(jobId, work.queue, data, false));
    this.schedulePump(0);
  }

  async sync(): Promise<ExecutorEvent[]> {
    const out = this.events;
    this.events = [];
    return out;
  }

  openSlots(): number {
    return Math.max(0, this.cfg.parallelism - this.entries.size);
  }

  /** Tries in flight (handed over or adopted, not yet known to be over), by job id; for tests and status. */
  inFlight(): { jobId: string; queue: string; sent: boolean }[] {
    return [...this.entries.values()].map((e) => ({ jobId: e.jobId, queue: e.queue, sent: e.sent }));
  }

  /**
   * Takes over queued tries of a dead scheduler whose job is in Redis. Tries without a job (never added,
   * lost with Redis' data, or not this executor's at all) are returned: the scheduler queues them again
   * under the same try number, hence the same job id, so even a wrong "not found" cannot run a try twice.
   */
  async adopt(refs: TaskRef[]): Promise<TaskRef[]> {
    if (!refs.length) return [];
    let found: Map<string, { queue: string; data: TryJobData }>;
    try {
      found = await within(this.findJobs(refs), REDIS_TIMEOUT_MS * 2, 'looking up jobs to adopt');
    } catch (e) {
      this.cfg.log?.warn({ err: e }, 'queue executor: cannot look up the jobs of a dead scheduler in Redis; its tries are queued again');
      return refs;
    }
    const notAdopted: TaskRef[] = [];
    const adoptedQueues = new Set<string>();
    for (const ref of refs) {
      const jobId = jobIdFor(ref.key, ref.tryNumber, ref.launchId);
      const job = found.get(jobId);
      if (this.entries.has(jobId)) continue;
      if (!job) {
        notAdopted.push(ref);
        continue;
      }
      this.entries.set(jobId, this.newEntry(jobId, job.queue, job.data, true));
      adoptedQueues.add(job.queue);
    }
    // Follow the adopted jobs' queues from now on, then learn where they are (they may have finished while
    // no scheduler listened); a queue whose stream cannot be read now is left to the periodic checks.
    for (const name of adoptedQueues)
      await within(this.listen(name, this.handle(name)), REDIS_TIMEOUT_MS, `reading the event stream of queue "${name}"`).catch((err: unknown) =>
        this.cfg.log?.debug({ err, queue: name }, 'queue executor: cannot follow the events of an adopted queue yet'),
      );
    if (adoptedQueues.size) void this.reconcile(true);
    return notAdopted;
  }

  /** Launches the scheduler took back: their jobs are removed while they still wait (a worker that took one is refused by its claim). */
  async revoke(refs: TaskRef[]): Promise<void> {
    for (const ref of refs) {
      const jobId = jobIdFor(ref.key, ref.tryNumber, ref.launchId);
      const e = this.entries.get(jobId);
      if (!e) continue;
      this.entries.delete(jobId);
      if (!e.sent) continue;
      await within(this.handle(e.queue).queue.remove(jobId), REDIS_TIMEOUT_MS, `removing job ${jobId}`).catch((err: unknown) =>
        this.cfg.log?.debug({ err, job: jobId }, 'queue executor: could not remove the job of a launch taken back (a worker may hold it; its claim is refused)'),
      );
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.reconcileTimer) clearInterval(this.reconcileTimer);
    if (this.reconciling) await this.reconciling.catch(() => {});
    const handles = [...this.handles.values()];
    this.handles.clear();
    const closing = handles.flatMap((h) => [h.events?.close(), h.queue.close()]).filter((p): p is Promise<void> => !!p);
    try {
      await within(Promise.all(closing), CLOSE_TIMEOUT_MS, 'closing queues');
    } catch {
      // Redis is away: drop the connections instead of waiting for it (their promises may never settle).
      for (const h of handles) for (const p of [h.events?.disconnect(), h.queue.disconnect()]) p?.catch(() => {});
    }
    this.redis?.disconnect();
    this.redis = null;
  }

  // ---- adding jobs -------------------------------------------------------------------------------------

  private newEntry(jobId: string, queue: string, data: TryJobData, sent: boolean): Entry {
    const now = Date.now();
    return { jobId, queue, data, sent, adding: false, addFailures: 0, nextAddAt: now, sentAt: sent ? now : 0, lastNews: sent ? 0 : now, runningReported: false, handedOff: false, readds: 0, settling: false };
  }

  private client(): Redis {
    if (!this.redis) {
      // One connection for every queue's commands; QueueEvents need their own (blocking reads).
      this.redis = new Redis(this.cfg.redisUrl, { maxRetriesPerRequest: 3 });
      // Outages surface (once) through failed adds, see noteOutage, which names this error as their cause.
      this.redis.on('error', (e: Error) => (this.connectionError = e));
      this.redis.on('ready', () => (this.connectionError = null));
    }
    return this.redis;
  }

  private handle(name: string): QueueHandle {
    let h = this.handles.get(name);
    if (!h) {
      h = { queue: new Queue(name, { connection: this.client(), prefix: this.cfg.prefix }), events: null, listening: null };
      h.queue.on('error', () => {});
      this.handles.set(name, h);
    }
    return h;
  }

  /** Starts reading the queue's event stream from the Redis server's current time, so no later event is missed. */
  private listen(name: string, h: QueueHandle): Promise<void> {
    h.listening ??= (async () => {
      const [sec, usec] = await this.client().time();
      const events = new QueueEvents(name, { connection: { url: this.cfg.redisUrl }, prefix: this.cfg.prefix, lastEventId: `${Number(sec) * 1000 + Math.floor(Number(usec) / 1000)}-0` });
      events.on('error', () => {});
      events.on('active', ({ jobId }) => this.onActive(name, jobId));
      events.on('completed', ({ jobId, returnvalue }) => this.onCompleted(name, jobId, returnvalue));
      events.on('failed', ({ jobId, failedReason }) => this.onFailed(name, jobId, failedReason));
      h.events = events;
    })().catch((e: unknown) => {
      h.listening = null; // try again with the next add
      throw e;
    });
    return h.listening;
  }

  private schedulePump(delayMs: number): void {
    if (this.stopped) return;
    if (delayMs <= 0) {
      // Many queue() calls of one scheduler loop become one addBulk per queue.
      if (this.pumpQueued) return;
      this.pumpQueued = true;
      setImmediate(() => {
        this.pumpQueued = false;
        this.pump();
      });
      return;
    }
    if (this.pumpTimer) return;
    this.pumpTimer = setTimeout(() => {
      this.pumpTimer = null;
      this.pump();
    }, delayMs);
  }

  private pump(): void {
    if (this.stopped) return;
    const now = Date.now();
    const due = new Map<string, Entry[]>();
    let nextAt = Infinity;
    for (const e of this.entries.values()) {
      if (e.sent || e.adding) continue;
      if (e.nextAddAt <= now) due.set(e.queue, [...(due.get(e.queue) ?? []), e]);
      else nextAt = Math.min(nextAt, e.nextAddAt);
    }
    for (const [name, list] of due) void this.addBatch(name, list);
    if (nextAt < Infinity) this.schedulePump(nextAt - now);
  }

  private async addBatch(name: string, list: Entry[]): Promise<void> {
    for (const e of list) e.adding = true;
    let step = `reading the event stream of queue "${name}" (before adding ${list.length === 1 ? 'a try' : `${list.length} tries`})`;
    try {
      const h = this.handle(name);
      await within(this.listen(name, h), REDIS_TIMEOUT_MS, step);
      const jobs = list.map((e) => ({ name: TRY_JOB_NAME, data: e.data, opts: { ...JOB_OPTIONS, jobId: e.jobId } }));
      step = `adding ${jobs.length === 1 ? 'a try' : `${jobs.length} tries`} to queue "${name}"`;
      await within(h.queue.addBulk(jobs), REDIS_TIMEOUT_MS, step);
      const now = Date.now();
      for (const e of list) {
        e.adding = false;
        e.sent = true;
        e.sentAt = now;
        e.lastNews = now;
      }
      this.noteRecovery(list.length);
    } catch (err) {
      // The try stays queued (in the DB and here) and is added again later; its fixed job id makes a
      // duplicate add (the timed-out one may still land) a no-op.
      const now = Date.now();
      for (const e of list) {
        e.adding = false;
        e.addFailures++;
        e.nextAddAt = now + Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(10, e.addFailures - 1));
      }
      this.noteOutage(err, name, step);
      this.schedulePump(RETRY_MIN_MS);
    }
  }

  private noteOutage(err: unknown, queue: string, tried: string): void {
    if (this.outageSince !== null) return;
    this.outageSince = Date.now();
    const waiting = [...this.entries.values()].filter((e) => !e.sent).length;
    const cause = redisFailureCause(err, this.connectionError);
    this.cfg.log?.warn({ queue, waiting, cause }, redisOutageMessage({ url: redact(this.cfg.redisUrl), tried, cause, waiting }));
    this.cfg.log?.debug({ err, connectionError: this.connectionError }, 'queue executor: the failed Redis call');
  }

  private noteRecovery(added: number): void {
    if (this.outageSince === null) return;
    this.cfg.log?.info({ added, downForMs: Date.now() - this.outageSince }, `queue executor: Redis at ${redact(this.cfg.redisUrl)} accepts tries again`);
    this.outageSince = null;
  }

  // ---- results ------------------------------------------------------------------------------------------

  private entryFor(queue: string, jobId: string): Entry | undefined {
    const e = this.entries.get(jobId);
    return e && e.queue === queue && !e.settling ? e : undefined;
  }

  private onActive(queue: string, jobId: string): void {
    const e = this.entryFor(queue, jobId);
    if (!e) return;
    e.sent = true; // an add whose reply was lost
    e.lastNews = Date.now();
    this.reportRunning(e);
  }

  private reportRunning(e: Entry): void {
    if (e.runningReported) return;
    e.runningReported = true;
    // No externalId (the worker's task runner records it with its claim) and no wake: the scheduler has
    // nothing to do about a start, so it is handed over with the next loop's events.
    this.events.push({ key: e.data.key, tryNumber: e.data.tryNumber, launchId: e.data.launchId, state: 'running' });
  }

  private onCompleted(queue: string, jobId: string, value: unknown): void {
    const e = this.entryFor(queue, jobId);
    if (e) void this.settle(e, () => this.afterResult(e, parseTryJobResult(value)));
  }

  private onFailed(queue: string, jobId: string, failedReason: string): void {
    const e = this.entryFor(queue, jobId);
    if (e) void this.settle(e, () => this.afterFailure(e, failedReason));
  }

  /** Runs one decision about an entry at a time (an event and a check may race). */
  private async settle(e: Entry, decide: () => Promise<void>): Promise<void> {
    if (e.settling) return;
    e.settling = true;
    try {
      await decide();
    } catch (err) {
      // Redis being unreachable is reported once by the adds; anything else deserves a warning.
      const level = isConnectionError(err) ? 'debug' : 'warn';
      this.cfg.log?.[level]({ err, job: e.jobId }, 'queue executor: could not settle a try; it is checked again later');
    } finally {
      e.settling = false;
      e.lastNews = Date.now();
    }
  }

  private async afterResult(e: Entry, result: TryJobResult | null): Promise<void> {
    if (!result) {
      // Not a result a Floe worker writes: the DB still says whether the try runs, ended, or never started.
      await this.followDb(e, `the worker's result for job ${e.jobId} on queue "${e.queue}" is not a Floe try result`);
      return;
    }
    if (result.ran) {
      this.finish(e, result.state === 'success' ? 'success' : 'failed', result.reason ?? undefined);
      return;
    }
    // The runner refused the try: normal for a second delivery of a try that already runs or ended.
    await this.followDb(e, `worker ${result.worker} did not run the try: ${result.reason}`);
  }

  private async afterFailure(e: Entry, failedReason: string): Promise<void> {
    if (isLostWorkerReason(failedReason)) {
      // The worker holding the job stopped renewing its lock (killed, hung, cut off from Redis). Whether
      // the try is over is the DB's to say: the runner may still record it, else zombie detection ends it.
      await this.followDb(e, `the worker that took the try was lost before it started the task (BullMQ: ${failedReason})`);
      return;
    }
    this.finish(e, 'failed', failedReason);
  }

  /** Decides from the try's row: over → forget; running elsewhere → follow the DB; still queued → add again (bounded), then fail. */
  private async followDb(e: Entry, whyIfQueued: string): Promise<void> {
    const row = (await readTries(this.db.kysely, [e.data.key])).get(tiKeyString(e.data.key));
    if (tryIsOver(row, e.data.tryNumber, e.data.launchId)) return this.release(e);
    if (row!.state === 'running') {
      e.handedOff = true;
      return;
    }
    // A result that arrives late (its event after a periodic check already re-added the job) belongs to an earlier
    // delivery: only a job that is over now may be re-added, else one refusal would be counted twice.
    const q = this.handle(e.queue).queue;
    const state = await within(q.getJobState(e.jobId), REDIS_TIMEOUT_MS, `reading the state of job ${e.jobId}`);
    if (state !== 'completed' && state !== 'failed') return;
    if (e.readds < MAX_READDS) {
      e.readds++;
      await within(q.remove(e.jobId), REDIS_TIMEOUT_MS, `removing job ${e.jobId}`);
      this.readd(e);
      return;
    }
    this.finish(e, 'failed', whyIfQueued);
  }

  private readd(e: Entry): void {
    e.sent = false;
    e.handedOff = false;
    e.runningReported = false;
    e.nextAddAt = Date.now();
    this.schedulePump(0);
  }

  private finish(e: Entry, state: 'success' | 'failed', reason?: string): void {
    if (this.entries.get(e.jobId) !== e) return;
    this.entries.delete(e.jobId);
    this.emit({ key: e.data.key, tryNumber: e.data.tryNumber, launchId: e.data.launchId, state, reason, externalId: externalIdFor(e.queue, e.jobId) });
  }

  /** Forgets a try whose end the scheduler learns from the DB; wakes it, as a slot came free. */
  private release(e: Entry): void {
    if (this.entries.get(e.jobId) !== e) return;
    this.entries.delete(e.jobId);
    this.opts.wake();
  }

  private emit(ev: ExecutorEvent): void {
    this.events.push(ev);
    this.opts.wake();
  }

  // ---- reconciliation -----------------------------------------------------------------------------------

  /** Checks quiet tries (no news for reconcileInterval) against the DB, then Redis. `all`: every sent try now. */
  private reconcile(all = false): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.reconciling) return this.reconciling;
    this.reconciling = this.reconcileOnce(all)
      .catch((err: unknown) => this.cfg.log?.debug({ err }, 'queue executor: check of in-flight tries failed; retried later'))
      .finally(() => (this.reconciling = null));
    return this.reconciling;
  }

  private async reconcileOnce(all: boolean): Promise<void> {
    const now = Date.now();
    const quiet = [...this.entries.values()].filter((e) => e.sent && !e.settling && (all || now - e.lastNews >= this.reconcileMs));
    if (!quiet.length) return;
    const rows = await readTries(this.db.kysely, quiet.map((e) => e.data.key));
    const ask: Entry[] = [];
    for (const e of quiet) {
      const row = rows.get(tiKeyString(e.data.key));
      if (tryIsOver(row, e.data.tryNumber, e.data.launchId)) this.release(e);
      else if (e.handedOff) e.lastNews = now;
      else ask.push(e);
    }
    for (const e of ask) {
      if (this.stopped) return;
      if (this.entries.get(e.jobId) !== e || e.settling) continue;
      await this.settle(e, () => this.checkJob(e, rows.get(tiKeyString(e.data.key))!));
    }
  }

  private async checkJob(e: Entry, row: TryRow): Promise<void> {
    const q = this.handle(e.queue).queue;
    // State first, then the job: a job read while active and completed just after has no result yet.
    const state = await within(q.getJobState(e.jobId), REDIS_TIMEOUT_MS, `reading the state of job ${e.jobId}`);
    if (state === 'unknown') {
      // Gone from Redis (restarted without its data, or removed): the DB says what to do.
      if (row.state === 'queued') {
        this.cfg.log?.info({ job: e.jobId, queue: e.queue }, 'queue executor: the job of a queued try is missing from Redis; adding it again');
        this.readd(e);
      } else e.handedOff = true;
      return;
    }
    if (state === 'completed' || state === 'failed') {
      // Final states: the job read now holds its result.
      const job = await within(q.getJob(e.jobId), REDIS_TIMEOUT_MS, `reading job ${e.jobId}`);
      if (!job) return; // removed meanwhile; the next check sees it gone
      if (state === 'completed') return this.afterResult(e, parseTryJobResult(job.returnvalue));
      return this.afterFailure(e, job.failedReason ?? 'failed without a reason');
    }
    if (state === 'active') return this.reportRunning(e);
    if (Date.now() - e.sentAt >= WAITING_WARN_MS) this.warnWaiting(e.queue);
  }

  private warnWaiting(queue: string): void {
    const last = this.waitWarnedAt.get(queue) ?? 0;
    if (Date.now() - last < WAITING_WARN_MS) return;
    this.waitWarnedAt.set(queue, Date.now());
    const n = [...this.entries.values()].filter((e) => e.queue === queue && e.sent && !e.runningReported).length;
    this.cfg.log?.warn({ queue, waiting: n }, `queue executor: ${n} tries wait on queue "${queue}" for over ${WAITING_WARN_MS / 1000}s; is a "floe worker --queues ${queue}" running?`);
  }

  // ---- adoption -----------------------------------------------------------------------------------------

  /** The Floe jobs among `refs` that exist on any queue of this prefix: job id → queue and data. */
  private async findJobs(refs: TaskRef[]): Promise<Map<string, { queue: string; data: TryJobData }>> {
    const redis = this.client();
    const names = new Set(this.handles.keys());
    for (const n of await this.queueNamesInRedis()) names.add(n);
    const ids = refs.map((r) => jobIdFor(r.key, r.tryNumber, r.launchId));
    const pipe = redis.pipeline();
    const asked: { jobId: string; queue: string }[] = [];
    for (const jobId of ids)
      for (const queue of names) {
        pipe.hget(`${this.cfg.prefix}:${queue}:${jobId}`, 'data');
        asked.push({ jobId, queue });
      }
    const replies = (await pipe.exec()) ?? [];
    const out = new Map<string, { queue: string; data: TryJobData }>();
    replies.forEach(([err, raw], i) => {
      if (err || typeof raw !== 'string') return;
      const { jobId, queue } = asked[i];
      try {
        out.set(jobId, { queue, data: parseTryJobData(JSON.parse(raw), `job ${jobId} on queue "${queue}"`) });
      } catch {
        /* not a Floe job: leave it to whoever owns it */
      }
    });
    return out;
  }

  private async queueNamesInRedis(): Promise<string[]> {
    const redis = this.client();
    const glob = this.cfg.prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
    const names = new Set<string>();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${glob}:*:meta`, 'COUNT', 1000);
      cursor = next;
      for (const k of keys) names.add(k.slice(this.cfg.prefix.length + 1, -':meta'.length));
    } while (cursor !== '0');
    return [...names].filter((n) => !n.includes(':'));
  }
}


/** The executor as `core.executor: queue` configures it (queue.* keys, core.parallelism). */
export function createQueueExecutor(cfg: LoadedConfig, db: Db, opts: ExecutorOptions, log?: Logger): QueueExecutor {
  const s = queueSettings(cfg.queue);
  return new QueueExecutor({ redisUrl: s.redisUrl, prefix: s.prefix, parallelism: cfg.core.parallelism, reconcileIntervalMs: s.reconcileInterval * 1000, log }, db, opts);
}
