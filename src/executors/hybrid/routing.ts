// The hybrid executor's decisions, as pure functions: which half runs a try, how the two halves share
// core.parallelism, and which half is asked first about a dead scheduler's try.

/** The two executors a hybrid executor drives. */
export type Half = 'queue' | 'kubernetes';

/** A try runs in a pod exactly when its task's `queue` is hybrid.kubernetesQueue; every other try goes to BullMQ. */
export const halfFor = (queue: string, kubernetesQueue: string): Half => (queue === kubernetesQueue ? 'kubernetes' : 'queue');

/**
 * Slots the scheduler may fill: one pool of `parallelism` shared by both halves. Each half was built with the
 * same `parallelism`, so what it uses is `parallelism - open` (a half clamps its own open slots at 0, which
 * only hides use beyond `parallelism`, and then the total is full anyway).
 */
export function sharedOpenSlots(parallelism: number, openPerHalf: readonly number[]): number {
  const used = openPerHalf.reduce((sum, open) => sum + Math.max(0, parallelism - Math.max(0, open)), 0);
  return Math.max(0, parallelism - used);
}

/** `bullmq:<queue>/<job id>`, the queue executor's external id (job-id.ts `externalIdFor`). */
const QUEUE_ID = /^bullmq:/;
/** `<namespace>/<pod name>/<pod uid>`, the Kubernetes executor's external id (`externalIdOf`). */
const POD_ID = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?\/[^/]+\/[^/]+$/;

/**
 * The halves to offer a dead scheduler's try to, in order. A recorded external id names the half that
 * launched the try, and only that half can have it (the other would need a second launch of the same try).
 * Without one (the try was handed over but never reported running, or ran on another executor), the task
 * instance's queue says which half to ask first, and the other is asked about what the first cannot find:
 * a pod created just before the crash, or a job added before the task's queue changed.
 */
export function adoptionOrder(externalId: string | null, tiQueue: string | null, kubernetesQueue: string): Half[] {
  if (externalId && QUEUE_ID.test(externalId)) return ['queue'];
  if (externalId && POD_ID.test(externalId)) return ['kubernetes'];
  return tiQueue !== null && halfFor(tiQueue, kubernetesQueue) === 'kubernetes' ? ['kubernetes', 'queue'] : ['queue', 'kubernetes'];
}
