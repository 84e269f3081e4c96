// An in-process executor for benchmarks: it does what a task runner does to the DB (claimTry, then
// finishTry success) for every workload, with no process and no task code, so that a run's wall time is
// the scheduler's own cost plus these unavoidable writes. With `complete: false` it accepts work and
// never finishes it (the "10,000 queued" memory benchmark).
import { hostname } from 'node:os';
import type { Db } from '../src/db/connect.ts';
import { claimTry, finishTryIn } from '../src/db/task-instances.ts';
import type { Executor, ExecutorEvent, ExecutorOptions, TaskRef, Workload } from '../src/executors/types.ts';

export interface InstantExecutorOptions extends ExecutorOptions {
  /** Open slots the scheduler sees (tries pending + being written count against it). */
  slots: number;
  /** false: hold every workload forever (never claims, never reports). Default true. */
  complete?: boolean;
}

export class InstantExecutor implements Executor {
  readonly name = 'instant';
  /** Workloads received, and their sizes per flush (one transaction each), for the raw-writes baseline. */
  received = 0;
  readonly batchSizes: number[] = [];
  private pending: Workload[] = [];
  private held: Workload[] = [];
  private inFlight = 0;
  private flushScheduled = false;
  private flushing: Promise<void> = Promise.resolve();
  private events: ExecutorEvent[] = [];
  private readonly who = { hostname: hostname(), pid: process.pid };

  constructor(
    private readonly db: Db,
    private readonly o: InstantExecutorOptions,
  ) {}

  async start(): Promise<void> {}

  queue(work: Workload): void {
    this.received++;
    if (this.o.complete === false) {
      this.held.push(work);
      return;
    }
    this.pending.push(work);
    // The scheduler queues a whole batch synchronously; flushing after it returns makes one transaction of it.
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flushing = this.flushing.then(() => this.flush());
      });
    }
  }

  async sync(): Promise<ExecutorEvent[]> {
    const out = this.events;
    this.events = [];
    return out;
  }

  openSlots(): number {
    return Math.max(0, this.o.slots - this.pending.length - this.inFlight - this.held.length);
  }

  async revoke(): Promise<void> {}

  async adopt(running: TaskRef[]): Promise<TaskRef[]> {
    return running;
  }

  async stop(): Promise<void> {
    await this.flushing;
  }

  private async flush(): Promise<void> {
    const batch = this.pending;
    this.pending = [];
    if (!batch.length) return;
    this.inFlight += batch.length;
    this.batchSizes.push(batch.length);
    let outcome: ExecutorEvent[];
    try {
      outcome = await this.db.kysely.transaction().execute(async (trx) => {
        const out: ExecutorEvent[] = [];
        for (const w of batch) {
          const ok = (await claimTry(trx, w.key, w.tryNumber, this.who)) && (await finishTryIn(trx, w.key, w.tryNumber, { state: 'success', reason: null }));
          out.push(ok ? { key: w.key, tryNumber: w.tryNumber, state: 'success' } : { key: w.key, tryNumber: w.tryNumber, state: 'failed', reason: 'instant executor: the try was not queued any more' });
        }
        return out;
      });
    } catch (e) {
      const reason = `instant executor: writing the batch failed: ${(e as Error).message}`;
      outcome = batch.map((w) => ({ key: w.key, tryNumber: w.tryNumber, state: 'failed', reason }));
    }
    this.inFlight -= batch.length;
    this.events.push(...outcome);
    this.o.wake();
  }
}
