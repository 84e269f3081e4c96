// Pod defaulting as the real API server applies it on create (pkg/apis/core/v1/defaults.go plus the
// DefaultTolerationSeconds admission plugin), and the QoS class it reports.
import { parseQuantity } from './quantity.ts';
import type { Container, Pod } from './types.ts';

function defaultContainer(c: Container): void {
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (c.imagePullPolicy === undefined) {
    const image = c.image ?? '';
    const tag = image.includes('@') ? 'digest' : /:[^/]+$/.exec(image)?.[0].slice(1);
    c.imagePullPolicy = tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  // Requests default to limits when only limits are given.
  const limits = c.resources?.limits;
  if (limits) {
    c.resources!.requests ??= {};
    for (const [k, v] of Object.entries(limits)) {
      // An invalid limit is reported once, on the limit, not again on a copied request.
      if (c.resources!.requests[k] === undefined && parseQuantity(v) !== null) c.resources!.requests[k] = v;
    }
  }
  c.resources ??= {};
}

/** Fills the defaults a real API server adds. Mutates `pod` (the caller owns it). */
export function defaultPod(pod: Pod): void {
  const s = pod.spec;
  s.restartPolicy ??= 'Always';
  s.terminationGracePeriodSeconds ??= 30;
  s.dnsPolicy ??= 'ClusterFirst';
  s.schedulerName ??= 'default-scheduler';
  s.securityContext ??= {};
  s.enableServiceLinks ??= true;
  s.preemptionPolicy ??= 'PreemptLowerPriority';
  s.priority ??= 0;
  s.serviceAccountName ??= 'default';
  s.serviceAccount ??= s.serviceAccountName;
  for (const c of s.initContainers ?? []) defaultContainer(c);
  for (const c of s.containers) defaultContainer(c);
  const tolerations = s.tolerations ?? [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t.key === key && (t.effect === 'NoExecute' || !t.effect))) {
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
    }
  }
  s.tolerations = tolerations;
}

/** Guaranteed / Burstable / BestEffort, from the containers' cpu and memory requests and limits. */
export function qosClass(pod: Pod): string {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let any = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const rq = req[r] !== undefined ? parseQuantity(req[r]) : null;
      const lm = lim[r] !== undefined ? parseQuantity(lim[r]) : null;
      if ((rq ?? 0) > 0 || (lm ?? 0) > 0) any = true;
      if (lm === null || rq === null || lm !== rq) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
