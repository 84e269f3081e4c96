// A failed pod's recent core/v1 Events (what `kubectl describe pod` shows at the bottom): listed once per
// failed pod by its UID, bounded in time and size, and rendered for a try's reason and its task log. Events
// explain what the pod's status alone does not (which image, which registry error, why no node fits).
import type { CoreV1Event } from '@kubernetes/client-node';
import { apiMessage, type KubeApi } from './client.ts';

/** Events kept per failed pod, the newest ones (Kubernetes aggregates repeats into one event with a count). */
export const POD_EVENTS_KEPT = 5;
/** A listing of events may take this long; past it the try ends with its reason alone. */
export const POD_EVENTS_TIMEOUT_MS = 5_000;
/** Per event message, and for all events together in a try's reason (the reason stays readable). */
const MESSAGE_MAX = 240;
const REASON_EVENTS_MAX = 1_000;

export interface PodEvent {
  type: string;
  reason: string;
  message: string;
  count: number;
  /** When it was last seen, epoch ms (null when the event carries no time). */
  at: number | null;
}

function ms(v: unknown): number | null {
  if (v instanceof Date) return Number.isFinite(v.getTime()) ? v.getTime() : null;
  if (typeof v === 'string' && v) {
    const t = Date.parse(v);
    return Number.isFinite(t) ? t : null;
  }
  return null;
}

const oneLine = (s: string, max: number) => {
  const flat = s.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
};

/** The event's last occurrence: lastTimestamp (core/v1 writers), series/eventTime (events.k8s.io writers), creation. */
function lastSeen(e: CoreV1Event): number | null {
  return ms(e.lastTimestamp) ?? ms(e.series?.lastObservedTime) ?? ms(e.eventTime) ?? ms(e.firstTimestamp) ?? ms(e.metadata?.creationTimestamp);
}

/** The newest `keep` events, oldest first, as plain one-line records. */
export function recentEvents(items: CoreV1Event[], keep = POD_EVENTS_KEPT): PodEvent[] {
  const evs = items.map((e, i) => ({
    i,
    ev: {
      type: e.type ?? 'Normal',
      reason: e.reason ?? '',
      message: oneLine(e.message ?? '', MESSAGE_MAX),
      count: Math.max(1, e.series?.count ?? e.count ?? 1),
      at: lastSeen(e),
    } satisfies PodEvent,
  }));
  // Stable by time, then by list order (the API lists in creation order).
  evs.sort((a, b) => (a.ev.at ?? 0) - (b.ev.at ?? 0) || a.i - b.i);
  return evs.slice(-keep).map((x) => x.ev);
}

/** `Warning Failed: Error: ImagePullBackOff (x3)` */
export function formatEvent(e: PodEvent): string {
  return `${e.type} ${e.reason}: ${e.message}${e.count > 1 ? ` (x${e.count})` : ''}`;
}

/**
 * The try's reason with the pod's Warning events appended, bounded so the reason stays readable. Normal
 * events (Scheduled, Pulled, Created, Started) say nothing about a failure, so a pod without warnings adds
 * nothing; the task log has every event.
 */
export function reasonWithEvents(reason: string, events: PodEvent[]): string {
  const shown = events.filter((e) => e.type === 'Warning');
  if (!shown.length) return reason;
  const parts: string[] = [];
  let len = 0;
  // Newest events matter most: drop the oldest when over the bound.
  for (let i = shown.length - 1; i >= 0; i--) {
    const s = formatEvent(shown[i]);
    if (parts.length && len + s.length + 3 > REASON_EVENTS_MAX) break;
    parts.unshift(s);
    len += s.length + 3;
  }
  return `${reason} | recent pod events: ${parts.join(' | ')}`;
}

/** Lines for the task log: one per event, with the time it was last seen. */
export function eventLogLines(events: PodEvent[]): string[] {
  return events.map((e) => `  ${e.at === null ? '-' : new Date(e.at).toISOString()} ${formatEvent(e)}`);
}

/**
 * The pod's recent events, listed by its UID (one API call). Never throws and never takes longer than
 * `timeoutMs` (including the wait for the client-side rate limit): on failure it returns the error instead.
 */
export async function listPodEvents(
  api: Pick<KubeApi, 'call'>,
  pod: { namespace: string; uid: string },
  timeoutMs = POD_EVENTS_TIMEOUT_MS,
): Promise<{ events: PodEvent[]; error: null } | { events: null; error: string }> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`listing the pod's events took over ${timeoutMs / 1000}s`)), timeoutMs);
  });
  try {
    const list = await Promise.race([
      api.call((c) => c.listNamespacedEvent({ namespace: pod.namespace, fieldSelector: `involvedObject.uid=${pod.uid}` }), timeoutMs),
      late,
    ]);
    return { events: recentEvents(list.items), error: null };
  } catch (e) {
    return { events: null, error: apiMessage(e) };
  } finally {
    clearTimeout(timer);
  }
}
