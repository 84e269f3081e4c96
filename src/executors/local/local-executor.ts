// The local executor: a pool of `parallelism` warm runner processes (or one fresh process per try with
// core.isolateTasks). A runner process that dies mid-try is reported with the signal/exit code as reason.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childExecArgv, ownEntryUrl } from '../../util/own-modules.ts';
import type { WarmReply, WarmRequest, WarmRunnerSettings } from '../../worker/warm-runner.ts';
import { databaseUrl } from '../../config/load.ts';
import type { Executor, ExecutorDeps, ExecutorEvent, ExecutorOptions, TaskRef, Workload } from '../types.ts';

const RUNNER = fileURLToPath(ownEntryUrl('worker/warm-runner'));
/** Extra time a runner gets past executionTimeout to record the timeout itself before it is killed. */
const KILL_GRACE_MS = 5000;

interface Slot {
  child: ChildProcess;
  ready: boolean;
  work: Workload | null;
  timer: NodeJS.Timeout | null;
  killReason: string | null;
}

export interface LocalExecutorConfig {
  parallelism: number;
  isolate: boolean;
  runner: WarmRunnerSettings;
}

export class LocalExecutor implements Executor {
  readonly name = 'local';
  private readonly slots = new Set<Slot>();
  private readonly pending: Workload[] = [];
  private events: ExecutorEvent[] = [];
  private stopping = false;

  constructor(
    private readonly cfg: LocalExecutorConfig,
    private readonly opts: ExecutorOptions,
  ) {}

  async start(): Promise<void> {}

  queue(work: Workload): void {
    this.pending.push(work);
    this.dispatch();
  }

  async sync(): Promise<ExecutorEvent[]> {
    const out = this.events;
    this.events = [];
    return out;
  }

  openSlots(): number {
    let busy = this.pending.length;
    for (const s of this.slots) if (s.work) busy++;
    return Math.max(0, this.cfg.parallelism - busy);
  }

  async adopt(running: TaskRef[]): Promise<TaskRef[]> {
    // Processes of another scheduler cannot be taken over; zombie detection ends their tries.
    return running;
  }

  async revoke(refs: TaskRef[]): Promise<void> {
    // Waiting work is dropped; a try already handed to a process is refused by its claim (a fresh launch id).
    const revoked = new Set(refs.map((r) => r.launchId));
    for (let i = this.pending.length - 1; i >= 0; i--) if (revoked.has(this.pending[i].launchId)) this.pending.splice(i, 1);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const exits = [...this.slots].map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
          s.child.once('exit', () => resolve());
          s.child.kill('SIGTERM');
          setTimeout(() => s.child.kill('SIGKILL'), 3000).unref();
        }),
    );
    await Promise.all(exits);
  }

  private emit(e: ExecutorEvent): void {
    this.events.push(e);
    this.opts.wake();
  }

  private dispatch(): void {
    while (this.pending.length) {
      const slot = [...this.slots].find((s) => s.ready && !s.work);
      if (slot) {
        this.assign(slot, this.pending.shift()!);
        continue;
      }
      // Start only as many runners as there is waiting work; each takes work once it says ready.
      const starting = [...this.slots].filter((s) => !s.ready).length;
      if (starting >= this.pending.length || this.slots.size >= this.cfg.parallelism || this.stopping) return;
      this.spawn();
    }
  }

  private spawn(): Slot {
    const child = fork(RUNNER, [], {
      execArgv: childExecArgv(),
      env: { ...process.env, FLOE_RUNNER_SETTINGS: JSON.stringify(this.cfg.runner) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, ready: false, work: null, timer: null, killReason: null };
    this.slots.add(slot);
    child.on('message', (m: WarmReply) => this.onMessage(slot, m));
    child.on('exit', (code, signal) => this.onExit(slot, code, signal));
    child.on('error', () => {});
    return slot;
  }

  private assign(slot: Slot, work: Workload): void {
    slot.work = work;
    slot.killReason = null;
    if (work.executionTimeout != null) {
      slot.timer = setTimeout(() => {
        slot.killReason = `killed: the try ran ${work.executionTimeout}s (executionTimeout) and did not stop`;
        slot.child.kill('SIGKILL');
      }, work.executionTimeout * 1000 + KILL_GRACE_MS);
    }
    slot.child.send({ type: 'run', key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, executionTimeout: work.executionTimeout } satisfies WarmRequest);
    this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'running', externalId: `pid:${slot.child.pid}` });
  }

  private onMessage(slot: Slot, m: WarmReply): void {
    if (m.type === 'ready') {
      slot.ready = true;
    } else if (m.type === 'done' && slot.work) {
      const work = slot.work;
      this.release(slot);
      // A process that leaves after this try (it timed out) takes no more work: a new one is started instead.
      if (m.exiting) slot.ready = false;
      this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: m.ran && m.state === 'success' ? 'success' : 'failed', reason: m.reason ?? undefined });
      if (this.cfg.isolate) slot.child.kill('SIGTERM');
    }
    this.dispatch();
  }

  private release(slot: Slot): void {
    if (slot.timer) clearTimeout(slot.timer);
    slot.timer = null;
    slot.work = null;
  }

  private onExit(slot: Slot, code: number | null, signal: NodeJS.Signals | null): void {
    this.slots.delete(slot);
    const work = slot.work;
    if (work) {
      this.release(slot);
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'failed', reason: slot.killReason ?? `task process (pid ${slot.child.pid}) ${how} before recording a result` });
    }
    if (!this.stopping) this.dispatch();
  }
}

/** The local executor as `core.executor: local` configures it (core.parallelism, core.isolateTasks, logging, heartbeat). */
export function createLocalExecutor(deps: ExecutorDeps, opts: ExecutorOptions): LocalExecutor {
  const { cfg } = deps;
  return new LocalExecutor(
    {
      parallelism: cfg.core.parallelism,
      isolate: cfg.core.isolateTasks,
      runner: { dbUrl: databaseUrl(cfg), logsFolder: cfg.logging.logsFolder!, heartbeatSeconds: cfg.scheduler.taskHeartbeatInterval, cfg },
    },
    opts,
  );
}
