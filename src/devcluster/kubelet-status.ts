// The pod status the kubelet reports, built from its view of the containers: pure.
import { computePhase, kubeletConditions, setCondition, terminatedPhase, type Phase } from './pod-status.ts';
import { k8sTime } from './registry.ts';
import type { Container, ContainerStateTerminated, ContainerStatus, Pod, PodStatus } from './types.ts';

export interface ContainerView {
  name: string;
  init: boolean;
  spec: Container;
  state: 'waiting' | 'starting' | 'running' | 'terminated';
  waiting: { reason: string; message?: string };
  startedAt?: string;
  terminated?: ContainerStateTerminated;
  lastTerminated?: ContainerStateTerminated;
  restartCount: number;
  containerID?: string;
  imageID?: string;
}

export interface PodView {
  hostIP: string;
  podIP: string;
  startTime: string;
  finished: boolean;
  failure?: { reason: string; message: string };
  /** The containers were stopped for the pod's deletion. */
  deleted: boolean;
}

export function containerStatus(c: ContainerView): ContainerStatus {
  const s: ContainerStatus = {
    name: c.name,
    state: {},
    lastState: c.lastTerminated ? { terminated: c.lastTerminated } : {},
    ready: c.state === 'running',
    restartCount: c.restartCount,
    image: c.spec.image ?? '',
    imageID: c.imageID ?? '',
    started: c.state === 'running',
  };
  if (c.containerID) s.containerID = c.containerID;
  if (c.state === 'running') s.state.running = { startedAt: c.startedAt };
  else if (c.state === 'terminated') s.state.terminated = c.terminated!;
  else if (c.state === 'starting') s.state.waiting = { reason: 'ContainerCreating' };
  else s.state.waiting = c.waiting;
  return s;
}

/** The status to report, and whether the pod reached a terminal phase. */
export function buildPodStatus(pod: Pod, containers: readonly ContainerView[], v: PodView, now = k8sTime()): { status: PodStatus; finished: boolean } {
  const inits = containers.filter((c) => c.init).map(containerStatus);
  const mains = containers.filter((c) => !c.init).map(containerStatus);
  let phase: Phase;
  if (v.failure) phase = 'Failed';
  else if (v.deleted) phase = pod.status?.phase === 'Succeeded' ? 'Succeeded' : terminatedPhase([...inits, ...mains].filter((s) => s.state.terminated));
  else phase = computePhase(pod.spec.restartPolicy ?? 'Always', inits, mains);
  const conditions = kubeletConditions(pod.status?.conditions, phase, inits, mains, !v.finished, now);
  if (!conditions.some((c) => c.type === 'PodScheduled')) conditions.push(setCondition(undefined, 'PodScheduled', { status: 'True' }, now));
  const status: PodStatus = { phase, conditions };
  if (v.failure) {
    status.message = v.failure.message;
    status.reason = v.failure.reason;
  }
  status.hostIP = v.hostIP;
  status.hostIPs = [{ ip: v.hostIP }];
  status.podIP = v.podIP;
  status.podIPs = [{ ip: v.podIP }];
  status.startTime = v.startTime;
  if (inits.length) status.initContainerStatuses = inits;
  status.containerStatuses = mains;
  status.qosClass = pod.status?.qosClass;
  return { status, finished: phase === 'Succeeded' || phase === 'Failed' };
}

/**
 * A pod whose containers already ran under an earlier kubelet process (`floe dev kubelet` restarted): their
 * processes died with that kubelet. Marks the containers as they were, running ones terminated (137);
 * true when the pod had started at all (the caller then fails it instead of running it a second time).
 */
export function markLostContainers(pod: Pod, containers: (ContainerView & { everStarted: boolean })[], now = k8sTime()): boolean {
  const old = new Map([...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map((s) => [s.name, s]));
  if (![...old.values()].some((s) => s.state.running || s.state.terminated || s.lastState.terminated)) return false;
  for (const c of containers) {
    const s = old.get(c.name);
    if (!s) continue;
    c.restartCount = s.restartCount;
    c.everStarted = Boolean(s.state.running || s.state.terminated);
    c.containerID = s.containerID;
    c.imageID = s.imageID;
    if (s.state.terminated) {
      c.state = 'terminated';
      c.terminated = s.state.terminated;
    } else if (s.state.running) {
      c.state = 'terminated';
      c.terminated = { exitCode: 137, reason: 'Error', message: 'the process ended with the kubelet that ran it', startedAt: s.state.running.startedAt, finishedAt: now, containerID: s.containerID };
    }
  }
  return true;
}
