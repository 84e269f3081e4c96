import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  makeTimetable, validateSchedule, TimetableError, MAX_RUNS_BETWEEN,
  type DagRunInfo, type DataInterval, type NextDagRunOptions, type Schedule, type Timetable,
} from '../../src/dag/timetable.ts';

const D = (s: string): Date => {
  const d = new Date(s);
  assert.ok(!Number.isNaN(d.getTime()), `bad test date ${s}`);
  return d;
};
const iso = (d: Date): string => d.toISOString().replace('.000Z', 'Z');
/** "start..end" of a data interval, asserting the logical date is its start. */
const fmt = (i: DagRunInfo | null): string | null => {
  if (i === null) return null;
  assert.equal(i.logicalDate.getTime(), i.dataInterval.start.getTime(), 'logical date = data interval start');
  return `${iso(i.dataInterval.start)}..${iso(i.dataInterval.end)}`;
};
const fmtInterval = (i: DataInterval): string => `${iso(i.start)}..${iso(i.end)}`;
const hours = (i: DagRunInfo): number => (i.dataInterval.end.getTime() - i.dataInterval.start.getTime()) / 3_600_000;

type Opts = Omit<NextDagRunOptions, 'lastInterval'> & { lastInterval?: DataInterval | null };
const opts = (o: Partial<Opts> & { now: Date }): NextDagRunOptions =>
  ({ lastInterval: null, startDate: null, endDate: null, catchup: true, ...o });

/** What the scheduler does: ask for the next run until there is none due, feeding each back as the latest. */
function drain(tt: Timetable, o: Partial<Opts> & { now: Date }): DagRunInfo[] {
  const runs: DagRunInfo[] = [];
  let last = o.lastInterval ?? null;
  for (;;) {
    const info = tt.nextDagRunInfo(opts({ ...o, lastInterval: last }));
    if (!info) return runs;
    runs.push(info);
    assert.ok(runs.length < 5000, 'runaway loop');
    last = info.dataInterval;
  }
}

describe('catchup: true', () => {
  const tt = makeTimetable('@daily');
  const startDate = D('2024-01-01T00:00:00Z');

  it('creates exactly the 3 intervals that have ended, then stops', () => {
    const runs = drain(tt, { startDate, now: D('2024-01-04T00:00:00Z') });
    assert.deepEqual(runs.map(fmt), [
      '2024-01-01T00:00:00Z..2024-01-02T00:00:00Z',
      '2024-01-02T00:00:00Z..2024-01-03T00:00:00Z',
      '2024-01-03T00:00:00Z..2024-01-04T00:00:00Z',
    ]);
    const last = runs[2].dataInterval;
    // The 4th interval is not over until 2024-01-05: nothing more now or just before its end, then exactly it.
    assert.equal(tt.nextDagRunInfo(opts({ startDate, lastInterval: last, now: D('2024-01-04T23:59:59.999Z') })), null);
    assert.equal(fmt(tt.upcomingDagRunInfo(opts({ startDate, lastInterval: last, now: D('2024-01-04T12:00:00Z') }))),
      '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
    assert.equal(fmt(tt.nextDagRunInfo(opts({ startDate, lastInterval: last, now: D('2024-01-05T00:00:00Z') }))),
      '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
  });

  it('counts an interval only once it has ended (now >= end)', () => {
    assert.equal(drain(tt, { startDate, now: D('2024-01-03T23:59:59.999Z') }).length, 2);
    assert.equal(drain(tt, { startDate, now: D('2024-01-04T12:00:00Z') }).length, 3);
    assert.equal(drain(tt, { startDate, now: D('2023-12-31T00:00:00Z') }).length, 0);
  });

  it('starts at the first fire time at or after startDate', () => {
    assert.equal(fmt(tt.nextDagRunInfo(opts({ startDate: D('2024-01-01T10:00:00Z'), now: D('2024-02-01T00:00:00Z') }))),
      '2024-01-02T00:00:00Z..2024-01-03T00:00:00Z');
    const six = makeTimetable('0 6 * * *');
    assert.equal(fmt(six.nextDagRunInfo(opts({ startDate: D('2024-01-01T05:59:59.500Z'), now: D('2024-02-01T00:00:00Z') }))),
      '2024-01-01T06:00:00Z..2024-01-02T06:00:00Z');
    assert.equal(fmt(six.nextDagRunInfo(opts({ startDate: D('2024-01-01T06:00:00Z'), now: D('2024-02-01T00:00:00Z') }))),
      '2024-01-01T06:00:00Z..2024-01-02T06:00:00Z');
    assert.equal(fmt(six.nextDagRunInfo(opts({ startDate: D('2024-01-01T06:00:00.001Z'), now: D('2024-02-01T00:00:00Z') }))),
      '2024-01-02T06:00:00Z..2024-01-03T06:00:00Z');
  });

  it('never goes back before a startDate that moved later than the last run', () => {
    const info = tt.nextDagRunInfo(opts({
      startDate: D('2024-01-10T00:00:00Z'), lastInterval: { start: D('2024-01-01T00:00:00Z'), end: D('2024-01-02T00:00:00Z') },
      now: D('2024-02-01T00:00:00Z'),
    }));
    assert.equal(fmt(info), '2024-01-10T00:00:00Z..2024-01-11T00:00:00Z');
  });

  it('creates nothing without a startDate and no previous run (as Airflow)', () => {
    assert.equal(tt.nextDagRunInfo(opts({ now: D('2024-01-05T00:00:00Z') })), null);
  });
});

describe('catchup: false', () => {
  const tt = makeTimetable('@daily');
  const startDate = D('2024-01-01T00:00:00Z');
  const now = D('2024-03-10T05:00:00Z');

  it('skips to the latest interval that has ended, once', () => {
    const runs = drain(tt, { startDate, catchup: false, now });
    assert.deepEqual(runs.map(fmt), ['2024-03-09T00:00:00Z..2024-03-10T00:00:00Z']);
    assert.equal(fmt(tt.upcomingDagRunInfo(opts({ startDate, catchup: false, now, lastInterval: runs[0].dataInterval }))),
      '2024-03-10T00:00:00Z..2024-03-11T00:00:00Z');
  });

  it('skips over missed intervals after an earlier run', () => {
    const lastInterval = { start: D('2024-01-05T00:00:00Z'), end: D('2024-01-06T00:00:00Z') };
    assert.deepEqual(drain(tt, { startDate, catchup: false, now, lastInterval }).map(fmt),
      ['2024-03-09T00:00:00Z..2024-03-10T00:00:00Z']);
  });

  it('takes the interval that ends exactly now', () => {
    assert.equal(fmt(tt.nextDagRunInfo(opts({ startDate, catchup: false, now: D('2024-03-10T00:00:00Z') }))),
      '2024-03-09T00:00:00Z..2024-03-10T00:00:00Z');
  });

  it('then creates each new interval as it ends', () => {
    const first = tt.nextDagRunInfo(opts({ startDate, catchup: false, now }));
    assert.ok(first);
    const next = tt.nextDagRunInfo(opts({ startDate, catchup: false, now: D('2024-03-11T00:00:01Z'), lastInterval: first.dataInterval }));
    assert.equal(fmt(next), '2024-03-10T00:00:00Z..2024-03-11T00:00:00Z');
  });

  it('never starts before startDate', () => {
    // No interval has ended yet: nothing due, and the upcoming one is the first after startDate.
    const o = { startDate: D('2024-01-01T10:00:00Z'), catchup: false, now: D('2024-01-02T12:00:00Z') };
    assert.equal(tt.nextDagRunInfo(opts(o)), null);
    assert.equal(fmt(tt.upcomingDagRunInfo(opts(o))), '2024-01-02T00:00:00Z..2024-01-03T00:00:00Z');
    assert.equal(tt.nextDagRunInfo(opts({ ...o, now: D('2023-06-01T00:00:00Z') })), null);
    assert.equal(fmt(tt.upcomingDagRunInfo(opts({ ...o, now: D('2023-06-01T00:00:00Z') }))), '2024-01-02T00:00:00Z..2024-01-03T00:00:00Z');
  });

  it('works on sub-daily crons and without a startDate', () => {
    const q = makeTimetable('*/15 * * * *');
    assert.equal(fmt(q.nextDagRunInfo(opts({ catchup: false, now: D('2024-05-05T10:44:59Z') }))),
      '2024-05-05T10:15:00Z..2024-05-05T10:30:00Z');
  });
});

describe('endDate', () => {
  const tt = makeTimetable('@daily');
  const startDate = D('2024-01-01T00:00:00Z');
  const now = D('2024-06-01T00:00:00Z');

  it('bounds the last interval start (inclusive)', () => {
    assert.deepEqual(drain(tt, { startDate, endDate: D('2024-01-03T00:00:00Z'), now }).map(fmt), [
      '2024-01-01T00:00:00Z..2024-01-02T00:00:00Z',
      '2024-01-02T00:00:00Z..2024-01-03T00:00:00Z',
      '2024-01-03T00:00:00Z..2024-01-04T00:00:00Z',
    ]);
    assert.equal(drain(tt, { startDate, endDate: D('2024-01-02T23:59:59Z'), now }).length, 2);
    assert.equal(tt.upcomingDagRunInfo(opts({ startDate, endDate: D('2024-01-02T23:59:59Z'), now,
      lastInterval: { start: D('2024-01-02T00:00:00Z'), end: D('2024-01-03T00:00:00Z') } })), null);
  });

  it('creates nothing when endDate is before the first interval', () => {
    assert.equal(drain(tt, { startDate: D('2024-01-01T01:00:00Z'), endDate: D('2024-01-01T12:00:00Z'), now }).length, 0);
  });

  it('with catchup: false, creates nothing once the latest ended interval starts after endDate (as Airflow)', () => {
    assert.equal(tt.nextDagRunInfo(opts({ startDate, endDate: D('2024-02-01T00:00:00Z'), catchup: false, now })), null);
  });
});

describe('@once', () => {
  const tt = makeTimetable('@once');
  const startDate = D('2024-01-01T10:00:00Z');

  it('creates one run at startDate with interval [startDate, startDate], once now >= startDate', () => {
    for (const catchup of [true, false]) {
      assert.equal(tt.nextDagRunInfo(opts({ startDate, catchup, now: D('2024-01-01T09:59:59.999Z') })), null);
      assert.equal(fmt(tt.upcomingDagRunInfo(opts({ startDate, catchup, now: D('2024-01-01T09:00:00Z') }))),
        '2024-01-01T10:00:00Z..2024-01-01T10:00:00Z');
      const runs = drain(tt, { startDate, catchup, now: D('2024-01-01T10:00:00Z') });
      assert.deepEqual(runs.map(fmt), ['2024-01-01T10:00:00Z..2024-01-01T10:00:00Z']);
      assert.equal(drain(tt, { startDate, catchup, now: D('2030-01-01T00:00:00Z') }).length, 1);
    }
  });

  it('creates nothing after a run exists, without startDate, or past endDate', () => {
    const lastInterval = { start: startDate, end: startDate };
    assert.equal(tt.upcomingDagRunInfo(opts({ startDate, lastInterval, now: D('2030-01-01T00:00:00Z') })), null);
    assert.equal(tt.upcomingDagRunInfo(opts({ now: D('2030-01-01T00:00:00Z') })), null);
    assert.equal(tt.upcomingDagRunInfo(opts({ startDate, endDate: D('2024-01-01T09:00:00Z'), now: D('2030-01-01T00:00:00Z') })), null);
  });
});

describe('manual only (null schedule)', () => {
  it('never schedules a run', () => {
    const tt = makeTimetable(null);
    const o = opts({ startDate: D('2024-01-01T00:00:00Z'), now: D('2030-01-01T00:00:00Z') });
    assert.equal(tt.nextDagRunInfo(o), null);
    assert.equal(tt.upcomingDagRunInfo(o), null);
    assert.deepEqual(tt.runsBetween(D('2024-01-01T00:00:00Z'), D('2024-12-31T00:00:00Z'), { startDate: null, endDate: null }), []);
  });
});

describe('presets', () => {
  // startDate is Monday 2024-01-01 00:30 UTC, off every preset's fire times.
  const startDate = D('2024-01-01T00:30:00Z');
  const cases: Array<[string, string, string]> = [
    ['@hourly', '2024-01-01T01:00:00Z..2024-01-01T02:00:00Z', '2024-01-01T02:00:00Z..2024-01-01T03:00:00Z'],
    ['@daily', '2024-01-02T00:00:00Z..2024-01-03T00:00:00Z', '2024-01-03T00:00:00Z..2024-01-04T00:00:00Z'],
    ['@weekly', '2024-01-07T00:00:00Z..2024-01-14T00:00:00Z', '2024-01-14T00:00:00Z..2024-01-21T00:00:00Z'],
    ['@monthly', '2024-02-01T00:00:00Z..2024-03-01T00:00:00Z', '2024-03-01T00:00:00Z..2024-04-01T00:00:00Z'],
    ['@quarterly', '2024-04-01T00:00:00Z..2024-07-01T00:00:00Z', '2024-07-01T00:00:00Z..2024-10-01T00:00:00Z'],
    ['@yearly', '2025-01-01T00:00:00Z..2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z..2027-01-01T00:00:00Z'],
    ['@annually', '2025-01-01T00:00:00Z..2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z..2027-01-01T00:00:00Z'],
  ];
  for (const [preset, first, second] of cases) {
    it(`${preset}: first two intervals`, () => {
      const tt = makeTimetable(preset);
      assert.equal(tt.periodic, true);
      assert.match(tt.description, new RegExp(`^${preset} = cron [0-9*/ ]+ \\(UTC\\)$`));
      const a = tt.nextDagRunInfo(opts({ startDate, now: D('2030-01-01T00:00:00Z') }));
      assert.equal(fmt(a), first);
      assert.ok(a);
      assert.equal(fmt(tt.nextDagRunInfo(opts({ startDate, lastInterval: a.dataInterval, now: D('2030-01-01T00:00:00Z') }))), second);
    });
  }
});

describe('fixed intervals ({ every: seconds })', () => {
  const tt = makeTimetable({ every: 3600 });
  const startDate = D('2024-01-01T10:17:00Z');

  it('aligns on startDate and catches up interval by interval', () => {
    assert.equal(tt.description, 'every 3600s');
    assert.equal(tt.periodic, true);
    assert.deepEqual(drain(tt, { startDate, now: D('2024-01-01T13:17:00Z') }).map(fmt), [
      '2024-01-01T10:17:00Z..2024-01-01T11:17:00Z',
      '2024-01-01T11:17:00Z..2024-01-01T12:17:00Z',
      '2024-01-01T12:17:00Z..2024-01-01T13:17:00Z',
    ]);
  });

  it('with catchup: false, skips to the latest ended interval on the startDate grid', () => {
    assert.deepEqual(drain(tt, { startDate, catchup: false, now: D('2024-01-02T05:00:00Z') }).map(fmt),
      ['2024-01-02T03:17:00Z..2024-01-02T04:17:00Z']);
    assert.equal(tt.nextDagRunInfo(opts({ startDate, catchup: false, now: D('2024-01-01T11:16:59Z') })), null);
    // Without a startDate the grid is anchored at the epoch (as Airflow rounds).
    assert.equal(fmt(tt.nextDagRunInfo(opts({ catchup: false, now: D('2024-01-02T05:30:00Z') }))),
      '2024-01-02T04:00:00Z..2024-01-02T05:00:00Z');
  });

  it('continues from where the last interval ended', () => {
    const lastInterval = { start: D('2024-01-01T10:00:00Z'), end: D('2024-01-01T10:30:00Z') };
    assert.equal(fmt(tt.nextDagRunInfo(opts({ startDate: D('2024-01-01T10:00:00Z'), lastInterval, now: D('2024-01-02T00:00:00Z') }))),
      '2024-01-01T10:30:00Z..2024-01-01T11:30:00Z');
  });

  it('ignores the time zone (absolute durations, across DST)', () => {
    const ams = makeTimetable({ every: 86_400 }, 'Europe/Amsterdam');
    const runs = ams.runsBetween(D('2024-03-30T00:00:00Z'), D('2024-04-01T00:00:00Z'), { startDate: D('2024-03-30T00:00:00Z'), endDate: null });
    assert.deepEqual(runs.map(hours), [24, 24, 24]);
  });
});

describe('seconds field', () => {
  it('accepts 6 fields with seconds first', () => {
    const tt = makeTimetable('*/30 * * * * *');
    assert.deepEqual(drain(tt, { startDate: D('2024-01-01T00:00:10Z'), now: D('2024-01-01T00:01:30Z') }).map(fmt), [
      '2024-01-01T00:00:30Z..2024-01-01T00:01:00Z',
      '2024-01-01T00:01:00Z..2024-01-01T00:01:30Z',
    ]);
  });
});

describe('time zones and DST', () => {
  it('fires at wall-clock time in the zone', () => {
    const tt = makeTimetable('0 6 * * *', 'Asia/Tokyo');
    assert.equal(tt.description, 'cron 0 6 * * * (Asia/Tokyo)');
    assert.equal(fmt(tt.nextDagRunInfo(opts({ startDate: D('2024-01-01T00:00:00Z'), now: D('2024-02-01T00:00:00Z') }))),
      '2024-01-01T21:00:00Z..2024-01-02T21:00:00Z');
  });

  it('@daily in Europe/Amsterdam: local midnights, 23 h on the spring-forward day, 25 h on the fall-back day', () => {
    const tt = makeTimetable('@daily', 'Europe/Amsterdam');
    const spring = tt.runsBetween(D('2024-03-30T00:00:00Z'), D('2024-04-01T00:00:00Z'), { startDate: null, endDate: null });
    assert.deepEqual(spring.map(fmt), [
      '2024-03-30T23:00:00Z..2024-03-31T22:00:00Z',
      '2024-03-31T22:00:00Z..2024-04-01T22:00:00Z',
    ]);
    assert.deepEqual(spring.map(hours), [23, 24]);
    const fall = tt.runsBetween(D('2024-10-26T12:00:00Z'), D('2024-10-27T12:00:00Z'), { startDate: null, endDate: null });
    assert.deepEqual(fall.map(fmt), ['2024-10-26T22:00:00Z..2024-10-27T23:00:00Z']);
    assert.deepEqual(fall.map(hours), [25]);
  });

  it('catches up across a DST change with contiguous intervals', () => {
    const tt = makeTimetable('@daily', 'Europe/Amsterdam');
    const runs = drain(tt, { startDate: D('2024-03-29T00:00:00Z'), now: D('2024-04-02T00:00:00Z') });
    assert.deepEqual(runs.map(fmt), [
      '2024-03-29T23:00:00Z..2024-03-30T23:00:00Z',
      '2024-03-30T23:00:00Z..2024-03-31T22:00:00Z',
      '2024-03-31T22:00:00Z..2024-04-01T22:00:00Z',
    ]);
  });

  it('@hourly in Europe/Amsterdam: 23 runs on the spring-forward day, 25 on the fall-back day, all 1 h long', () => {
    const tt = makeTimetable('@hourly', 'Europe/Amsterdam');
    const none = { startDate: null, endDate: null };
    // Local days 2024-03-31 and 2024-10-27, as UTC ranges.
    const spring = tt.runsBetween(D('2024-03-30T23:00:00Z'), D('2024-03-31T21:59:59Z'), none);
    const fall = tt.runsBetween(D('2024-10-26T22:00:00Z'), D('2024-10-27T22:59:59Z'), none);
    assert.equal(spring.length, 23);
    assert.equal(fall.length, 25);
    assert.ok([...spring, ...fall].every((r) => hours(r) === 1));
    // Both 02:00 wall-clock hours of the fall-back night are runs (02:00 CEST, then 02:00 CET).
    assert.deepEqual(fall.slice(2, 4).map((r) => iso(r.logicalDate)), ['2024-10-27T00:00:00Z', '2024-10-27T01:00:00Z']);
  });

  it('a fixed-time cron at 02:30 in Europe/Amsterdam runs when the clock jumps in spring and once in autumn', () => {
    // croner's rule (as Vixie cron): a fixed time that does not exist runs when the clock has jumped forward;
    // a fixed time that occurs twice runs at its first occurrence only.
    const tt = makeTimetable('30 2 * * *', 'Europe/Amsterdam');
    const none = { startDate: null, endDate: null };
    assert.deepEqual(tt.runsBetween(D('2024-03-29T00:00:00Z'), D('2024-04-01T12:00:00Z'), none).map((r) => iso(r.logicalDate)),
      ['2024-03-29T01:30:00Z', '2024-03-30T01:30:00Z', '2024-03-31T01:00:00Z', '2024-04-01T00:30:00Z']);
    assert.deepEqual(tt.runsBetween(D('2024-10-26T00:00:00Z'), D('2024-10-28T12:00:00Z'), none).map((r) => iso(r.logicalDate)),
      ['2024-10-26T00:30:00Z', '2024-10-27T00:30:00Z', '2024-10-28T01:30:00Z']);
  });

  it('America/New_York: the spring-forward day is 23 h and 02:30 runs at 03:00 EDT', () => {
    const none = { startDate: null, endDate: null };
    const daily = makeTimetable('@daily', 'America/New_York');
    const runs = daily.runsBetween(D('2024-03-09T05:00:00Z'), D('2024-03-10T05:00:00Z'), none);
    assert.deepEqual(runs.map(fmt), [
      '2024-03-09T05:00:00Z..2024-03-10T05:00:00Z',
      '2024-03-10T05:00:00Z..2024-03-11T04:00:00Z',
    ]);
    assert.deepEqual(runs.map(hours), [24, 23]);
    const at230 = makeTimetable('30 2 * * *', 'America/New_York');
    assert.deepEqual(at230.runsBetween(D('2024-03-09T00:00:00Z'), D('2024-03-11T12:00:00Z'), none).map((r) => iso(r.logicalDate)),
      ['2024-03-09T07:30:00Z', '2024-03-10T07:00:00Z', '2024-03-11T06:30:00Z']);
  });

  it('catchup: false finds the latest ended interval on a DST day', () => {
    const tt = makeTimetable('@daily', 'Europe/Amsterdam');
    // 2024-04-01 00:30 local: the interval that ended at local midnight is the 23 h day.
    const info = tt.nextDagRunInfo(opts({ startDate: D('2024-01-01T00:00:00Z'), catchup: false, now: D('2024-03-31T22:30:00Z') }));
    assert.equal(fmt(info), '2024-03-30T23:00:00Z..2024-03-31T22:00:00Z');
  });
});

describe('runsBetween (backfill)', () => {
  const tt = makeTimetable('@daily');
  const none = { startDate: null, endDate: null };

  it('lists every run whose logical date is in [from, to], both ends inclusive', () => {
    assert.deepEqual(tt.runsBetween(D('2024-01-01T00:00:00Z'), D('2024-01-03T00:00:00Z'), none).map(fmt), [
      '2024-01-01T00:00:00Z..2024-01-02T00:00:00Z',
      '2024-01-02T00:00:00Z..2024-01-03T00:00:00Z',
      '2024-01-03T00:00:00Z..2024-01-04T00:00:00Z',
    ]);
    assert.equal(tt.runsBetween(D('2024-01-01T00:00:01Z'), D('2024-01-02T23:59:59Z'), none).length, 1);
    assert.equal(tt.runsBetween(D('2024-01-02T00:00:00Z'), D('2024-01-02T00:00:00Z'), none).length, 1);
    assert.equal(tt.runsBetween(D('2024-01-02T00:00:01Z'), D('2024-01-02T23:00:00Z'), none).length, 0);
  });

  it('is bounded by startDate and endDate', () => {
    const runs = tt.runsBetween(D('2024-01-01T00:00:00Z'), D('2024-01-10T00:00:00Z'),
      { startDate: D('2024-01-03T12:00:00Z'), endDate: D('2024-01-06T00:00:00Z') });
    assert.deepEqual(runs.map((r) => iso(r.logicalDate)), ['2024-01-04T00:00:00Z', '2024-01-05T00:00:00Z', '2024-01-06T00:00:00Z']);
  });

  it('aligns fixed intervals on startDate', () => {
    const every = makeTimetable({ every: 3600 });
    const runs = every.runsBetween(D('2024-01-01T11:00:00Z'), D('2024-01-01T14:17:00Z'), { startDate: D('2024-01-01T10:17:00Z'), endDate: null });
    assert.deepEqual(runs.map((r) => iso(r.logicalDate)),
      ['2024-01-01T11:17:00Z', '2024-01-01T12:17:00Z', '2024-01-01T13:17:00Z', '2024-01-01T14:17:00Z']);
  });

  it('gives the same runs as the scheduler catching up', () => {
    // Over both DST changes of spring 2024 (New York 03-10, Amsterdam 03-31).
    const cases: Array<[Schedule, string]> = [
      ['@hourly', 'Europe/Amsterdam'], ['15 */3 * * *', 'America/New_York'], ['30 2 * * 1-5', 'Europe/Amsterdam'],
      ['0 0 15,L * *', 'UTC'], [{ every: 5400 }, 'UTC'],
    ];
    const startDate = D('2024-03-08T00:07:00Z');
    const now = D('2024-04-04T00:00:00Z');
    for (const [schedule, tz] of cases) {
      const t = makeTimetable(schedule, tz);
      const caughtUp = drain(t, { startDate, now }).filter((r) => r.logicalDate <= D('2024-04-02T00:00:00Z'));
      const backfill = t.runsBetween(D('2024-02-01T00:00:00Z'), D('2024-04-02T00:00:00Z'), { startDate, endDate: null });
      assert.ok(backfill.length >= 2, `${t.description}: some runs`);
      // Backfill does not wait for intervals to end; the scheduler does.
      const ended = backfill.filter((r) => r.dataInterval.end <= now);
      assert.deepEqual(ended.map(fmt), caughtUp.map(fmt), t.description);
      for (let i = 1; i < backfill.length; i++)
        assert.equal(backfill[i].dataInterval.start.getTime(), backfill[i - 1].dataInterval.end.getTime(), `${t.description}: contiguous`);
    }
  });

  it('@once lists its one run when startDate is in range; manual lists none', () => {
    const once = makeTimetable('@once');
    const s = D('2024-01-05T10:00:00Z');
    assert.deepEqual(once.runsBetween(D('2024-01-01T00:00:00Z'), D('2024-01-05T10:00:00Z'), { startDate: s, endDate: null }).map(fmt),
      ['2024-01-05T10:00:00Z..2024-01-05T10:00:00Z']);
    assert.equal(once.runsBetween(D('2024-01-06T00:00:00Z'), D('2024-01-07T00:00:00Z'), { startDate: s, endDate: null }).length, 0);
    assert.equal(once.runsBetween(D('2024-01-01T00:00:00Z'), D('2024-01-07T00:00:00Z'), none).length, 0);
  });

  it('rejects from after to and absurd ranges with clear errors', () => {
    assert.throws(() => tt.runsBetween(D('2024-01-03T00:00:00Z'), D('2024-01-01T00:00:00Z'), none),
      (e: unknown) => e instanceof TimetableError && /from \(2024-01-03T00:00:00.000Z\) is after to/.test(e.message));
    const everySecond = makeTimetable({ every: 1 });
    assert.throws(() => everySecond.runsBetween(D('2024-01-01T00:00:00Z'), D('2024-01-03T00:00:00Z'), none),
      (e: unknown) => e instanceof TimetableError && e.message.includes(`more than ${MAX_RUNS_BETWEEN} runs of every 1s`));
  });
});

describe('manual runs: inferManualDataInterval', () => {
  it('periodic cron: the latest complete interval ending at or before the logical date', () => {
    const daily = makeTimetable('@daily');
    assert.equal(fmtInterval(daily.inferManualDataInterval(D('2024-01-05T01:00:00Z'))), '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
    assert.equal(fmtInterval(daily.inferManualDataInterval(D('2024-01-05T00:00:00Z'))), '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
    assert.equal(fmtInterval(daily.inferManualDataInterval(D('2024-01-04T23:59:59.999Z'))), '2024-01-03T00:00:00Z..2024-01-04T00:00:00Z');
    const sixHourly = makeTimetable('0 */6 * * *');
    assert.equal(fmtInterval(sixHourly.inferManualDataInterval(D('2024-01-05T13:00:00Z'))), '2024-01-05T06:00:00Z..2024-01-05T12:00:00Z');
    const ams = makeTimetable('@daily', 'Europe/Amsterdam');
    assert.equal(fmtInterval(ams.inferManualDataInterval(D('2024-03-31T23:00:00Z'))), '2024-03-30T23:00:00Z..2024-03-31T22:00:00Z');
  });

  it('fixed interval: [date - every, date] (as Airflow)', () => {
    const every = makeTimetable({ every: 3600 });
    assert.equal(fmtInterval(every.inferManualDataInterval(D('2024-01-05T13:21:00Z'))), '2024-01-05T12:21:00Z..2024-01-05T13:21:00Z');
  });

  it('@once and manual-only: [date, date], as copies', () => {
    const d = D('2024-01-05T13:21:00Z');
    for (const schedule of ['@once', null] as const) {
      const i = makeTimetable(schedule).inferManualDataInterval(d);
      assert.equal(fmtInterval(i), '2024-01-05T13:21:00Z..2024-01-05T13:21:00Z');
      assert.notEqual(i.start, d);
    }
  });
});

describe('schedule changes (the last run came from another schedule)', () => {
  it('aligns back onto the new schedule like Airflow, but logical dates only ever increase', () => {
    const daily = makeTimetable('@daily');
    const now = D('2024-02-01T00:00:00Z');
    const startDate = D('2024-01-01T00:00:00Z');
    // Was "0 6 * * *": last run [Jan 3 06:00, Jan 4 06:00) -> aligns back to Jan 4 00:00 (overlap, as Airflow; no gap).
    assert.equal(fmt(daily.nextDagRunInfo(opts({ startDate, now, lastInterval: { start: D('2024-01-03T06:00:00Z'), end: D('2024-01-04T06:00:00Z') } }))),
      '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
    // Was hourly: last run [Jan 3 05:00, 06:00) -> aligning back to Jan 3 00:00 would go before the last logical date
    // (and repeat an earlier hourly run's), so the next fire after it.
    assert.equal(fmt(daily.nextDagRunInfo(opts({ startDate, now, lastInterval: { start: D('2024-01-03T05:00:00Z'), end: D('2024-01-03T06:00:00Z') } }))),
      '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
    // Was hourly: last run [Jan 3 00:00, 01:00) -> would repeat Jan 3 00:00 itself.
    assert.equal(fmt(daily.nextDagRunInfo(opts({ startDate, now, lastInterval: { start: D('2024-01-03T00:00:00Z'), end: D('2024-01-03T01:00:00Z') } }))),
      '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
    // Was @once at a fire time.
    assert.equal(fmt(daily.nextDagRunInfo(opts({ startDate, now, lastInterval: { start: D('2024-01-03T00:00:00Z'), end: D('2024-01-03T00:00:00Z') } }))),
      '2024-01-04T00:00:00Z..2024-01-05T00:00:00Z');
    const every = makeTimetable({ every: 3600 });
    assert.equal(fmt(every.nextDagRunInfo(opts({ startDate, now, lastInterval: { start: D('2024-01-03T00:00:00Z'), end: D('2024-01-03T00:00:00Z') } }))),
      '2024-01-03T01:00:00Z..2024-01-03T02:00:00Z');
  });
});

describe('descriptions', () => {
  it('describes each kind of schedule', () => {
    const cases: Array<[Schedule, string | undefined, string, boolean]> = [
      ['0 0 * * *', undefined, 'cron 0 0 * * * (UTC)', true],
      ['  5 4 * * 1  ', 'Europe/Amsterdam', 'cron 5 4 * * 1 (Europe/Amsterdam)', true],
      ['@daily', undefined, '@daily = cron 0 0 * * * (UTC)', true],
      ['@once', undefined, '@once', false],
      [{ every: 3600 }, undefined, 'every 3600s', true],
      [null, undefined, 'manual', false],
    ];
    for (const [schedule, tz, description, periodic] of cases) {
      const tt = makeTimetable(schedule, tz);
      assert.equal(tt.description, description);
      assert.equal(tt.periodic, periodic);
    }
  });
});

describe('validation', () => {
  const bad: Array<[unknown, unknown, RegExp]> = [
    ['0 0 * *', undefined, /^schedule "0 0 \* \*" is not a valid cron expression: expected 5 fields \(minute hour day-of-month month day-of-week\), or 6 with seconds first, got 4 fields$/],
    ['0 0 * * * * 2024', undefined, /got 7 fields/],
    ['61 * * * *', undefined, /^schedule "61 \* \* \* \*" is not a valid cron expression \(.*minute: 61\): expected 5 fields/],
    ['x * * * *', undefined, /^schedule "x \* \* \* \*" is not a valid cron expression \(.*illegal characters/],
    ['*/0 * * * *', undefined, /^schedule "\*\/0 \* \* \* \*" is not a valid cron expression \(.*stepping/],
    ['0 0 30 2 *', undefined, /^schedule "0 0 30 2 \*" never fires/],
    ['@fortnightly', undefined, /^schedule "@fortnightly" is not a known preset: expected one of @once, @hourly, @daily, @weekly, @monthly, @quarterly, @yearly, @annually$/],
    ['@continuous', undefined, /is not a known preset/],
    ['   ', undefined, /^schedule "" is empty: expected a cron expression/],
    [42, undefined, /^schedule 42 is invalid: expected a cron expression .* or null for manual runs only, got number$/],
    [true, undefined, /got boolean$/],
    [['0 0 * * *'], undefined, /got an array$/],
    [{ every: 0 }, undefined, /^schedule \{ every: 0 \} is invalid: "every" must be a positive whole number of seconds, got 0$/],
    [{ every: -60 }, undefined, /got -60$/],
    [{ every: 1.5 }, undefined, /got 1\.5$/],
    [{ every: Number.NaN }, undefined, /got NaN$/],
    [{ every: Number.POSITIVE_INFINITY }, undefined, /got Infinity$/],
    [{ every: '60' }, undefined, /got "60"$/],
    [{ every: 1e12 }, undefined, /^schedule \{ every: 1000000000000 \} is invalid: "every" must be at most 3162240000 seconds/],
    [{}, undefined, /^schedule \{\} is invalid: expected exactly \{ every: <seconds> \}$/],
    [{ every: 60, at: '10:00' }, undefined, /expected exactly \{ every: <seconds> \}, got unknown key "at"$/],
    ['@daily', 'Mars/Olympus_Mons', /^timezone "Mars\/Olympus_Mons" is not a known time zone: expected an IANA time zone name such as "UTC"/],
    [null, 'Nowhere/Land', /^timezone "Nowhere\/Land" is not a known time zone/],
    [{ every: 60 }, '', /^timezone "" is invalid: expected an IANA time zone name/],
    ['@daily', 2, /^timezone 2 is invalid/],
  ];
  for (const [schedule, tz, re] of bad) {
    it(`rejects schedule ${JSON.stringify(schedule) ?? String(schedule)} / timezone ${JSON.stringify(tz)}`, () => {
      const msg = validateSchedule(schedule, tz);
      assert.ok(msg, 'an error message');
      assert.match(msg, re);
      assert.throws(() => makeTimetable(schedule as Schedule, tz as string | undefined),
        (e: unknown) => e instanceof TimetableError && e.message === msg);
    });
  }

  it('accepts valid schedules and time zones', () => {
    const good: Array<[unknown, unknown]> = [
      [null, undefined], [undefined, undefined], ['@once', undefined], ['@daily', 'Europe/Amsterdam'],
      ['0 0 * * *', 'UTC'], ['*/5 9-17 * * MON-FRI', 'America/New_York'], ['0 0 29 2 *', undefined],
      ['0 0 L * *', undefined], ['30 */10 * * * *', undefined], [{ every: 1 }, 'Asia/Tokyo'], [null, null],
    ];
    for (const [schedule, tz] of good) assert.equal(validateSchedule(schedule, tz), null, JSON.stringify([schedule, tz]));
  });

  it('rejects invalid dates passed in', () => {
    const tt = makeTimetable('@daily');
    assert.throws(() => tt.nextDagRunInfo(opts({ now: new Date('garbage') })),
      (e: unknown) => e instanceof TimetableError && /^now: expected a valid Date/.test(e.message));
    assert.throws(() => tt.inferManualDataInterval(new Date(Number.NaN)), TimetableError);
  });
});
