// BullMQ job ids and queue names for task tries. The job id is derived from the TI key and the try number,
// so adding the same try twice (a retried add after a lost reply, a restarted scheduler) is a no-op in
// Redis: a try is enqueued at most once.
import type { TIKey } from '../types.ts';

// BullMQ refuses ids containing ':' and ids that parse as integers; '|' separates the parts, so the three
// characters are escaped inside each part ('%' too, so the escaping can be undone).
const escapePart = (s: string): string => s.replace(/[%:|]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`);
const unescapePart = (s: string): string => s.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));

/**
 * `dag|run|task|mapIndex|try|launch`, e.g. `etl|manual__2024-01-01T00%3A00%3A00+00%3A00|load|-1|2|7.31`: a try
 * taken back and queued again is another launch, hence another job (the old one may still sit in Redis).
 */
export function jobIdFor(key: TIKey, tryNumber: number, launchId: string | null): string {
  const parts = [escapePart(key.dagId), escapePart(key.runId), escapePart(key.taskId), String(key.mapIndex), String(tryNumber)];
  return (launchId ? [...parts, escapePart(launchId)] : parts).join('|');
}

/** The TI key, try and launch a job id stands for, or null when it is not a Floe job id. */
export function parseJobId(id: string): { key: TIKey; tryNumber: number; launchId: string | null } | null {
  const parts = id.split('|');
  if (parts.length !== 5 && parts.length !== 6) return null;
  const [dagId, runId, taskId, mapIndex, tryNumber, launchId] = parts;
  if (!/^-?\d+$/.test(mapIndex) || !/^\d+$/.test(tryNumber)) return null;
  const key = { dagId: unescapePart(dagId), runId: unescapePart(runId), taskId: unescapePart(taskId), mapIndex: Number(mapIndex) };
  return { key, tryNumber: Number(tryNumber), launchId: launchId === undefined ? null : unescapePart(launchId) };
}

/** Why `name` cannot be a BullMQ queue name, or null when it can. */
export function queueNameProblem(name: string): string | null {
  if (!name.trim()) return 'a queue name cannot be empty';
  if (name.includes(':')) return `queue name "${name}" contains ':', which BullMQ does not allow in queue names`;
  return null;
}

/** The executor's handle for a try, stored as the TI's external_executor_id. */
export const externalIdFor = (queue: string, jobId: string): string => `bullmq:${queue}/${jobId}`;
