// The task runner's side of sensors: poke until the condition holds or the timeout passes. In `poke` mode the try
// sleeps between pokes in its slot; in `reschedule` mode each run of the try pokes once and, when the condition
// does not hold, ends as up_for_reschedule with the time of its next poke — its executor slot, pool slots and pod
// are given back, and the scheduler queues the same try again then. The try's first poke (task_reschedule rows)
// starts its timeout; their number drives the exponential backoff.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import type { SerializedSensor } from '../dag/model.ts';
import type { Database } from '../db/schema.ts';
import { keyColumns, type TryEnd } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';
import type { TaskBody } from '../sdk/dag.ts';
import type { TaskContext } from '../sdk/types.ts';
import { renderTemplate, templateVariables } from './templates.ts';

/** Longest wait between two pokes, whatever the backoff says (as retries: one day). */
const MAX_POKE_WAIT_S = 86_400;

/** Seconds to wait after the `failedPokes`-th poke that found the condition unmet (1 after the first). */
export function pokeDelaySeconds(s: Pick<SerializedSensor, 'pokeInterval' | 'exponentialBackoff' | 'maxWait'>, failedPokes: number): number {
  let d = s.pokeInterval;
  if (s.exponentialBackoff) d = s.pokeInterval * 2 ** Math.min(64, Math.max(0, failedPokes - 1));
  if (s.maxWait != null) d = Math.min(d, s.maxWait);
  return Math.min(d, MAX_POKE_WAIT_S);
}

/** A reschedule-mode poke found the condition unmet: the try ends up_for_reschedule until `at`. */
export class SensorReschedule extends Error {
  constructor(
    readonly at: Date,
    readonly poke: number,
  ) {
    super(`poke ${poke}: condition not met; next poke at ${at.toISOString()}`);
    this.name = 'SensorReschedule';
  }
}

/** The sensor's timeout passed: failed without retries (Airflow's AirflowSensorTimeout), or skipped with softFail. */
export class SensorTimeout extends Error {
  constructor(
    message: string,
    readonly softFail: boolean,
  ) {
    super(message);
    this.name = 'SensorTimeout';
  }
}

export interface SenseOptions {
  db: Kysely<Database>;
  k: TIKey;
  tryNumber: number;
  sensor: SerializedSensor;
  /** false: every poke happens in this run of the try (poke mode, or `floe tasks test`). */
  reschedule: boolean;
  log: (message: string) => void;
  signal: AbortSignal;
  now?: () => number;
  /** Told the start of the try's first poke when an earlier run of the try made it (reschedule mode). */
  onFirstStart?: (iso: string) => void;
}

/** How the earlier pokes of this try went (reschedule mode): when the first started, and how many there were. */
async function earlierPokes(o: SenseOptions): Promise<{ firstStart: string | null; count: number }> {
  if (!o.reschedule) return { firstStart: null, count: 0 };
  const r = await o.db
    .selectFrom('task_reschedule')
    .select((eb) => [eb.fn.min<string>('start_date').as('first'), eb.fn.countAll<number>().as('n')])
    .where((eb) => eb.and(keyColumns(o.k)))
    .where('try_number', '=', o.tryNumber)
    .executeTakeFirst();
  return { firstStart: r?.first ?? null, count: Number(r?.n ?? 0) };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    const onAbort = () => (clearTimeout(t), reject(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
  });

/**
 * Pokes until the condition holds and returns its (truthy) value, with the start of the try's first poke when that
 * was an earlier run of the try (reschedule mode). Throws SensorReschedule or SensorTimeout otherwise.
 */
export async function sense(o: SenseOptions, poke: () => Promise<unknown>): Promise<{ value: unknown; startedAt: string | null }> {
  const now = o.now ?? Date.now;
  const before = await earlierPokes(o);
  if (before.firstStart) o.onFirstStart?.(before.firstStart);
  const started = before.firstStart ? new Date(before.firstStart).getTime() : now();
  const s = o.sensor;
  for (let n = before.count + 1; ; n++) {
    const value = await poke();
    if (value) {
      o.log(`poke ${n}: the condition holds`);
      return { value, startedAt: before.firstStart };
    }
    const elapsed = now() - started;
    if (s.timeout != null && elapsed >= s.timeout * 1000) {
      const msg = `sensor ${o.k.taskId} timed out: its condition did not hold within ${s.timeout}s (timeout) after ${n} poke${n > 1 ? 's' : ''}`;
      throw new SensorTimeout(s.softFail ? `${msg}; skipped (softFail)` : msg, s.softFail);
    }
    let waitMs = pokeDelaySeconds(s, n) * 1000;
    if (s.timeout != null) waitMs = Math.min(waitMs, s.timeout * 1000 - elapsed);
    if (o.reschedule) throw new SensorReschedule(new Date(now() + waitMs), n);
    o.log(`poke ${n}: condition not met; poking again in ${(waitMs / 1000).toFixed(waitMs < 10_000 ? 1 : 0)}s`);
    await sleep(waitMs, o.signal);
  }
}

/**
 * How a sensor's try ends when `e` is one of the sensor's own outcomes (reschedule, timeout), or null. A timeout
 * fails the task whatever its retries (its condition had all its time), as in Airflow.
 */
export function sensorEnd(e: unknown): TryEnd | null {
  if (e instanceof SensorReschedule) return { state: 'up_for_reschedule', reason: `waiting: ${e.message}`, nextRetryAt: e.at.toISOString() };
  if (e instanceof SensorTimeout) return { state: e.softFail ? 'skipped' : 'failed', reason: e.message };
  return null;
}

/** `*`, `?` and `[…]` of a glob's last path part, as a regular expression. */
function globPart(pattern: string): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 1);
      if (close < 0) re += '\\[';
      else {
        re += `[${pattern.slice(i + 1, close).replace(/^!/, '^').replace(/\\/g, '\\\\')}]`;
        i = close;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** The path a file sensor waits for, if it exists now (the first match of a glob, by name); null otherwise. */
export function findPath(target: string): string | null {
  const dir = path.dirname(target);
  const base = path.basename(target);
  if (!/[*?[]/.test(base)) {
    try {
      statSync(target);
      return target;
    } catch {
      return null;
    }
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  const re = globPart(base);
  const hit = names.filter((n) => re.test(n)).sort()[0];
  return hit === undefined ? null : path.join(dir, hit);
}

/** The poke of a built-in sensor (fileSensor, externalTaskSensor). */
export function builtinPoke(body: TaskBody, ctx: TaskContext, db: Kysely<Database>, dagFolder: string, log: (m: string) => void): () => Promise<unknown> {
  if (body.kind === 'file_sensor') {
    return async () => {
      const raw = typeof body.path === 'function' ? body.path(ctx) : renderTemplate(body.path, templateVariables(ctx), `task ${ctx.taskId} path`);
      const target = path.resolve(dagFolder, raw);
      const found = findPath(target);
      log(found ? `found ${found}` : `waiting for ${target}`);
      return found;
    };
  }
  if (body.kind === 'external_task_sensor') {
    return async () => {
      const logical = new Date(ctx.logicalDate.getTime() - body.executionDelta * 1000).toISOString();
      const run = await db.selectFrom('dag_run').select(['run_id', 'state']).where('dag_id', '=', body.externalDagId).where('logical_date', '=', logical).executeTakeFirst();
      const what = `${body.externalDagId}${body.externalTaskId ? `.${body.externalTaskId}` : ''} at logical date ${logical}`;
      if (!run) {
        log(`waiting for ${what}: no such run yet`);
        return false;
      }
      let states: string[];
      if (body.externalTaskId) {
        const tis = await db.selectFrom('task_instance').select('state').where('dag_id', '=', body.externalDagId).where('run_id', '=', run.run_id).where('task_id', '=', body.externalTaskId).execute();
        states = tis.map((t) => t.state);
      } else states = [run.state];
      const failed = states.filter((s) => body.failedStates.includes(s));
      if (failed.length) throw new Error(`${what} (run ${run.run_id}) is ${failed[0]}, one of the failedStates (${body.failedStates.join(', ')})`);
      const done = states.length > 0 && states.every((s) => body.allowedStates.includes(s));
      log(`${what} (run ${run.run_id}) is ${states.length ? [...new Set(states)].join(', ') : 'not started'}${done ? '' : `; waiting for ${body.allowedStates.join(' or ')}`}`);
      return done;
    };
  }
  throw new Error(`task kind ${body.kind} is not a sensor`);
}
