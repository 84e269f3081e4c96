// Settings of the queue executor and `floe worker`. `queueConfigFields` is the `queue:` section of floe.yaml
// (config/schema.ts holds the keys it has adopted); `queueSettings` reads a loaded section with every default.
import { z } from 'zod';
import { queueNameProblem } from './job-id.ts';

const seconds = z.number().positive();

export const queueConfigFields = {
  redisUrl: z.string().default('redis://127.0.0.1:6379'),
  /** Redis key prefix of every queue (several Floe installations can share one Redis). */
  prefix: z.string().default('floe'),
  /** Tries a worker runs at once on each of its queues (`floe worker --concurrency` overrides). */
  concurrency: z.number().int().positive().default(4),
  /** Per-queue concurrency, e.g. `{ etl: 2 }`; queues not listed use `concurrency`. */
  queueConcurrency: z.record(z.string(), z.number().int().positive()).default({}),
  /** Seconds a stopping worker (SIGTERM) lets running tries finish before it kills them. */
  shutdownTimeout: seconds.default(60),
  /** Seconds a worker's lock on a job lasts without renewal; a dead worker's jobs stall after this. */
  lockDuration: seconds.default(30),
  /** Seconds between a worker's checks for stalled jobs (jobs whose worker stopped renewing the lock). */
  stalledInterval: seconds.default(30),
  /** Seconds between the executor's checks of quiet in-flight tries against Redis and the DB. */
  reconcileInterval: seconds.default(5),
};

export const queueSettingsSchema = z.object(queueConfigFields);
export type QueueSettings = z.infer<typeof queueSettingsSchema>;

/** The `queue:` section of a loaded config with every default filled in (keys config/schema.ts lacks too). */
export function queueSettings(section: Record<string, unknown>): QueueSettings {
  const r = queueSettingsSchema.safeParse(section);
  if (!r.success) throw new Error(r.error.issues.map((i) => `queue.${i.path.join('.')}: ${i.message}`).join('\n'));
  return r.data;
}

/** `default,etl` → ['default', 'etl']; each must be a valid BullMQ queue name. */
export function parseQueueList(spec: string, what = '--queues'): string[] {
  const names = [...new Set(spec.split(',').map((s) => s.trim()).filter((s) => s !== ''))];
  if (!names.length) throw new Error(`${what}: expected a comma-separated list of queue names like "default,etl", got "${spec}"`);
  for (const n of names) {
    const problem = queueNameProblem(n);
    if (problem) throw new Error(`${what}: ${problem}`);
  }
  return names;
}

export interface QueueConcurrency {
  name: string;
  concurrency: number;
}

/**
 * Concurrency of each queue: `spec` (the `--concurrency` flag) is `N` for every queue, `etl=2,default=8`
 * per queue, or both (`4,etl=2`); without it, queue.queueConcurrency then queue.concurrency decide.
 */
export function resolveConcurrency(queues: string[], spec: string | undefined, settings: Pick<QueueSettings, 'concurrency' | 'queueConcurrency'>): QueueConcurrency[] {
  let all: number | null = null;
  const per = new Map<string, number>();
  const positive = (v: string, part: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--concurrency: "${part}" is not valid; expected a positive integer (N) or QUEUE=N, e.g. "4" or "default=4,etl=2"`);
    return n;
  };
  for (const part of (spec ?? '').split(',').map((s) => s.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq < 0) all = positive(part, part);
    else {
      const name = part.slice(0, eq).trim();
      if (!queues.includes(name)) throw new Error(`--concurrency: "${name}" is not one of this worker's queues (${queues.join(', ')})`);
      per.set(name, positive(part.slice(eq + 1).trim(), part));
    }
  }
  return queues.map((name) => ({ name, concurrency: per.get(name) ?? all ?? settings.queueConcurrency[name] ?? settings.concurrency }));
}
