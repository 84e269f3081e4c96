// Pure pod-status decisions, as the kubelet makes them (pkg/kubelet/kubelet_pods.go getPhase and the
// status manager's conditions): phase from container states and restart policy, and the pod conditions.
import type { ContainerStatus, PodCondition } from './types.ts';

export type Phase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

/**
 * The pod phase from its container statuses. `initStatuses` are in spec order; a pod whose init containers
 * have not all succeeded is Pending (or Failed when one failed and restartPolicy is Never).
 */
export function computePhase(restartPolicy: string, initStatuses: ContainerStatus[], statuses: ContainerStatus[]): Phase {
  for (const s of initStatuses) {
    const t = s.state.terminated;
    if (t && t.exitCode === 0) continue;
    if (t && restartPolicy === 'Never') return 'Failed';
    return 'Pending';
  }
  let running = 0;
  let waiting = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) {
      stopped++;
      if (s.state.terminated.exitCode === 0) succeeded++;
    } else if (s.lastState.terminated) {
      // Waiting to restart after having run: counts as stopped, as in the kubelet.
      stopped++;
      if (s.lastState.terminated.exitCode === 0) succeeded++;
    } else waiting++;
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (restartPolicy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

/** Phase of a pod whose containers were stopped for its deletion: terminal either way. */
export function terminatedPhase(statuses: ContainerStatus[]): Phase {
  return statuses.every((s) => s.state.terminated?.exitCode === 0) ? 'Succeeded' : 'Failed';
}

interface ConditionValue {
  status: 'True' | 'False';
  reason?: string;
  message?: string;
}

/** Sets a condition keeping lastTransitionTime when its status did not change. */
export function setCondition(prev: PodCondition[] | undefined, type: string, v: ConditionValue, now: string): PodCondition {
  const old = prev?.find((c) => c.type === type);
  const c: PodCondition = {
    type,
    status: v.status,
    lastProbeTime: null,
    lastTransitionTime: old && old.status === v.status ? old.lastTransitionTime : now,
  };
  if (v.reason) c.reason = v.reason;
  if (v.message) c.message = v.message;
  return c;
}

/** Conditions of a pod running on a node (PodScheduled is carried over from the scheduler). */
export function kubeletConditions(
  prev: PodCondition[] | undefined,
  phase: Phase,
  initStatuses: ContainerStatus[],
  statuses: ContainerStatus[],
  sandboxReady: boolean,
  now: string,
): PodCondition[] {
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const initPending = initStatuses.filter((s) => s.state.terminated?.exitCode !== 0).map((s) => s.name);
  const unready = statuses.filter((s) => !s.ready).map((s) => s.name);
  const initialized: ConditionValue = initPending.length
    ? { status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${initPending.join(' ')}]` }
    : { status: 'True' };
  const ready: ConditionValue = unready.length === 0
    ? { status: 'True' }
    : terminal
      ? { status: 'False', reason: 'PodCompleted' }
      : { status: 'False', reason: 'ContainersNotReady', message: `containers with unready status: [${unready.join(' ')}]` };
  const out = [
    setCondition(prev, 'PodReadyToStartContainers', { status: sandboxReady && !terminal ? 'True' : 'False' }, now),
    setCondition(prev, 'Initialized', initialized, now),
    setCondition(prev, 'Ready', ready, now),
    setCondition(prev, 'ContainersReady', ready, now),
  ];
  const scheduled = prev?.find((c) => c.type === 'PodScheduled');
  if (scheduled) out.push(scheduled);
  return out;
}
