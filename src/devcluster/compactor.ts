// Periodic compaction, as kube-apiserver drives etcd's (--etcd-compaction-interval, 5 minutes): each tick
// compacts to the revision the previous tick saw, so a resourceVersion lives between one and two intervals.
// Older ones answer 410 Expired (watch: an ERROR event; list with resourceVersionMatch=Exact: a 410 Status),
// which makes clients' relist-after-410 paths run without an injected fault.
import type { Store } from './store.ts';

/** The kube-apiserver default compaction interval. */
export const DEFAULT_COMPACTION_INTERVAL_MS = 5 * 60_000;

/** What one compaction tick does: the revision to compact to, and the revision the next tick will use. */
export function compactionStep(previousTickRv: number | undefined, currentRv: number): { compactTo?: number; nextTickRv: number } {
  return { compactTo: previousTickRv, nextTickRv: currentRv };
}

/** Starts compacting `store` every `intervalMs` (0 = never); returns a stop function. */
export function startCompactor(store: Store, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  let previous: number | undefined;
  const timer = setInterval(() => {
    const step = compactionStep(previous, store.currentRv);
    if (step.compactTo !== undefined) store.compactTo(step.compactTo);
    previous = step.nextTickRv;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
