// `floe kubernetes cleanup-pods`: deletes finished Floe worker pods older than a limit. Safe to run at any
// time, next to running schedulers: it only ever deletes pods in phase Succeeded or Failed (a finished pod
// never runs again), or kept Pending after a launch failure (floe.dev/launch-failed: their try is over), and each delete carries the listed pod's UID as a precondition, so a pod recreated
// under the same name since the list is never touched.
import type { V1Pod } from '@kubernetes/client-node';
import { apiMessage, backoffMs, classifyError, type KubeApi, statusCode } from './client.ts';
import { FLOE_KEYS } from './pod/identity.ts';

export interface CleanupLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface CleanupOptions {
  namespaces: string[];
  /** Only pods that finished at least this long ago. */
  olderThanSeconds: number;
  /** List what would be deleted without deleting it. */
  dryRun?: boolean;
  log: CleanupLog;
  /**
   * Called before each delete (not in a dry run), e.g. to copy the pod's log into the task log file. If it
   * throws, the pod is not deleted (and is listed in `failed`): a log that lives only in the pod is never lost.
   */
  keepLog?: (pod: V1Pod) => Promise<void>;
  /** For tests: the current time in ms (default Date.now()). */
  now?: number;
}

export interface CleanupResult {
  /** `namespace/name` of every pod deleted (or, with dryRun, that would be). */
  deleted: string[];
  /** Floe worker pods left in place: not finished, too recent, already being deleted, or replaced since the list. */
  kept: number;
  /** Pods whose delete failed for another reason (e.g. 403): `namespace/name` and the API's message. */
  failed: { pod: string; error: string }[];
}

/** Rows per list page: bounded memory and API-server load on namespaces with many pods. */
const PAGE = 500;
const DELETE_RETRIES = 4;

/** Succeeded or Failed, or kept Pending after a launch failure (it is over for Floe). */
function isFinished(pod: V1Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed' || launchFailedAt(pod) !== null;
}

function launchFailedAt(pod: V1Pod): number | null {
  const t = Date.parse(pod.metadata?.annotations?.[FLOE_KEYS.launchFailed] ?? '');
  return Number.isFinite(t) ? t : null;
}

/**
 * When the pod finished: the latest `finishedAt` of its terminated containers (the pod ends with its last
 * container), else its creationTimestamp (a pod that failed before any container ran), else null.
 */
export function podFinishedAt(pod: V1Pod): Date | null {
  const failedToLaunch = launchFailedAt(pod);
  if (failedToLaunch !== null) return new Date(failedToLaunch);
  let latest: number | null = null;
  for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const at = c.state?.terminated?.finishedAt;
    const t = at ? new Date(at).getTime() : NaN;
    if (Number.isFinite(t) && (latest === null || t > latest)) latest = t;
  }
  if (latest !== null) return new Date(latest);
  const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : NaN;
  return Number.isFinite(created) ? new Date(created) : null;
}

/** The pure decision: may this pod be deleted now? */
export function isCleanupCandidate(pod: V1Pod, olderThanSeconds: number, now: number): boolean {
  if (pod.metadata?.labels?.[FLOE_KEYS.worker] !== 'true') return false;
  if (!isFinished(pod) || pod.metadata?.deletionTimestamp || !pod.metadata?.uid) return false;
  const finished = podFinishedAt(pod);
  return finished !== null && now - finished.getTime() >= olderThanSeconds * 1000;
}

async function listWorkerPods(api: KubeApi, namespace: string): Promise<V1Pod[]> {
  const out: V1Pod[] = [];
  let cont: string | undefined;
  do {
    let page;
    try {
      page = await api.call((c) => c.listNamespacedPod({ namespace, labelSelector: `${FLOE_KEYS.worker}=true`, limit: PAGE, _continue: cont }));
    } catch (e) {
      throw new Error(`cleanup-pods: cannot list pods in namespace "${namespace}": ${apiMessage(e)}`);
    }
    out.push(...page.items);
    cont = page.metadata?._continue || undefined;
  } while (cont);
  return out;
}

type DeleteOutcome = 'deleted' | 'gone' | 'replaced' | { error: string };

async function deleteIfSame(api: KubeApi, namespace: string, name: string, uid: string): Promise<DeleteOutcome> {
  for (let attempt = 0; ; attempt++) {
    try {
      await api.call((c) => c.deleteNamespacedPod({ namespace, name, body: { preconditions: { uid } } }));
      return 'deleted';
    } catch (e) {
      const code = statusCode(e);
      if (code === 404) return 'gone';
      // 409 on a UID precondition: the name now belongs to another pod; it is not ours to delete.
      if (code === 409) return 'replaced';
      const c = classifyError(e);
      if (c.kind === 'retry' && attempt < DELETE_RETRIES) {
        await new Promise((r) => setTimeout(r, c.afterMs ?? backoffMs(attempt)));
        continue;
      }
      return { error: apiMessage(e) };
    }
  }
}

export async function cleanupPods(api: KubeApi, opts: CleanupOptions): Promise<CleanupResult> {
  if (!opts.namespaces.length) throw new Error('cleanup-pods: no namespace given');
  if (!Number.isFinite(opts.olderThanSeconds) || opts.olderThanSeconds < 0) throw new Error(`cleanup-pods: olderThanSeconds must be a non-negative number, got ${opts.olderThanSeconds}`);
  const result: CleanupResult = { deleted: [], kept: 0, failed: [] };
  for (const namespace of [...new Set(opts.namespaces)]) {
    const pods = await listWorkerPods(api, namespace);
    // One clock reading per namespace, after its list: nothing listed can have finished later than this.
    const now = opts.now ?? Date.now();
    for (const pod of pods) {
      const name = pod.metadata!.name!;
      const id = `${namespace}/${name}`;
      if (!isCleanupCandidate(pod, opts.olderThanSeconds, now)) {
        result.kept++;
        continue;
      }
      const info = { namespace, pod: name, phase: pod.status?.phase, finishedAt: podFinishedAt(pod)?.toISOString() };
      if (opts.dryRun) {
        result.deleted.push(id);
        opts.log.info(info, 'cleanup-pods: would delete (dry run)');
        continue;
      }
      if (opts.keepLog) {
        try {
          await opts.keepLog(pod);
        } catch (e) {
          const error = `not deleted: could not keep its log: ${apiMessage(e)}`;
          result.failed.push({ pod: id, error });
          opts.log.warn({ ...info, err: error }, 'cleanup-pods: could not keep the pod log; pod left in place');
          continue;
        }
      }
      const outcome = await deleteIfSame(api, namespace, name, pod.metadata!.uid!);
      if (outcome === 'deleted') {
        result.deleted.push(id);
        opts.log.info(info, 'cleanup-pods: deleted finished pod');
      } else if (outcome === 'gone') {
        // Someone (the executor's deletion policy, another cleanup) was faster: nothing left to do.
        opts.log.info(info, 'cleanup-pods: pod already gone');
      } else if (outcome === 'replaced') {
        result.kept++;
        opts.log.warn(info, 'cleanup-pods: a different pod now has this name; left alone');
      } else {
        result.failed.push({ pod: id, error: outcome.error });
        opts.log.warn({ ...info, err: outcome.error }, 'cleanup-pods: could not delete pod');
      }
    }
  }
  return result;
}
