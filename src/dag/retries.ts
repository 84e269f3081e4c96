// Retry rules of a task: pure, shared by the scheduler and the task runner (which records its own outcome).
import type { SerializedTask } from './model.ts';

/** Longest retry delay when a task sets no maxRetryDelay: one day (Airflow's default max_task_retry_delay). */
export const DEFAULT_MAX_RETRY_DELAY = 86_400;

/** Seconds to wait before the retry that follows try `tryNumber` (1-based) failed. */
export function retryDelaySeconds(task: Pick<SerializedTask, 'retryDelay' | 'retryExponentialBackoff' | 'maxRetryDelay'>, tryNumber: number): number {
  let delay = task.retryDelay;
  if (task.retryExponentialBackoff) delay = task.retryDelay * 2 ** Math.min(64, Math.max(0, tryNumber - 1));
  return Math.min(delay, task.maxRetryDelay ?? Math.max(DEFAULT_MAX_RETRY_DELAY, task.retryDelay));
}

/** State of a try that failed: another try if retries remain, else failed. */
export function failureState(tryNumber: number, retries: number): 'up_for_retry' | 'failed' {
  return tryNumber <= retries ? 'up_for_retry' : 'failed';
}
