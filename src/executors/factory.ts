// `core.executor` → an executor. Each executor's module (and the libraries it needs: the Kubernetes client,
// BullMQ) is imported only when that executor is chosen.
import type { Executor, ExecutorDeps, ExecutorOptions } from './types.ts';

export const EXECUTOR_NAMES = ['local', 'kubernetes', 'queue', 'hybrid'] as const;

export async function createExecutor(deps: ExecutorDeps, name: string, opts: ExecutorOptions): Promise<Executor> {
  switch (name) {
    case 'local':
      return (await import('./local/local-executor.ts')).createLocalExecutor(deps, opts);
    case 'kubernetes':
      return (await import('./kubernetes/factory.ts')).createKubernetesExecutor(deps, opts);
    case 'queue':
      return (await import('./queue/queue-executor.ts')).createQueueExecutor(deps.cfg, deps.db, opts, deps.log);
    case 'hybrid':
      return (await import('./hybrid/hybrid-executor.ts')).createHybridExecutor(deps, opts);
    default:
      throw new Error(`core.executor: unknown executor "${name}" (available: ${EXECUTOR_NAMES.join(', ')})`);
  }
}
