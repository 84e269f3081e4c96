// What `floe worker` prints: one line per try started/finished, and on a terminal a live status line.
import type { WorkerEvent, WorkerStatus } from './queue-worker.ts';

const tryLabel = (e: { key: { dagId: string; taskId: string; runId: string; mapIndex: number }; tryNumber: number }): string =>
  `${e.key.dagId}.${e.key.taskId}${e.key.mapIndex >= 0 ? `[${e.key.mapIndex}]` : ''} run ${e.key.runId} try ${e.tryNumber}`;

/** A plain log line for an event, e.g. `2026-01-01T00:00:00.000Z finished etl.load run … try 1: success (1.2s)`. */
export function formatWorkerEvent(e: WorkerEvent, now: Date = new Date()): string {
  const t = now.toISOString();
  if (e.type === 'problem') return `${t} problem: ${e.message}`;
  if (e.type === 'started') return `${t} started ${tryLabel(e)} (queue ${e.queue}, pid ${e.pid})`;
  // A job whose try was not queued when it came (a stalled job delivered again, a try taken back): not run here.
  if (e.outcome === 'not run') return `${t} refused a second delivery of ${tryLabel(e)}: ${e.reason ?? 'the try is not queued'}`;
  const secs = (e.ms / 1000).toFixed(1);
  return `${t} finished ${tryLabel(e)}: ${e.outcome}${e.reason ? ` (${e.reason})` : ''} in ${secs}s`;
}

/** The live line, e.g. `worker host-12 · default 1/4 · etl 0/2 · running 1 · succeeded 12 · failed 0`, cut to `width`. */
export function formatStatusLine(s: WorkerStatus, width = 120): string {
  const parts = [`worker ${s.name}${s.stopping ? ' (stopping)' : ''}`, ...s.queues.map((q) => `${q.name} ${q.running}/${q.concurrency}`), `running ${s.running}`, `succeeded ${s.succeeded}`, `failed ${s.failed}`];
  const line = parts.join(' · ');
  return line.length > width ? `${line.slice(0, Math.max(0, width - 1))}…` : line;
}

