// Runs tries inside this process with the task runner (`floe dags test`): no child processes, same code path.
import type { RunnerDeps } from '../worker/runner.ts';
import { runTaskTry } from '../worker/runner.ts';
import type { Executor, ExecutorEvent, ExecutorOptions, TaskRef, Workload } from './types.ts';

export class InProcessExecutor implements Executor {
  readonly name = 'inprocess';
  private running = 0;
  private readonly pending: Workload[] = [];
  private events: ExecutorEvent[] = [];

  constructor(
    private readonly deps: RunnerDeps,
    private readonly parallelism: number,
    private readonly opts: ExecutorOptions,
  ) {}

  async start(): Promise<void> {}
  queue(work: Workload): void {
    this.pending.push(work);
    this.pump();
  }
  async sync(): Promise<ExecutorEvent[]> {
    const out = this.events;
    this.events = [];
    return out;
  }
  openSlots(): number {
    return Math.max(0, this.parallelism - this.running - this.pending.length);
  }
  async adopt(running: TaskRef[]): Promise<TaskRef[]> {
    return running;
  }
  async revoke(refs: TaskRef[]): Promise<void> {
    const revoked = new Set(refs.map((r) => r.launchId));
    for (let i = this.pending.length - 1; i >= 0; i--) if (revoked.has(this.pending[i].launchId)) this.pending.splice(i, 1);
  }
  async stop(): Promise<void> {
    while (this.running > 0) await new Promise((r) => setTimeout(r, 10));
  }

  private pump(): void {
    while (this.running < this.parallelism && this.pending.length) {
      const work = this.pending.shift()!;
      this.running++;
      void runTaskTry(this.deps, work.key, work.tryNumber, 'run', { launchId: work.launchId })
        .then((o) => ({ state: o.ran && o.state === 'success' ? ('success' as const) : ('failed' as const), reason: o.reason ?? undefined }))
        .catch((e: Error) => ({ state: 'failed' as const, reason: `task runner error: ${e.message}` }))
        .then((r) => {
          this.running--;
          this.events.push({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, ...r });
          this.opts.wake();
          this.pump();
        });
    }
  }
}
