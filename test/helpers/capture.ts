// Runs a scheduler until it has handed `count` workloads of a fresh run to an executor that runs nothing,
// so a test can run (or record) the queued tries itself.
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Executor, Workload } from '../../src/executors/types.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import type { FloeHarness } from './floe.ts';

/** Takes workloads and runs nothing: the test plays the runner. */
export class CaptureExecutor implements Executor {
  readonly name = 'capture';
  readonly work: Workload[] = [];
  async start(): Promise<void> {}
  queue(w: Workload): void {
    this.work.push(w);
  }
  async sync() {
    return [];
  }
  openSlots(): number {
    return 64 - this.work.length;
  }
  async revoke(): Promise<void> {}
  async adopt(): Promise<never[]> {
    return [];
  }
  async stop(): Promise<void> {}
}

/** Triggers `dagId` and returns its queued workloads by task id once `count` are queued. */
export async function queuedWorkloads(h: FloeHarness, dagId: string, count: number): Promise<Map<string, Workload>> {
  await h.trigger(dagId);
  const ex = new CaptureExecutor();
  const scheduler = new Scheduler({ db: h.rt.db, executor: ex, log: pino({ level: 'silent' }), loopIntervalMs: 20, zombieThresholdMs: 60_000, healthCheckThresholdMs: 30_000 });
  await scheduler.start();
  const deadline = Date.now() + 20_000;
  await scheduler.run(() => ex.work.length >= count || Date.now() > deadline);
  await scheduler.stop();
  assert.equal(ex.work.length, count, `workloads of ${dagId} queued`);
  return new Map(ex.work.map((w) => [w.key.taskId, w]));
}
