// The task-runner processes of one `floe worker`: each runs one try at a time. Warm processes are reused
// for the next try (DAG files stay imported, the DB stays open); with `isolate` every try gets a fresh one.
// The pool writes its processes' claims and outcomes (BatchedTryRecorder): one DB writer per worker.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TryJobData } from '../executors/queue/protocol.ts';
import { tsxExecArgv } from '../util/node-args.ts';
import { openDb, type Db } from '../db/connect.ts';
import { CHILD_SETTINGS_ENV, type QueueChildReply, type QueueChildRequest, type QueueChildSettings, type RecordWrite } from './queue-child-protocol.ts';
import { BatchedTryRecorder } from './try-recorder.ts';

const CHILD = fileURLToPath(new URL('./queue-child.ts', import.meta.url));
/** Extra time a runner gets past executionTimeout to record the timeout itself before it is killed. */
const KILL_GRACE_MS = 5000;

export interface PoolOptions {
  settings: QueueChildSettings;
  /** A fresh process per try (core.isolateTasks) instead of reusing warm ones. */
  isolate: boolean;
  /** Extra environment of task processes (e.g. FLOE_WORKER_NAME). */
  env?: Record<string, string>;
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
  private db: Promise<Db> | null = null;
  private recorder: Promise<BatchedTryRecorder> | null = null;

  constructor(private readonly o: PoolOptions) {}

  /** Processes running a try now. */
  get busy(): number {
    let n = 0;
    for (const p of this.procs) if (p.busy) n++;
    return n;
  }

  /** Runs one try in a task process; `externalId` is recorded with its claim. Rejects with RunnerLostError when the process dies first. */
  async run(data: TryJobData, externalId: string, onStart?: (pid: number) => void): Promise<RunnerDone> {
    if (this.closed) throw new RunnerLostError('the worker is stopping');
    const proc = [...this.procs].find((p) => !p.busy && p.child.exitCode === null && p.child.signalCode === null) ?? this.spawn();
    proc.busy = true;
    proc.killReason = null;
    let timer: NodeJS.Timeout | undefined;
    try {
      await proc.ready;
      const pid = proc.child.pid!;
      onStart?.(pid);
      if (data.executionTimeout != null)
        timer = setTimeout(() => {
          proc.killReason = `killed: the try ran ${data.executionTimeout}s (executionTimeout) and did not stop`;
          proc.child.kill('SIGKILL');
        }, data.executionTimeout * 1000 + KILL_GRACE_MS);
      const reply = await new Promise<Extract<QueueChildReply, { type: 'done' }>>((resolve, reject) => {
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
        proc.child.send({ type: 'run', key: data.key, tryNumber: data.tryNumber, dagHash: data.dagHash, externalId } satisfies QueueChildRequest);
      });
      return { ran: reply.ran, state: reply.state, reason: reply.reason, pid };
    } finally {
      clearTimeout(timer);
      proc.busy = false;
      if (this.o.isolate || this.closed) this.retire(proc);
    }
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
    if (this.db) await (await this.db.catch(() => null))?.close();
  }

  /** Writes what a task process asks for and answers it; a write that fails is answered with its error. */
  private record(child: ChildProcess, id: number, write: RecordWrite): void {
    this.recorder ??= (this.db ??= openDb(this.o.settings.dbUrl, { migrate: false })).then(
      (db) => new BatchedTryRecorder(db),
      (e: unknown) => {
        this.db = this.recorder = null; // open again with the next write
        throw e;
      },
    );
    this.recorder.then((r) => (write.kind === 'claim' ? r.claim(write.key, write.tryNumber, write.info) : r.finish(write.key, write.tryNumber, write.end, write.returnJson)))
      .then(
        (ok): QueueChildRequest => ({ type: 'recorded', id, ok }),
        (e: Error): QueueChildRequest => ({ type: 'recorded', id, ok: false, error: `the worker could not write to the metadata database: ${e?.message ?? e}` }),
      )
      .then((reply) => {
        if (child.connected) child.send(reply, () => {});
      });
  }

  private spawn(): Proc {
    const child = fork(CHILD, [], {
      execArgv: tsxExecArgv(),
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
    child.on('message', (m: QueueChildReply) => {
      if (m?.type === 'record') this.record(child, m.id, m.write);
    });
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
