// Which try (and launch) a Floe worker pod belongs to, read from its exact-id annotations, and the map keys the
// executor tracks pods and tries by.
import type { V1Pod } from '@kubernetes/client-node';
import { FLOE_KEYS } from '../../kubernetes/pod/index.ts';
import { tiKeyString, type TIKey } from '../types.ts';

export const podKey = (ns: string, name: string) => `${ns}/${name}`;
export const tryKey = (k: TIKey, tryNumber: number) => `${tiKeyString(k)}#${tryNumber}`;

/** The try (and launch, when the pod names one) a Floe worker pod runs, from its exact-id annotations. */
export function podTry(pod: V1Pod): { key: TIKey; tryNumber: number; launchId: string | null } | null {
  const a = pod.metadata?.annotations ?? {};
  const dagId = a[FLOE_KEYS.dagId];
  const taskId = a[FLOE_KEYS.taskId];
  const runId = a[FLOE_KEYS.runId];
  const tryNumber = Number(a[FLOE_KEYS.tryNumber]);
  const mapIndex = Number(a[FLOE_KEYS.mapIndex] ?? -1);
  if (!dagId || !taskId || !runId || !Number.isInteger(tryNumber)) return null;
  return { key: { dagId, taskId, runId, mapIndex }, tryNumber, launchId: a[FLOE_KEYS.launchId] ?? null };
}

/** Whether the pod's identity annotations name this try — and this launch of it, when both are known. */
export function isPodOf(pod: V1Pod, key: TIKey, tryNumber: number, launchId: string | null): boolean {
  const t = podTry(pod);
  if (t === null || t.tryNumber !== tryNumber || tiKeyString(t.key) !== tiKeyString(key)) return false;
  return !launchId || !t.launchId || t.launchId === launchId;
}
