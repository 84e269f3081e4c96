// `floe worker`: takes task tries off BullMQ queues and runs each in a task-runner process. One BullMQ
// Worker per queue (each with its concurrency); the result of a try goes back as the job's return value,
// a process that died as the job's failure reason.
import { hostname } from 'node:os';
import { type Job, Worker } from 'bullmq';
import { externalIdFor } from '../executors/queue/job-id.ts';
import { parseTryJobData, type TryJobData, type TryJobResult } from '../executors/queue/protocol.ts';
import type { QueueConcurrency } from '../executors/queue/settings.ts';
import type { TIKey } from '../executors/types.ts';
import type { QueueChildSettings } from './queue-child-protocol.ts';
import { RunnerPool } from './queue-runner-pool.ts';

export interface QueueWorkerOptions {
  redisUrl: string;
  prefix: string;
  queues: QueueConcurrency[];
  runner: QueueChildSettings;
  /** A fresh task process per try instead of warm ones (core.isolateTasks). */
  isolate?: boolean;
  /** Shown in logs, stored on jobs (BullMQ's processedBy) and given to tasks as FLOE_WORKER_NAME. */
  name?: string;
  /** BullMQ lock duration (ms): a dead worker's jobs count as stalled after this. Default 30 s. */
  lockDurationMs?: number;
  /** BullMQ stalled-job check interval (ms). Default 30 s. */
  stalledIntervalMs?: number;
  onEvent?: (e: WorkerEvent) => void;
}

export type WorkerEvent =
  | { type: 'started'; queue: string; jobId: string; key: TIKey; tryNumber: number; pid: number }
  | { type: 'finished'; queue: string; jobId: string; key: TIKey; tryNumber: number; outcome: string; reason: string | null; ms: number }
  /** A job that is not a Floe try, or a Redis connection problem (reported at most every 10 s). */
  | { type: 'problem'; message: string };

export interface WorkerStatus {
  name: string;
  queues: { name: string; concurrency: number; running: number }[];
  running: number;
  succeeded: number;
  failed: number;
  stopping: boolean;
}

const PROBLEM_EVERY_MS = 10_000;
/** Once no try runs, how long a stop waits for BullMQ to close cleanly (it needs Redis) before forcing it. */
const IDLE_CLOSE_MS = 3_000;
/** How long a forced close may take before the worker stops without it. */
const FORCE_CLOSE_MS = 3_000;

const delay = <T>(ms: number, value: T): Promise<T> => new Promise((r) => setTimeout(() => r(value), ms).unref());

export class QueueWorker {
  readonly name: string;
  private readonly pool: RunnerPool;
  private readonly workers: Worker[] = [];
  private readonly runningBy = new Map<string, number>();
  private succeeded = 0;
  private failed = 0;
  private stopping = false;
  private lastProblemAt = 0;
  private hurry: (() => void) | null = null;

  constructor(private readonly o: QueueWorkerOptions) {
    this.name = o.name ?? `${hostname()}-${process.pid}`;
    this.pool = new RunnerPool({ settings: o.runner, isolate: o.isolate ?? false, env: { FLOE_WORKER_NAME: this.name }, workerName: this.name });
  }

  /** Starts taking jobs; Redis being down is reported (as `problem` events) and waited out, not fatal. */
  start(): void {
    for (const q of this.o.queues) {
      this.runningBy.set(q.name, 0);
      const w = new Worker(q.name, (job) => this.process(q.name, job), {
        connection: { url: this.o.redisUrl },
        prefix: this.o.prefix,
        concurrency: q.concurrency,
        name: this.name,
        lockDuration: this.o.lockDurationMs ?? 30_000,
        stalledInterval: this.o.stalledIntervalMs ?? 30_000,
        // Finished jobs are kept (a while) by the options the executor adds them with.
      });
      w.on('error', (err) => this.problem(`queue "${q.name}": ${err.message}`));
      this.workers.push(w);
    }
  }

  status(): WorkerStatus {
    const queues = this.o.queues.map((q) => ({ name: q.name, concurrency: q.concurrency, running: this.runningBy.get(q.name) ?? 0 }));
    return { name: this.name, queues, running: queues.reduce((n, q) => n + q.running, 0), succeeded: this.succeeded, failed: this.failed, stopping: this.stopping };
  }

  /**
   * Graceful stop: takes no more jobs and lets running tries finish; after `timeoutMs` kills those still
   * running (their tries fail with a reason saying so). Resolves when everything is closed. Once no try runs,
   * closing waits for Redis only a little: a worker that cannot reach Redis still stops (its tries, if any ran,
   * are recorded in the database; their jobs come back as stalled and are refused as second deliveries).
   */
  async stop(timeoutMs: number): Promise<{ killed: number }> {
    this.stopping = true;
    const closing = Promise.all(this.workers.map((w) => w.close())).then(() => true);
    closing.catch(() => {});
    const hurried = new Promise<boolean>((r) => (this.hurry = () => r(false)));
    const idleThenClosed = this.whenIdle().then(() => Promise.race([closing, delay(IDLE_CLOSE_MS, false)]));
    const closed = await Promise.race([closing, idleThenClosed, hurried, delay(timeoutMs, false)]);
    let killed = 0;
    if (!closed) {
      killed = this.pool.killBusy(`killed: the worker ${this.name} was stopped and the try did not finish within its shutdown timeout (${timeoutMs / 1000}s)`);
      // The killed tries' jobs are marked failed as their processors return; then the workers close, by force
      // and within a bound when Redis does not answer (then BullMQ's connections keep retrying: the command
      // that owns the process ends it).
      if (killed) await Promise.race([closing, delay(10_000, false)]);
      await Promise.race([Promise.all(this.workers.map((w) => w.close(true))).catch(() => {}), delay(FORCE_CLOSE_MS, false)]);
    }
    await this.pool.close();
    return { killed };
  }

  /** Resolves once no try runs on this worker. */
  private async whenIdle(): Promise<void> {
    while (this.status().running > 0) await delay(100, null);
  }

  /** Kills the tries running now (a second SIGTERM); their jobs fail with `reason`. */
  killRunning(reason = `killed: the worker ${this.name} was told to stop at once`): number {
    const n = this.pool.killBusy(reason);
    // A stop under way closes now, without waiting for Redis.
    this.hurry?.();
    return n;
  }

  private problem(message: string): void {
    if (Date.now() - this.lastProblemAt < PROBLEM_EVERY_MS) return;
    this.lastProblemAt = Date.now();
    this.o.onEvent?.({ type: 'problem', message });
  }

  private async process(queue: string, job: Job): Promise<TryJobResult> {
    const jobId = job.id ?? '?';
    let data: TryJobData;
    try {
      data = parseTryJobData(job.data, `job ${jobId} on queue "${queue}"`);
    } catch (e) {
      this.problem((e as Error).message);
      throw e;
    }
    const t0 = Date.now();
    this.runningBy.set(queue, (this.runningBy.get(queue) ?? 0) + 1);
    const base = { queue, jobId, key: data.key, tryNumber: data.tryNumber };
    try {
      const done = await this.pool.run(data, externalIdFor(queue, jobId), (pid) => this.o.onEvent?.({ type: 'started', ...base, pid }));
      const result: TryJobResult = done.ran
        ? { ran: true, state: done.state ?? 'failed', reason: done.reason, worker: this.name, pid: done.pid }
        : { ran: false, reason: done.reason ?? 'the task runner did not run the try', worker: this.name, pid: done.pid };
      if (result.ran && result.state === 'success') this.succeeded++;
      else if (result.ran) this.failed++;
      this.o.onEvent?.({ type: 'finished', ...base, outcome: result.ran ? result.state : 'not run', reason: result.reason, ms: Date.now() - t0 });
      return result;
    } catch (e) {
      this.failed++;
      const reason = (e as Error).message;
      this.o.onEvent?.({ type: 'finished', ...base, outcome: 'lost', reason, ms: Date.now() - t0 });
      throw new Error(`${reason} (worker ${this.name})`);
    } finally {
      this.runningBy.set(queue, (this.runningBy.get(queue) ?? 1) - 1);
    }
  }
}
