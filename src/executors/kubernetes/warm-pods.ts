// The executor's side of warm pods (kubernetes.warmPods): which of its pods may take further tries, handing a
// launch to an idle one with the same spec key (one conditional update in the database, see src/db/warm-pods.ts),
// and learning from the pods' rows when a try they ran has ended. The pod side is src/worker/warm-pod.ts.
import type { V1Pod } from '@kubernetes/client-node';
import type { WarmAssignment, WarmPodRow } from '../../db/warm-pods.ts';
import { BASE_CONTAINER } from '../../kubernetes/pod/identity.ts';
import { SPEC_KEY_LABEL, specKey } from '../../kubernetes/pod/spec-key.ts';

export interface WarmPodSettings {
  enabled: boolean;
  idleSeconds: number;
  maxTriesPerPod: number;
  maxWarmPods: number | null;
}

/** The database operations the executor needs (bound to its DB by the factory). */
export interface WarmPodStore {
  assign(schedulerId: string, specKey: string, a: WarmAssignment): Promise<{ podName: string; namespace: string } | null>;
  read(podNames: string[]): Promise<Map<string, WarmPodRow>>;
  retireIdle(podNames: string[]): Promise<string[]>;
  gone(podName: string): Promise<void>;
  adopt(podName: string, schedulerId: string): Promise<void>;
}

export interface KnownWarmPod {
  namespace: string;
  name: string;
  uid: string;
  /** Retired by the executor to make room for a new pod; it exits at its next look. */
  retiring?: boolean;
}

/** A pod of the executor's that may run further tries: its spec key as a label, and the runner's warm flags. */
export function asWarmPod(pod: V1Pod, schedulerId: string): { pod: V1Pod; key: string } {
  const key = specKey(pod);
  const ns = pod.metadata!.namespace!;
  const containers = pod.spec!.containers.map((c) =>
    c.name === BASE_CONTAINER ? { ...c, command: [...(c.command ?? []), '--warm-pod', `${ns}/${pod.metadata!.name}`, '--spec-key', key, '--scheduler-id', schedulerId] } : c,
  );
  return {
    key,
    pod: { ...pod, metadata: { ...pod.metadata, labels: { ...pod.metadata!.labels, [SPEC_KEY_LABEL]: key } }, spec: { ...pod.spec!, containers } },
  };
}

/** An annotation set to "false" (in a template, an override or by the hook) keeps that pod out of warm pods. */
export const WARM_OPT_OUT = 'floe.dev/warm';

export const isWarmPod = (pod: V1Pod): boolean => Boolean(pod.metadata?.labels?.[SPEC_KEY_LABEL]);

/** Whether a tracked try on a warm pod has ended: the pod offered itself again (idle) or left (retired). */
export function warmTryEnded(row: WarmPodRow | undefined): boolean {
  return row !== undefined && (row.state === 'idle' || row.state === 'retired');
}
