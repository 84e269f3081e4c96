// The hybrid executor (`core.executor: hybrid`), Floe's CeleryKubernetesExecutor: tries of tasks whose
// `queue` is hybrid.kubernetesQueue run in their own pods through the KubernetesExecutor, every other try
// runs on warm `floe worker`s through the queue executor (BullMQ). Both halves share core.parallelism, their
// events are merged, and a dead scheduler's tries are offered to the half that can have them.
//
// Like every executor it only launches and reports; each half tracks only the tries it was handed or adopted.
import type { Logger } from 'pino';
import { createKubernetesExecutor } from '../kubernetes/factory.ts';
import { createQueueExecutor } from '../queue/queue-executor.ts';
import type { Executor, ExecutorDeps, ExecutorEvent, ExecutorOptions, ExecutorStartContext, TaskRef, Workload } from '../types.ts';
import { tiKeyString } from '../types.ts';
import { adoptionOrder, type Half, halfFor, sharedOpenSlots } from './routing.ts';
import { tiQueues } from './ti-queues.ts';

export interface HybridConfig {
  /** hybrid.kubernetesQueue: tasks with this `queue` run in pods. */
  kubernetesQueue: string;
  /** core.parallelism, shared by both halves; each half must have been built with this same parallelism. */
  parallelism: number;
  log: Logger;
  /** Each ref's task-instance queue (null: unknown); picks the half asked first when adopting a try without an external id. */
  queuesOf?: (refs: TaskRef[]) => Promise<(string | null)[]>;
}

const refId = (r: TaskRef): string => `${tiKeyString(r.key)}#${r.tryNumber}`;

export class HybridExecutor implements Executor {
  readonly name = 'hybrid';
  private readonly halves: Record<Half, Executor>;

  constructor(
    halves: { queue: Executor; kubernetes: Executor },
    private readonly cfg: HybridConfig,
  ) {
    this.halves = { queue: halves.queue, kubernetes: halves.kubernetes };
  }

  /** The executor behind one half (for status displays and tests). */
  half(h: Half): Executor {
    return this.halves[h];
  }

  async start(ctx: ExecutorStartContext): Promise<void> {
    await this.startHalf('queue', ctx);
    try {
      await this.startHalf('kubernetes', ctx);
    } catch (e) {
      await this.halves.queue.stop().catch(() => {});
      throw e;
    }
  }

  private async startHalf(h: Half, ctx: ExecutorStartContext): Promise<void> {
    try {
      await this.halves[h].start(ctx);
    } catch (e) {
      throw new Error(`hybrid executor: the ${h === 'queue' ? 'queue (BullMQ)' : 'Kubernetes'} half could not start: ${(e as Error).message}`, { cause: e });
    }
  }

  queue(work: Workload): void {
    this.halves[halfFor(work.queue, this.cfg.kubernetesQueue)].queue(work);
  }

  /**
   * Both halves' events. A half whose sync throws is logged and its events wait for the next call (a half
   * drains its events only when it returns them), so one failing half never holds back the other's.
   */
  async sync(): Promise<ExecutorEvent[]> {
    const halves: Half[] = ['queue', 'kubernetes'];
    const results = await Promise.allSettled(halves.map((h) => this.halves[h].sync()));
    const out: ExecutorEvent[] = [];
    results.forEach((r, i) => {
      if (r.status === 'fulfilled') out.push(...r.value);
      else this.cfg.log.error({ err: r.reason, half: halves[i] }, `hybrid executor: the ${halves[i]} half failed to report its events; asked again next loop`);
    });
    return out;
  }

  /** core.parallelism minus the tries in flight on both halves (see docs/queue-executor.md, "Hybrid executor"). */
  openSlots(): number {
    return sharedOpenSlots(this.cfg.parallelism, [this.halves.queue.openSlots(), this.halves.kubernetes.openSlots()]);
  }

  /**
   * Offers each ref to the half its external id (or else its task instance's queue) points at, then what that
   * half could not find to the other one when the ref has no external id naming its half. Returns the refs no
   * half adopted: the very objects it was given (the scheduler matches them by identity).
   */
  async adopt(refs: TaskRef[]): Promise<TaskRef[]> {
    if (!refs.length) return [];
    let queues: (string | null)[];
    try {
      queues = this.cfg.queuesOf ? await this.cfg.queuesOf(refs) : refs.map(() => null);
    } catch (e) {
      this.cfg.log.warn({ err: e }, 'hybrid executor: cannot read the queues of a dead scheduler\'s tries; asking the queue half first');
      queues = refs.map(() => null);
    }
    const plans = new Map(refs.map((r, i) => [r, adoptionOrder(r.externalId, queues[i], this.cfg.kubernetesQueue)]));
    let left = refs;
    for (let round = 0; round < 2 && left.length; round++) {
      const offers: Record<Half, TaskRef[]> = { queue: [], kubernetes: [] };
      const stay: TaskRef[] = [];
      for (const r of left) {
        const h = plans.get(r)![round];
        if (h) offers[h].push(r);
        else stay.push(r);
      }
      const back = await Promise.all((['queue', 'kubernetes'] as const).map((h) => this.offer(h, offers[h])));
      left = [...stay, ...back.flat()];
    }
    const notAdopted = new Set(left);
    return refs.filter((r) => notAdopted.has(r));
  }

  /**
   * Offers refs to one half; returns the given objects it did not adopt. A half that throws is asked again
   * one ref at a time, so a failure on one ref cannot hide that others were adopted (which would launch them twice).
   */
  private async offer(h: Half, refs: TaskRef[]): Promise<TaskRef[]> {
    if (!refs.length) return [];
    const mine = (returned: TaskRef[], offered: TaskRef[]): TaskRef[] => {
      const ids = new Set(returned.map(refId));
      return offered.filter((r) => ids.has(refId(r)));
    };
    try {
      return mine(await this.halves[h].adopt(refs), refs);
    } catch (e) {
      if (refs.length === 1) {
        this.cfg.log.warn({ err: e, ti: refs[0].key, tryNumber: refs[0].tryNumber }, `hybrid executor: the ${h} half could not adopt a try of a dead scheduler`);
        return refs;
      }
      this.cfg.log.warn({ err: e, tries: refs.length }, `hybrid executor: the ${h} half failed adopting a dead scheduler's tries; offering them one at a time`);
      const out: TaskRef[] = [];
      for (const r of refs) out.push(...(await this.offer(h, [r])));
      return out;
    }
  }

  /** Both halves drop what they hold of these launches (each ignores launches it was never handed). */
  async revoke(refs: TaskRef[]): Promise<void> {
    await Promise.all([this.halves.queue.revoke(refs), this.halves.kubernetes.revoke(refs)]);
  }

  async stop(): Promise<void> {
    const results = await Promise.allSettled([this.halves.queue.stop(), this.halves.kubernetes.stop()]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason;
  }
}

/** The executor as `core.executor: hybrid` configures it: hybrid.kubernetesQueue, core.parallelism, queue.*, kubernetes.*. */
export function createHybridExecutor(rt: ExecutorDeps, opts: ExecutorOptions): HybridExecutor {
  // Both halves are built with core.parallelism (createQueueExecutor / createKubernetesExecutor read it), as HybridConfig requires.
  return new HybridExecutor(
    { queue: createQueueExecutor(rt.cfg, rt.db, opts, rt.log), kubernetes: createKubernetesExecutor(rt, opts) },
    {
      kubernetesQueue: rt.cfg.hybrid.kubernetesQueue,
      parallelism: rt.cfg.core.parallelism,
      log: rt.log,
      queuesOf: (refs) => tiQueues(rt.db, refs.map((r) => r.key)),
    },
  );
}
