// The task-runner processes of one `floe worker`: each runs one try at a time. Warm processes are reused
// for the next try (DAG files stay imported, the DB stays open); with `isolate` every try gets a fresh one.
// The pool claims each try before handing it over and records the outcome its process sends back, batched
// with its other processes' (BatchedTryRecorder): one DB writer per worker, however many task processes.
import { type ChildProcess, fork } from 'node:child_process';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import { type Db, openDb } from '../db/connect.ts';
import { getTI } from '../db/task-instances.ts';
import type { TryJobData } from '../executors/queue/protocol.ts';
import { childExecArgv, ownEntryUrl } from '../util/own-modules.ts';
import { CHILD_SETTINGS_ENV, type QueueChildReply, type QueueChildRequest, type QueueChildSettings } from './queue-child-protocol.ts';
import { noteRecorded, TaskLog, taskLogPath } from './task-log.ts';
import { BatchedTryRecorder, notQueuedReason } from './try-recorder.ts';

const CHILD = fileURLToPath(ownEntryUrl('worker/queue-child'));
/** Extra time a runner gets past executionTimeout to record the timeout itself before it is killed. */
const KILL_GRACE_MS = 5000;

export interface PoolOptions {
  settings: QueueChildSettings;
  /** A fresh process per try (core.isolateTasks) instead of reusing warm ones. */
  isolate: boolean;
  /** Extra environment of task processes (e.g. FLOE_WORKER_NAME). */
  env?: Record<string, string>;
  /** Recorded with each try this pool claims, beside the host: two workers on one host are told apart. */
  workerName?: string;
}

export interface RunnerDone {
  ran: boolean;
  state: string | null;
  reason: string | null;
  pid: number;
}

interface Proc {
  child: ChildProcess;
  ready: Promise<void>;
  busy: boolean;
  killReason: string | null;
}

/** A task process that ended without reporting a result: the try's reason says how. */
export class RunnerLostError extends Error {}

export class RunnerPool {
  private readonly procs = new Set<Proc>();
  private closed = false;
  private opened: Promise<{ db: Db; recorder: BatchedTryRecorder }> | null = null;

  constructor(private readonly o: PoolOptions) {}

  /** Processes running a try now. */
  get busy(): number {
    let n = 0;
    for (const p of this.procs) if (p.busy) n++;
    return n;
  }

  /**
   * Claims the try (as `externalId`), runs it in a task process and records how it ended. Resolves `ran: false`
   * when the try was not queued (a second delivery) or its process could not run it; rejects with
   * RunnerLostError when the process dies first (the claimed try is then left to zombie detection).
   */
  async run(data: TryJobData, externalId: string, onStart?: (pid: number) => void): Promise<RunnerDone> {
    if (this.closed) throw new RunnerLostError('the worker is stopping');
    const proc = [...this.procs].find((p) => !p.busy && p.child.exitCode === null && p.child.signalCode === null) ?? this.spawn();
    proc.busy = true;
    proc.killReason = null;
    let timer: NodeJS.Timeout | undefined;
    let reuse = !this.o.isolate;
    try {
      await proc.ready;
      const pid = proc.child.pid!;
      let claimed: boolean;
      let db: Db, recorder: BatchedTryRecorder;
      try {
        ({ db, recorder } = await this.store());
        claimed = await recorder.claim(data.key, data.tryNumber, { hostname: this.o.workerName ? `${hostname()} (worker ${this.o.workerName})` : hostname(), pid, externalId, launchId: data.launchId });
      } catch (e) {
        // Not claimed, so not run: the try is still queued, and the executor adds it again (a bounded number of times).
        return { ran: false, state: null, reason: `the worker could not claim the try in the metadata database: ${(e as Error).message}`, pid };
      }
      if (!claimed) return { ran: false, state: null, reason: notQueuedReason(await getTI(db.kysely, data.key).catch(() => undefined), data.tryNumber), pid };
      onStart?.(pid);
      if (data.executionTimeout != null)
        timer = setTimeout(() => {
          proc.killReason = `killed: the try ran ${data.executionTimeout}s (executionTimeout) and did not stop`;
          proc.child.kill('SIGKILL');
        }, data.executionTimeout * 1000 + KILL_GRACE_MS);
      const reply = await this.runIn(proc, { type: 'run', key: data.key, tryNumber: data.tryNumber, dagHash: data.dagHash });
      if (reply.end === null) return { ran: false, state: null, reason: reply.reason, pid };
      // A timed-out task may still be running inside its process: never reuse it for another try.
      if (reply.timedOut) reuse = false;
      const log = new TaskLog(taskLogPath(this.o.settings.logsFolder, data.key, data.tryNumber));
      try {
        noteRecorded(log, reply.end.state, await recorder.finish(data.key, data.tryNumber, reply.end, reply.returnJson));
      } catch (e) {
        log.line('WARN', `the outcome (${reply.end.state}) could not be recorded: ${(e as Error).message}`);
        return { ran: false, state: null, reason: `the worker could not record the outcome (${reply.end.state}): ${(e as Error).message}`, pid };
      } finally {
        await log.close();
      }
      return { ran: true, state: reply.end.state, reason: reply.end.reason, pid };
    } finally {
      clearTimeout(timer);
      proc.busy = false;
      if (!reuse || this.closed) this.retire(proc);
    }
  }

  /** Sends a try to a task process; resolves with its reply, rejects when the process ends first. */
  private runIn(proc: Proc, request: QueueChildRequest): Promise<Extract<QueueChildReply, { type: 'done' }>> {
    const pid = proc.child.pid;
    return new Promise((resolve, reject) => {
      if (proc.child.exitCode !== null || proc.child.signalCode !== null || !proc.child.connected) {
        reject(new RunnerLostError(proc.killReason ?? `task process (pid ${pid}) ended before it was handed the try`));
        return;
      }
      const onMessage = (m: QueueChildReply) => {
        if (m?.type !== 'done') return;
        cleanup();
        resolve(m);
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) => {
        cleanup();
        const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
        reject(new RunnerLostError(proc.killReason ?? `task process (pid ${pid}) ${how} before recording a result`));
      };
      const cleanup = () => {
        proc.child.off('message', onMessage);
        proc.child.off('exit', onExit);
      };
      proc.child.on('message', onMessage);
      proc.child.on('exit', onExit);
      proc.child.send(request);
    });
  }

  /** The worker's DB connection and the recorder of its claims and outcomes, opened on first use. */
  private store(): Promise<{ db: Db; recorder: BatchedTryRecorder }> {
    this.opened ??= openDb(this.o.settings.dbUrl, { migrate: false }).then(
      (db) => ({ db, recorder: new BatchedTryRecorder(db) }),
      (e: unknown) => {
        this.opened = null; // open again with the next try
        throw e;
      },
    );
    return this.opened;
  }

  /** Kills the processes running tries (their runs reject with `reason`); returns how many. */
  killBusy(reason: string): number {
    let n = 0;
    for (const p of this.procs)
      if (p.busy) {
        p.killReason = reason;
        p.child.kill('SIGKILL');
        n++;
      }
    return n;
  }

  /** Stops idle processes now and busy ones as their tries end. */
  async close(): Promise<void> {
    this.closed = true;
    const exits = [...this.procs].map((p) => new Promise<void>((resolve) => (p.child.exitCode !== null || p.child.signalCode !== null ? resolve() : p.child.once('exit', () => resolve()))));
    for (const p of this.procs) if (!p.busy) this.retire(p);
    await Promise.all(exits);
    if (this.opened) await (await this.opened.catch(() => null))?.db.close();
  }

  private spawn(): Proc {
    const child = fork(CHILD, [], {
      execArgv: childExecArgv(),
      env: { ...process.env, ...this.o.env, [CHILD_SETTINGS_ENV]: JSON.stringify(this.o.settings) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const ready = new Promise<void>((resolve, reject) => {
      const onMessage = (m: QueueChildReply) => {
        if (m?.type !== 'ready') return;
        child.off('exit', onExit);
        child.off('message', onMessage);
        resolve();
      };
      const onExit = (code: number | null, signal: NodeJS.Signals | null) =>
        reject(new RunnerLostError(`task process (pid ${child.pid}) ${signal ? `was killed by ${signal}` : `exited with code ${code}`} while starting (its error is in the worker's output)`));
      child.on('message', onMessage);
      child.on('exit', onExit);
    });
    ready.catch(() => {});
    const proc: Proc = { child, ready, busy: false, killReason: null };
    child.on('error', () => {});
    child.on('exit', () => this.procs.delete(proc));
    this.procs.add(proc);
    return proc;
  }

  private retire(p: Proc): void {
    this.procs.delete(p);
    if (p.child.connected) p.child.disconnect(); // the child exits on disconnect
    setTimeout(() => p.child.kill('SIGKILL'), 3000).unref();
  }
}
