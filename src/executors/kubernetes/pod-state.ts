// What a worker pod's state means for its try: a pure function of the pod (phase, container statuses,
// conditions, deletion) and the time. Infrastructure failures (the task runner never started) are told
// apart from task failures, so the scheduler can relaunch the former without spending the task's retries.
import type { V1ContainerStatus, V1Pod } from '@kubernetes/client-node';

export const DEFAULT_FAST_FAIL_REASONS = ['ErrImagePull', 'ImagePullBackOff', 'InvalidImageName', 'CreateContainerConfigError', 'CreateContainerError'] as const;

export type PodVerdict =
  /** Nothing to report yet (pending, scheduling, pulling). */
  | { kind: 'pending' }
  | { kind: 'running' }
  | { kind: 'succeeded' }
  /** The task runner ran and the pod failed: exit code, OOMKilled, evicted while running, … */
  | { kind: 'failed'; reason: string }
  /** The runner never started: image pull, config error, unschedulable past the timeout, deleted or evicted before start. */
  | { kind: 'infra_failed'; reason: string };

export interface VerdictOptions {
  fastFailReasons: readonly string[];
  pendingTimeoutMs: number;
  now: number;
  /** The pod was deleted (watch DELETED) while not finished. */
  deleted?: boolean;
}

const BASE = 'base';

function baseStatus(pod: V1Pod): V1ContainerStatus | undefined {
  return pod.status?.containerStatuses?.find((c) => c.name === BASE);
}

/** True once the base container has run at all: from then on a failure is the task's, not the infrastructure's. */
export function runnerStarted(pod: V1Pod): boolean {
  const s = baseStatus(pod);
  return Boolean(s?.state?.running || s?.state?.terminated || s?.lastState?.terminated);
}

function describeTermination(c: V1ContainerStatus): string | null {
  const t = c.state?.terminated;
  if (!t) return null;
  if (t.reason === 'OOMKilled') return `OOMKilled: container ${c.name} exceeded its memory limit (exit code ${t.exitCode})`;
  const msg = t.message ? `: ${t.message.trim().slice(0, 300)}` : '';
  return `container ${c.name} terminated with exit code ${t.exitCode}${t.reason ? ` (${t.reason})` : ''}${msg}`;
}

export function podVerdict(pod: V1Pod, o: VerdictOptions): PodVerdict {
  const phase = pod.status?.phase;
  const started = runnerStarted(pod);
  if (phase === 'Succeeded') return { kind: 'succeeded' };
  if (phase === 'Failed') {
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const base = baseStatus(pod);
    const detail = (base && describeTermination(base)) ?? statuses.map(describeTermination).find(Boolean) ?? null;
    const podReason = pod.status?.reason ? `${pod.status.reason}${pod.status.message ? `: ${pod.status.message}` : ''}` : null;
    const reason = [podReason, detail].filter(Boolean).join('; ') || 'pod failed';
    return started ? { kind: 'failed', reason } : { kind: 'infra_failed', reason: `pod failed before the task runner started: ${reason}` };
  }
  if (o.deleted) {
    return started
      ? { kind: 'failed', reason: `pod ${pod.metadata?.name} was deleted while the task was running` }
      : { kind: 'infra_failed', reason: `pod ${pod.metadata?.name} was deleted before the task runner started` };
  }
  // Waiting reasons that will not fix themselves: fail fast with Kubernetes' own words — only while the task
  // runner has not started (a sidecar that cannot pull later must not kill a running try).
  for (const c of started ? [] :  [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) {
    const w = c.state?.waiting;
    if (w?.reason && o.fastFailReasons.includes(w.reason))
      return { kind: 'infra_failed', reason: `${w.reason}: container ${c.name}${w.message ? `: ${w.message}` : ''}` };
  }
  if (phase === 'Running') return { kind: 'running' };
  // Unknown (node lost) or anything else that is not Pending: wait for Kubernetes to decide.
  if (phase && phase !== 'Pending') return { kind: started ? 'running' : 'pending' };
  // Pending: time out if it has waited too long (unschedulable, stuck pulling, …).
  const created = pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).getTime() : o.now;
  if (o.now - created > o.pendingTimeoutMs) {
    const cond = pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    const why = cond ? `${cond.reason ?? 'NotScheduled'}${cond.message ? `: ${cond.message}` : ''}` : 'pod still Pending';
    return { kind: 'infra_failed', reason: `pending timeout: ${why} (pending over ${o.pendingTimeoutMs / 1000}s, kubernetes.podPendingTimeout)` };
  }
  return { kind: 'pending' };
}
