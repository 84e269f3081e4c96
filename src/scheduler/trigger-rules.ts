// Trigger-rule evaluation: from the states of a task's direct upstream tasks to what the task should do.
import type { TriggerRule } from '../sdk/types.ts';
import { FINISHED_STATES, type TIState } from './states.ts';

export interface UpstreamSummary {
  total: number;
  success: number;
  failed: number;
  upstreamFailed: number;
  skipped: number;
  /** Upstream tasks in a finished state (success, failed, skipped, upstream_failed); removed ones are not counted at all. */
  done: number;
}

/** run: schedule it; wait: not yet decidable; skip / upstream_failed: final without running. */
export type TriggerDecision = 'run' | 'wait' | 'skip' | 'upstream_failed';

export function summarize(states: Iterable<TIState>): UpstreamSummary {
  const s: UpstreamSummary = { total: 0, success: 0, failed: 0, upstreamFailed: 0, skipped: 0, done: 0 };
  for (const st of states) {
    // A removed upstream no longer exists: it neither blocks nor decides anything (as in Airflow).
    if (st === 'removed') continue;
    s.total++;
    if (st === 'success') s.success++;
    else if (st === 'failed') s.failed++;
    else if (st === 'upstream_failed') s.upstreamFailed++;
    else if (st === 'skipped') s.skipped++;
    if (FINISHED_STATES.has(st)) s.done++;
  }
  return s;
}

/** Airflow's semantics, deciding as early as the outcome is certain. */
export function evaluateTriggerRule(rule: TriggerRule, u: UpstreamSummary): TriggerDecision {
  if (u.total === 0) return 'run';
  const allDone = u.done === u.total;
  const anyFailed = u.failed + u.upstreamFailed > 0;
  switch (rule) {
    case 'always':
      return 'run';
    case 'all_success':
      if (anyFailed) return 'upstream_failed';
      if (u.skipped > 0) return 'skip';
      return u.success === u.total ? 'run' : 'wait';
    case 'all_failed':
      if (u.success + u.skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    case 'all_done':
      return allDone ? 'run' : 'wait';
    case 'one_success':
      if (u.success > 0) return 'run';
      if (!allDone) return 'wait';
      return u.skipped === u.total ? 'skip' : 'upstream_failed';
    case 'one_failed':
      if (anyFailed) return 'run';
      return allDone ? 'skip' : 'wait';
    case 'none_failed':
      if (anyFailed) return 'upstream_failed';
      return allDone ? 'run' : 'wait';
    case 'none_skipped':
      if (u.skipped > 0) return 'skip';
      return allDone ? 'run' : 'wait';
    case 'none_failed_min_one_success':
    case 'none_failed_or_skipped':
      // The join after a branch: skipped branches do not block it, failures do; all skipped skips it too.
      if (anyFailed) return 'upstream_failed';
      if (!allDone) return 'wait';
      return u.success > 0 ? 'run' : 'skip';
  }
}
