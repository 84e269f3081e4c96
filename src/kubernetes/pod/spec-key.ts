// A worker pod's spec key: what makes two tries' pods interchangeable. It hashes the pod as the whole pipeline
// built it (template, podOverride, identity, podMutationHook) with the try-specific identity removed — the pod
// name, the floe.dev/ ids of the try (DAG, task, run, try, map index, launch, scheduler) and the base container's
// command, which names the try. Everything else counts: image, env, resources, service account, volumes,
// node selection, other labels and annotations, every other container. A try may run in a warm pod only when
// its own pod would have the same key.
import { createHash } from 'node:crypto';
import type { V1Pod } from '@kubernetes/client-node';
import { BASE_CONTAINER, FLOE_KEYS } from './identity.ts';

/** Label carrying the key on warm pods (a label value holds at most 63 characters). */
export const SPEC_KEY_LABEL = 'floe.dev/spec-key';

const TRY_KEYS = new Set<string>([FLOE_KEYS.dagId, FLOE_KEYS.taskId, FLOE_KEYS.runId, FLOE_KEYS.tryNumber, FLOE_KEYS.mapIndex, FLOE_KEYS.launchId, FLOE_KEYS.schedulerId, SPEC_KEY_LABEL]);

function withoutTryKeys(m: Record<string, string> | undefined): Record<string, string> | undefined {
  if (!m) return m;
  return Object.fromEntries(Object.entries(m).filter(([k]) => !TRY_KEYS.has(k)));
}

/** JSON with object keys sorted at every level: equal pods give equal text whatever order their fields came in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** The pod with the try-specific identity removed: what the key hashes (shown by docs and tests). */
export function specKeyInput(pod: V1Pod): unknown {
  const plain = JSON.parse(JSON.stringify(pod)) as V1Pod;
  const meta = plain.metadata ?? {};
  delete meta.name;
  delete meta.generateName;
  meta.labels = withoutTryKeys(meta.labels);
  meta.annotations = withoutTryKeys(meta.annotations);
  for (const c of plain.spec?.containers ?? []) if (c.name === BASE_CONTAINER) delete c.command;
  return { ...plain, metadata: meta };
}

/** 40 hex characters of the SHA-256 of the canonical pod without its try identity. */
export function specKey(pod: V1Pod): string {
  return createHash('sha256').update(canonical(specKeyInput(pod))).digest('hex').slice(0, 40);
}
