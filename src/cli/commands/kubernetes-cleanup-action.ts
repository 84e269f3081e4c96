// The work of `floe kubernetes cleanup-pods` (registered in kubernetes-cleanup.ts), loaded when it runs.
import type { V1Pod } from '@kubernetes/client-node';
import { podTry } from '../../executors/kubernetes/pod-identity.ts';
import { cleanupPods, type CleanupResult } from '../../kubernetes/cleanup.ts';
import type { KubeApi } from '../../kubernetes/client.ts';
import { keepPodLog } from '../../kubernetes/pod-logs.ts';
import { stderrLogger } from '../../util/logger.ts';
import { taskLogPath } from '../../worker/task-log.ts';

/** keepLog for cleanupPods: the pod's log into its try's task log file. */
export function keepLogIn(api: KubeApi, logsFolder: string): (pod: V1Pod) => Promise<void> {
  return async (pod) => {
    const t = podTry(pod);
    if (!t) return; // Not a try Floe can name: no task log file to complete.
    await keepPodLog(api, { namespace: pod.metadata!.namespace!, name: pod.metadata!.name! }, taskLogPath(logsFolder, t.key, t.tryNumber));
  };
}

/** Deletes the finished pods; per-pod problems go to stderr (warn), the caller prints the list. */
export function cleanup(api: KubeApi, o: { namespaces: string[]; olderThanSeconds: number; dryRun: boolean; logsFolder: string | null }): Promise<CleanupResult> {
  const log = stderrLogger('warn');
  return cleanupPods(api, { namespaces: o.namespaces, olderThanSeconds: o.olderThanSeconds, dryRun: o.dryRun, log, keepLog: o.logsFolder ? keepLogIn(api, o.logsFolder) : undefined });
}
