// Pure scheduling decisions of the dev cluster's one-shot scheduler: pod resource requests, node fit
// (cpu, memory, pod count, nodeSelector, taints vs tolerations, unschedulable) and the real scheduler's
// "0/N nodes are available: ..." message when nothing fits.
import { parseQuantity } from './quantity.ts';
import type { Container, NodeObject, Pod, Taint, Toleration } from './types.ts';

export interface Requests {
  cpu: number;
  memory: number;
}

function containerRequests(c: Container): Requests {
  const r = c.resources?.requests ?? {};
  return { cpu: parseQuantity(r.cpu ?? 0) ?? 0, memory: parseQuantity(r.memory ?? 0) ?? 0 };
}

/** Effective requests: max(sum of containers, largest init container), as the scheduler computes them. */
export function podRequests(pod: Pod): Requests {
  const sum: Requests = { cpu: 0, memory: 0 };
  for (const c of pod.spec.containers) {
    const r = containerRequests(c);
    sum.cpu += r.cpu;
    sum.memory += r.memory;
  }
  for (const c of pod.spec.initContainers ?? []) {
    const r = containerRequests(c);
    sum.cpu = Math.max(sum.cpu, r.cpu);
    sum.memory = Math.max(sum.memory, r.memory);
  }
  return sum;
}

export interface NodeUsage {
  cpu: number;
  memory: number;
  pods: number;
}

export function tolerates(tolerations: Toleration[] | undefined, taint: Taint): boolean {
  return (tolerations ?? []).some((t) => {
    if (t.effect && t.effect !== taint.effect) return false;
    if (!t.key) return t.operator === 'Exists';
    if (t.key !== taint.key) return false;
    return t.operator === 'Exists' || (t.value ?? '') === (taint.value ?? '');
  });
}

/** Why `pod` cannot go to `node` (empty when it fits), in the scheduler's wording. */
export function unfitReasons(pod: Pod, node: NodeObject, used: NodeUsage): string[] {
  const reasons: string[] = [];
  if (node.spec.unschedulable) reasons.push('node(s) were unschedulable');
  const labels = node.metadata.labels ?? {};
  for (const [k, v] of Object.entries(pod.spec.nodeSelector ?? {})) {
    if (labels[k] !== v) {
      reasons.push("node(s) didn't match Pod's node affinity/selector");
      break;
    }
  }
  for (const taint of node.spec.taints ?? []) {
    if (taint.effect === 'PreferNoSchedule') continue;
    if (!tolerates(pod.spec.tolerations, taint)) {
      reasons.push(`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`);
      break;
    }
  }
  const alloc = node.status.allocatable;
  const req = podRequests(pod);
  if (used.pods + 1 > (parseQuantity(alloc.pods ?? '110') ?? 110)) reasons.push('Too many pods');
  if (req.cpu > 0 && used.cpu + req.cpu > (parseQuantity(alloc.cpu ?? '0') ?? 0) + 1e-9) reasons.push('Insufficient cpu');
  if (req.memory > 0 && used.memory + req.memory > (parseQuantity(alloc.memory ?? '0') ?? 0)) reasons.push('Insufficient memory');
  return reasons;
}

export type ScheduleDecision = { node: string } | { message: string };

/**
 * Picks the least-allocated node (by cpu, then memory, then name) among those that fit, or explains why
 * none does.
 */
export function chooseNode(pod: Pod, nodes: NodeObject[], usage: Map<string, NodeUsage>): ScheduleDecision {
  if (nodes.length === 0) return { message: 'no nodes available to schedule pods' };
  const counts = new Map<string, number>();
  let best: { name: string; score: number } | undefined;
  for (const n of nodes) {
    const name = n.metadata.name!;
    const used = usage.get(name) ?? { cpu: 0, memory: 0, pods: 0 };
    const reasons = unfitReasons(pod, n, used);
    if (reasons.length) {
      for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
      continue;
    }
    const cpuCap = parseQuantity(n.status.allocatable.cpu ?? '1') || 1;
    const memCap = parseQuantity(n.status.allocatable.memory ?? '1') || 1;
    const score = used.cpu / cpuCap + used.memory / memCap;
    if (!best || score < best.score) best = { name, score };
  }
  if (best) return { node: best.name };
  const parts = [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([r, c]) => `${c} ${r}`);
  const n = nodes.length;
  return {
    message: `0/${n} nodes are available: ${parts.join(', ')}. preemption: 0/${n} nodes are available: ${n} Preemption is not helpful for scheduling.`,
  };
}

/** Adds `pod`'s requests to its node's usage. */
export function addUsage(usage: Map<string, NodeUsage>, node: string, pod: Pod): void {
  const u = usage.get(node) ?? { cpu: 0, memory: 0, pods: 0 };
  const r = podRequests(pod);
  usage.set(node, { cpu: u.cpu + r.cpu, memory: u.memory + r.memory, pods: u.pods + 1 });
}
