// Task-instance and DAG-run states, and the one table of allowed task-instance transitions.

export const TI_STATES = ['none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'up_for_reschedule', 'upstream_failed', 'skipped', 'removed'] as const;
export type TIState = (typeof TI_STATES)[number];

export const DAG_RUN_STATES = ['queued', 'running', 'success', 'failed'] as const;
export type DagRunState = (typeof DAG_RUN_STATES)[number];

/** States in which a try is over and nothing more will happen without a user clearing it. */
export const FINISHED_STATES: ReadonlySet<TIState> = new Set(['success', 'failed', 'skipped', 'upstream_failed', 'removed']);
/** States holding a pool slot / executor slot. */
export const ACTIVE_STATES: ReadonlySet<TIState> = new Set(['queued', 'running']);

const T: Record<TIState, readonly TIState[]> = {
  // Trigger rules decide what a waiting task becomes; 'removed' when its task left the DAG; 'failed' when a mapped
  // task cannot be expanded (its input is not a list, or too long).
  none: ['scheduled', 'skipped', 'upstream_failed', 'removed', 'failed'],
  scheduled: ['queued', 'skipped', 'upstream_failed', 'removed', 'none'],
  // queued → scheduled when the executor could not launch it or its scheduler died before it started;
  // queued → failed/up_for_retry when the executor saw the try end without the runner recording it;
  // queued → skipped when its run timed out (dagRunTimeout).
  queued: ['running', 'scheduled', 'success', 'failed', 'up_for_retry', 'skipped', 'removed'],
  // running → up_for_reschedule: a sensor in reschedule mode whose condition does not hold yet gives its slot back.
  running: ['success', 'failed', 'up_for_retry', 'up_for_reschedule', 'skipped', 'removed'],
  up_for_retry: ['scheduled', 'failed', 'skipped', 'removed'],
  // Poked again (same try number) when its reschedule time has come; skipped when its run timed out.
  up_for_reschedule: ['scheduled', 'failed', 'skipped', 'removed', 'none'],
  // Clearing a finished task sends it back to none for another run.
  success: ['none', 'removed'],
  failed: ['none', 'removed'],
  skipped: ['none', 'removed'],
  upstream_failed: ['none', 'removed', 'scheduled', 'skipped'],
  // A task back in the DAG is decided afresh, like a waiting one.
  removed: ['none', 'scheduled', 'skipped', 'upstream_failed'],
};

export function canTransition(from: TIState, to: TIState): boolean {
  return T[from].includes(to);
}

export function assertTransition(from: TIState, to: TIState, what: string): void {
  if (!canTransition(from, to)) throw new Error(`illegal task state change ${from} → ${to} for ${what}`);
}

export function isTIState(s: string): s is TIState {
  return (TI_STATES as readonly string[]).includes(s);
}
