// What travels through Redis between the queue executor (producer) and `floe worker` (consumer): the job
// data of a try and the result a worker returns when the try's process is over.
import { z } from 'zod';
import type { TIKey } from '../types.ts';

/** Job name of every try (BullMQ jobs have a name; Floe's only kind of job is a task try). */
export const TRY_JOB_NAME = 'try';

const tiKeySchema = z.object({ dagId: z.string().min(1), runId: z.string().min(1), taskId: z.string().min(1), mapIndex: z.number().int() });

export const tryJobDataSchema = z.object({
  key: tiKeySchema,
  tryNumber: z.number().int().positive(),
  /** The launch of the try (absent in jobs of older schedulers): the worker claims exactly it. */
  launchId: z.string().min(1).optional(),
  /** Seconds; the worker kills the try's process when the runner could not stop it (null: no limit). */
  executionTimeout: z.number().nonnegative().nullable(),
  /** ISO time the scheduler handed the try to the executor (shown by workers, useful when debugging). */
  queuedAt: z.string(),
  /** Hash of the serialized DAG the try was queued from (absent in jobs of older schedulers). */
  dagHash: z.string().optional(),
});
export type TryJobData = z.infer<typeof tryJobDataSchema>;

/** Validates job data read from Redis; the error names the job, the queue and the field. */
export function parseTryJobData(data: unknown, where: string): TryJobData {
  const r = tryJobDataSchema.safeParse(data);
  if (r.success) return r.data;
  const issues = r.error.issues.map((i) => `data.${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
  throw new Error(`${where} is not a Floe task try (${issues}); was it added by something other than Floe's queue executor?`);
}

/** A worker's report of a try whose process ended normally. `ran: false`: the runner refused the try. */
export type TryJobResult =
  | { ran: true; state: string; reason: string | null; worker: string; pid: number }
  | { ran: false; reason: string; worker: string; pid: number };

const resultSchema = z.union([
  z.object({ ran: z.literal(true), state: z.string(), reason: z.string().nullable(), worker: z.string(), pid: z.number() }),
  z.object({ ran: z.literal(false), reason: z.string(), worker: z.string(), pid: z.number() }),
]);

export function parseTryJobResult(value: unknown): TryJobResult | null {
  const r = resultSchema.safeParse(typeof value === 'string' ? safeJson(value) : value);
  return r.success ? r.data : null;
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return null;
  }
}

/** BullMQ's own failure reasons when the worker holding a job went away (stalled-job detection). */
export function isLostWorkerReason(failedReason: string): boolean {
  return /stalled more than allowable limit|started more than allowable limit/.test(failedReason);
}

export const sameKey = (a: TIKey, b: TIKey): boolean => a.dagId === b.dagId && a.runId === b.runId && a.taskId === b.taskId && a.mapIndex === b.mapIndex;
