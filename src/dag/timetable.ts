// Timetables: when a DAG's scheduled runs happen and which data interval each one covers.
// Pure functions of their inputs (the clock is a parameter); semantics follow Airflow 2's timetables:
// a run covers [start, end), its logical date is the start, and it is due once now >= end.
import { Cron } from 'croner';

export type Schedule = string | { every: number } | null;
export interface DataInterval { start: Date; end: Date }
export interface DagRunInfo { logicalDate: Date; dataInterval: DataInterval }

export class TimetableError extends Error {
  override name = 'TimetableError';
}

export interface NextDagRunOptions {
  /** Data interval of the latest existing scheduled (not manual) run, or null if there is none. */
  lastInterval: DataInterval | null;
  startDate: Date | null;
  endDate: Date | null;
  catchup: boolean;
  now: Date;
}

export interface Timetable {
  readonly description: string;
  /** false for manual-only (null) and @once. */
  readonly periodic: boolean;
  /** The next run to create after the latest existing scheduled run, or null if none is due at `now`. */
  nextDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null;
  /**
   * The run nextDagRunInfo will return once it is due, whether or not it is due yet (null: no further run
   * will ever be created, as of `now`). It becomes due at its `dataInterval.end` (= logical date for @once),
   * so the scheduler can store that and sleep until then.
   */
  upcomingDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null;
  /** Every run whose logical date is in [from, to] (inclusive), bounded by startDate/endDate, for backfill. */
  runsBetween(from: Date, to: Date, opts: { startDate: Date | null; endDate: Date | null }): DagRunInfo[];
  /** Data interval for a manual run: the latest complete interval ending at/before it (periodic), else [date, date]. */
  inferManualDataInterval(logicalDate: Date): DataInterval;
}

/** runsBetween refuses to list more runs than this: a typo in a backfill range should not exhaust memory. */
export const MAX_RUNS_BETWEEN = 100_000;

/** Presets, as in Airflow (which also has @quarterly). Mapped here rather than by croner, so the list is ours. */
export const CRON_PRESETS: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@quarterly': '0 0 1 */3 *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

const MAX_EVERY_SECONDS = 100 * 366 * 86_400;
const SCHEDULE_HELP =
  'expected a cron expression ("0 6 * * *"), a preset (@once, ' + Object.keys(CRON_PRESETS).join(', ') +
  '), { every: <seconds> }, or null for manual runs only';
const CRON_FIELDS_HELP = '5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first';

// ---------------------------------------------------------------------------------------------------------
// Validation

/** Returns an error message naming the bad schedule/timezone and what was expected, or null if both are valid. */
export function validateSchedule(schedule: unknown, timezone?: unknown): string | null {
  try {
    parse(schedule, timezone);
    return null;
  } catch (e) {
    if (e instanceof TimetableError) return e.message;
    throw e;
  }
}

/** Builds the timetable for a DAG's schedule; throws TimetableError on a bad schedule or time zone. */
export function makeTimetable(schedule: Schedule, timezone = 'UTC'): Timetable {
  const p = parse(schedule, timezone);
  switch (p.kind) {
    case 'manual': return new ManualTimetable();
    case 'once': return new OnceTimetable();
    case 'every': return new PeriodicTimetable(`every ${p.seconds}s`, new EveryGrid(p.seconds * 1000));
    case 'cron': return new PeriodicTimetable(p.description, new CronGrid(p.cron));
  }
}

type Parsed =
  | { kind: 'manual' }
  | { kind: 'once' }
  | { kind: 'every'; seconds: number }
  | { kind: 'cron'; cron: Cron; description: string };

function parse(schedule: unknown, timezone: unknown): Parsed {
  const tz = parseTimezone(timezone);
  if (schedule === null || schedule === undefined) return { kind: 'manual' };
  if (typeof schedule === 'string') return parseString(schedule, tz);
  if (typeof schedule === 'object' && !Array.isArray(schedule)) return parseEvery(schedule as Record<string, unknown>);
  throw new TimetableError(`schedule ${show(schedule)} is invalid: ${SCHEDULE_HELP}, got ${Array.isArray(schedule) ? 'an array' : typeof schedule}`);
}

function parseTimezone(timezone: unknown): string {
  if (timezone === undefined || timezone === null) return 'UTC';
  const help = 'expected an IANA time zone name such as "UTC", "Europe/Amsterdam" or "America/New_York"';
  if (typeof timezone !== 'string' || timezone.trim() === '')
    throw new TimetableError(`timezone ${show(timezone)} is invalid: ${help}`);
  try {
    // croner resolves zones through Intl too, so what Intl accepts croner can compute with.
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    throw new TimetableError(`timezone ${show(timezone)} is not a known time zone: ${help}`);
  }
  return timezone;
}

function parseString(raw: string, tz: string): Parsed {
  const s = raw.trim();
  if (s === '') throw new TimetableError(`schedule "" is empty: ${SCHEDULE_HELP}`);
  if (s.startsWith('@')) {
    if (s === '@once') return { kind: 'once' };
    const expr = CRON_PRESETS[s];
    if (expr === undefined) throw new TimetableError(`schedule "${raw}" is not a known preset: expected one of @once, ${Object.keys(CRON_PRESETS).join(', ')}`);
    return { kind: 'cron', cron: makeCron(raw, expr, tz), description: `${s} = cron ${expr} (${tz})` };
  }
  return { kind: 'cron', cron: makeCron(raw, s, tz), description: `cron ${s} (${tz})` };
}

function makeCron(raw: string, expr: string, tz: string): Cron {
  const fields = expr.split(/\s+/).length;
  if (fields !== 5 && fields !== 6)
    throw new TimetableError(`schedule "${raw}" is not a valid cron expression: expected ${CRON_FIELDS_HELP}, got ${fields} field${fields === 1 ? '' : 's'}`);
  let cron: Cron;
  try {
    cron = new Cron(expr, { timezone: tz, mode: '5-or-6-parts' });
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).replace(/^CronPattern:\s*/, '');
    throw new TimetableError(`schedule "${raw}" is not a valid cron expression (${why}): expected ${CRON_FIELDS_HELP}`);
  }
  // A pattern like "0 0 30 2 *" parses but never fires; catch it at DAG import rather than silently never running.
  if (cron.nextRun(new Date(Date.UTC(2000, 0, 1))) === null)
    throw new TimetableError(`schedule "${raw}" never fires: no date matches its day-of-month/month fields`);
  return cron;
}

function parseEvery(o: Record<string, unknown>): Parsed {
  const extra = Object.keys(o).filter((k) => k !== 'every');
  if (extra.length || !('every' in o))
    throw new TimetableError(`schedule ${show(o)} is invalid: expected exactly { every: <seconds> }${extra.length ? `, got unknown key${extra.length > 1 ? 's' : ''} ${extra.map((k) => `"${k}"`).join(', ')}` : ''}`);
  const n = o.every;
  if (typeof n !== 'number' || !Number.isInteger(n) || n <= 0)
    throw new TimetableError(`schedule { every: ${show(n)} } is invalid: "every" must be a positive whole number of seconds, got ${show(n)}`);
  if (n > MAX_EVERY_SECONDS) // keeps interval arithmetic inside the range of Date
    throw new TimetableError(`schedule { every: ${n} } is invalid: "every" must be at most ${MAX_EVERY_SECONDS} seconds (about 100 years)`);
  return { kind: 'every', seconds: n };
}

function show(v: unknown): string {
  if (typeof v === 'number' && !Number.isFinite(v)) return String(v);
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

function checkDate(name: string, d: Date | null): void {
  if (d !== null && !(d instanceof Date && !Number.isNaN(d.getTime())))
    throw new TimetableError(`${name}: expected a valid Date, got ${show(d)}`);
}

function checkOpts(o: NextDagRunOptions): void {
  checkDate('startDate', o.startDate);
  checkDate('endDate', o.endDate);
  checkDate('now', o.now);
  if (o.lastInterval) {
    checkDate('lastInterval.start', o.lastInterval.start);
    checkDate('lastInterval.end', o.lastInterval.end);
  }
}

// ---------------------------------------------------------------------------------------------------------
// Grids: where periodic intervals start and end. Two kinds, as Airflow's cron and delta timetables.

interface Grid {
  /** First interval start at or after t (startDate alignment; anchor = startDate for fixed intervals). */
  alignNext(t: Date, startDate: Date | null): Date | null;
  /** Where the interval after one ending at lastEnd starts. */
  continueFrom(lastEnd: Date): Date | null;
  /** First interval start strictly after t. */
  after(t: Date): Date | null;
  /** End of the interval starting at start. */
  endOf(start: Date): Date | null;
  /** Start of the latest interval that has ended at now (catchup: false). */
  latestEndedStart(now: Date, startDate: Date | null): Date | null;
  manualInterval(date: Date): DataInterval;
}

class CronGrid implements Grid {
  constructor(private readonly cron: Cron) {}

  /** First fire strictly after t. croner walks the wall clock in the time zone, with its DST rules. */
  private next(t: Date): Date | null {
    return this.cron.nextRun(t);
  }

  /** Last fire strictly before t. */
  private prev(t: Date): Date | null {
    return this.cron.previousRuns(1, t)[0] ?? null;
  }

  // Alignment as Airflow's _align_to_next/_align_to_prev: t is a fire time iff stepping away and back lands on it,
  // which stays right on DST days (a wall time matching the pattern is not always a fire time then).
  alignNext(t: Date): Date | null {
    const n = this.next(t);
    if (n === null) return null;
    return this.prev(n)?.getTime() === t.getTime() ? new Date(t) : n;
  }

  private alignPrev(t: Date): Date | null {
    const p = this.prev(t);
    if (p === null) return null;
    return this.next(p)?.getTime() === t.getTime() ? new Date(t) : p;
  }

  continueFrom(lastEnd: Date): Date | null {
    return this.alignPrev(lastEnd);
  }

  after(t: Date): Date | null {
    return this.next(t);
  }

  endOf(start: Date): Date | null {
    return this.next(start);
  }

  latestEndedStart(now: Date): Date | null {
    const end = this.alignPrev(now);
    return end && this.prev(end);
  }

  manualInterval(date: Date): DataInterval {
    const end = this.alignPrev(date);
    const start = end && this.prev(end);
    return end && start ? { start, end } : { start: new Date(date), end: new Date(date) };
  }
}

/** Fixed intervals, in absolute time (no time zone or DST involved), on a grid anchored at startDate. */
class EveryGrid implements Grid {
  constructor(private readonly ms: number) {}

  alignNext(t: Date, startDate: Date | null): Date {
    const a = (startDate ?? EPOCH).getTime();
    return new Date(a + Math.ceil((t.getTime() - a) / this.ms) * this.ms);
  }

  // As Airflow's delta timetable: the next interval starts where the last one ended, even off the grid
  // (e.g. after the interval length changed), so there is neither a gap nor an overlap.
  continueFrom(lastEnd: Date): Date {
    return new Date(lastEnd);
  }

  after(t: Date): Date {
    return new Date(t.getTime() + this.ms);
  }

  endOf(start: Date): Date {
    return new Date(start.getTime() + this.ms);
  }

  latestEndedStart(now: Date, startDate: Date | null): Date {
    // Unlike Airflow (which rounds to the epoch), stay on the startDate grid; without a startDate, the epoch.
    const a = (startDate ?? EPOCH).getTime();
    return new Date(a + (Math.floor((now.getTime() - a) / this.ms) - 1) * this.ms);
  }

  manualInterval(date: Date): DataInterval {
    return { start: new Date(date.getTime() - this.ms), end: new Date(date) };
  }
}

const EPOCH = new Date(0);

// ---------------------------------------------------------------------------------------------------------
// Timetables

const later = (a: Date, b: Date): Date => (a.getTime() >= b.getTime() ? a : b);
const interval = (start: Date, end: Date): DagRunInfo =>
  ({ logicalDate: new Date(start), dataInterval: { start: new Date(start), end: new Date(end) } });
const isDue = (info: DagRunInfo | null, now: Date): DagRunInfo | null =>
  info && info.dataInterval.end.getTime() <= now.getTime() ? info : null;

function checkRange(from: Date, to: Date, o: { startDate: Date | null; endDate: Date | null }): void {
  checkDate('from', from);
  checkDate('to', to);
  checkDate('startDate', o.startDate);
  checkDate('endDate', o.endDate);
  if (from.getTime() > to.getTime())
    throw new TimetableError(`runsBetween: from (${from.toISOString()}) is after to (${to.toISOString()})`);
}

class PeriodicTimetable implements Timetable {
  readonly periodic = true;
  constructor(readonly description: string, private readonly grid: Grid) {}

  nextDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null {
    return isDue(this.upcomingDagRunInfo(opts), opts.now);
  }

  // Airflow's _DataIntervalTimetable.next_dagrun_info, with the clock passed in.
  upcomingDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null {
    checkOpts(opts);
    const { lastInterval, startDate, endDate, catchup, now } = opts;
    let earliest: Date | null = null;
    if (startDate) {
      earliest = this.grid.alignNext(startDate, startDate);
      if (earliest === null) return null; // never fires after startDate
    }
    if (!catchup) {
      // Skip to the latest interval that has ended (never before startDate).
      const latest = this.grid.latestEndedStart(now, startDate);
      if (latest) earliest = earliest ? later(latest, earliest) : latest;
    }
    let start: Date | null;
    if (lastInterval === null) start = earliest;
    else {
      let cont = this.grid.continueFrom(lastInterval.end);
      // After a schedule change, aligning back can land on the last run's own logical date (hourly -> daily,
      // @once -> cron): never repeat a logical date, the DB keys runs on it.
      if (cont && cont.getTime() <= lastInterval.start.getTime()) cont = this.grid.after(lastInterval.start);
      start = cont && earliest ? later(cont, earliest) : cont;
    }
    if (start === null) return null;
    if (endDate && start.getTime() > endDate.getTime()) return null;
    const end = this.grid.endOf(start);
    return end && interval(start, end);
  }

  runsBetween(from: Date, to: Date, opts: { startDate: Date | null; endDate: Date | null }): DagRunInfo[] {
    checkRange(from, to, opts);
    const lo = opts.startDate ? later(from, opts.startDate) : from;
    const hi = Math.min(to.getTime(), opts.endDate?.getTime() ?? Infinity);
    const runs: DagRunInfo[] = [];
    let start = this.grid.alignNext(lo, opts.startDate);
    while (start && start.getTime() <= hi) {
      const end = this.grid.endOf(start);
      if (!end) break;
      if (runs.length === MAX_RUNS_BETWEEN)
        throw new TimetableError(`runsBetween ${from.toISOString()} .. ${to.toISOString()}: more than ${MAX_RUNS_BETWEEN} runs of ${this.description}; narrow the range`);
      runs.push(interval(start, end));
      start = this.grid.continueFrom(end);
    }
    return runs;
  }

  inferManualDataInterval(logicalDate: Date): DataInterval {
    checkDate('logicalDate', logicalDate);
    return this.grid.manualInterval(logicalDate);
  }
}

/** @once: one run at startDate, data interval [startDate, startDate], whatever catchup says (as Airflow). */
class OnceTimetable implements Timetable {
  readonly description = '@once';
  readonly periodic = false;

  nextDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null {
    return isDue(this.upcomingDagRunInfo(opts), opts.now);
  }

  upcomingDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null {
    checkOpts(opts);
    const { lastInterval, startDate, endDate } = opts;
    if (lastInterval || !startDate) return null;
    if (endDate && startDate.getTime() > endDate.getTime()) return null;
    return interval(startDate, startDate);
  }

  runsBetween(from: Date, to: Date, opts: { startDate: Date | null; endDate: Date | null }): DagRunInfo[] {
    checkRange(from, to, opts);
    const s = opts.startDate;
    if (!s || s < from || s > to || (opts.endDate && s > opts.endDate)) return [];
    return [interval(s, s)];
  }

  inferManualDataInterval(logicalDate: Date): DataInterval {
    checkDate('logicalDate', logicalDate);
    return { start: new Date(logicalDate), end: new Date(logicalDate) };
  }
}

/** schedule: null — only manual (triggered) runs. */
class ManualTimetable implements Timetable {
  readonly description = 'manual';
  readonly periodic = false;

  nextDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null {
    checkOpts(opts);
    return null;
  }

  upcomingDagRunInfo(opts: NextDagRunOptions): DagRunInfo | null {
    checkOpts(opts);
    return null;
  }

  runsBetween(from: Date, to: Date, opts: { startDate: Date | null; endDate: Date | null }): DagRunInfo[] {
    checkRange(from, to, opts);
    return [];
  }

  inferManualDataInterval(logicalDate: Date): DataInterval {
    checkDate('logicalDate', logicalDate);
    return { start: new Date(logicalDate), end: new Date(logicalDate) };
  }
}
