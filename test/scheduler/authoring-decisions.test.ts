// The scheduler's pure decisions for issue #17: mapped tasks expanding (or not), mapped instances counted by
// trigger rules, branch and short-circuit skips, sensor reschedules, run timeouts — then a seeded property test
// running random DAGs with all of them to completion.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SerializedDag, SerializedTask } from '../../src/dag/model.ts';
import {
  decideRun, decideRunState, neededFollowDecisions, neededXComs, runTimedOut, skippedBy, timeoutChanges, type DecisionInputs, type TIRow, xcomKey,
} from '../../src/scheduler/decisions.ts';
import { FINISHED_STATES, canTransition, type TIState } from '../../src/scheduler/states.ts';
import type { TriggerRule } from '../../src/sdk/types.ts';

const NOW = new Date('2030-06-01T12:00:00.000Z');
function t(taskId: string, upstream: string[] = [], triggerRule: TriggerRule = 'all_success', extra: Partial<SerializedTask> = {}): SerializedTask {
  return {
    taskId, kind: 'function', upstream, retries: 0, retryDelay: 300, retryExponentialBackoff: false, maxRetryDelay: null,
    executionTimeout: null, triggerRule, pool: 'default_pool', poolSlots: 1, queue: 'default', executorConfig: null, doc: null, ...extra,
  };
}
const mapped = (taskId: string, over: string, extra: Partial<SerializedTask> = {}) => t(taskId, [over], extra.triggerRule ?? 'all_success', { mapped: { inputs: [{ name: null, taskId: over, key: 'return_value' }] }, ...extra });
function mkDag(tasks: SerializedTask[], extra: Partial<SerializedDag> = {}): SerializedDag {
  return { dagId: 'd', fileloc: '/d.ts', schedule: null, timezone: 'UTC', startDate: null, endDate: null, catchup: false, maxActiveRuns: 1, maxActiveTasks: 16, params: {}, tags: [], description: null, tasks, ...extra };
}
/** 'a' → unmapped row; 'm[2]' → mapped instance 2. */
function rows(spec: Record<string, TIState | [TIState, string | null]>): TIRow[] {
  return Object.entries(spec).map(([k, v]) => {
    const [state, nextRetryAt] = Array.isArray(v) ? v : [v, null];
    const m = /^(.*)\[(\d+)\]$/.exec(k);
    return { taskId: m ? m[1] : k, mapIndex: m ? Number(m[2]) : -1, state, tryNumber: state === 'none' ? 0 : 1, nextRetryAt };
  });
}
/** States after one pass, keyed like `rows` (expanded instances appear as `m[i]`). */
function pass(dag: SerializedDag, tis: TIRow[], inputs: DecisionInputs = {}, now = NOW) {
  const out: Record<string, TIState> = {};
  const name = (taskId: string, mi?: number) => ((mi ?? -1) >= 0 ? `${taskId}[${mi}]` : taskId);
  for (const r of tis) out[name(r.taskId, r.mapIndex)] = r.state;
  const d = decideRun(dag, tis, now, inputs);
  const reasons: Record<string, string> = {};
  for (const c of d.changes) {
    assert.ok(canTransition(c.from, c.to), `${c.taskId} ${c.from} → ${c.to}`);
    out[name(c.taskId, c.mapIndex)] = c.to;
    if (c.reason) reasons[name(c.taskId, c.mapIndex)] = c.reason;
  }
  for (const e of d.expansions) {
    assert.equal(out[e.taskId], 'none', 'only a waiting placeholder expands');
    delete out[e.taskId];
    for (let i = 0; i < e.count; i++) out[`${e.taskId}[${i}]`] = 'scheduled';
  }
  return { states: out, reasons, expansions: d.expansions };
}
const lengths = (entries: Record<string, number | { notAList: unknown }>) => ({ xcomLengths: new Map(Object.entries(entries).map(([k, v]) => [xcomKey(k, 'return_value'), v])) });

describe('mapped tasks: expansion', () => {
  const dag = mkDag([t('nums'), mapped('double', 'nums'), t('sum', ['double']), t('always', ['double'], 'all_done')]);
  it('waits while its input is unknown, expands into scheduled instances once it is', () => {
    assert.deepEqual(pass(dag, rows({ nums: 'running', double: 'none', sum: 'none', always: 'none' })).states, { nums: 'running', double: 'none', sum: 'none', always: 'none' });
    assert.deepEqual(pass(dag, rows({ nums: 'success', double: 'none', sum: 'none', always: 'none' })).states.double, 'none', 'no length read yet: wait');
    const p = pass(dag, rows({ nums: 'success', double: 'none', sum: 'none', always: 'none' }), lengths({ nums: 3 }));
    assert.deepEqual(p.expansions, [{ taskId: 'double', count: 3 }]);
    assert.deepEqual(p.states, { nums: 'success', 'double[0]': 'scheduled', 'double[1]': 'scheduled', 'double[2]': 'scheduled', sum: 'none', always: 'none' });
  });
  it('an empty list skips it (with the reason) and the skip cascades by trigger rules in the same pass', () => {
    const p = pass(dag, rows({ nums: 'success', double: 'none', sum: 'none', always: 'none' }), lengths({ nums: 0 }));
    assert.deepEqual(p.states, { nums: 'success', double: 'skipped', sum: 'skipped', always: 'scheduled' });
    assert.match(p.reasons.double, /empty list/);
  });
  it('a value that is not a list, or too many instances, fails it with a reason naming it; downstream is upstream_failed', () => {
    const p = pass(dag, rows({ nums: 'success', double: 'none', sum: 'none', always: 'none' }), lengths({ nums: { notAList: 'abc' } }));
    assert.deepEqual(p.states, { nums: 'success', double: 'failed', sum: 'upstream_failed', always: 'scheduled' });
    assert.match(p.reasons.double, /task double is mapped over the result of task nums, which must be a list \(an array\) but is a string \("abc"\)/);
    const big = pass(dag, rows({ nums: 'success', double: 'none', sum: 'none', always: 'none' }), { ...lengths({ nums: 7 }), maxMapLength: 6 });
    assert.equal(big.states.double, 'failed');
    assert.match(big.reasons.double, /task double would be mapped into 7 instances, more than the 6 allowed \(core\.maxMapLength\)/);
    assert.equal(decideRunState(dag, Object.entries(big.states).map(([taskId, state]) => ({ taskId, state }))), 'running');
  });
  it('a downstream task counts every instance: waits for all, fails on one failure, runs when all succeeded', () => {
    const base = { nums: 'success', always: 'none' } as const;
    assert.deepEqual(pass(dag, rows({ ...base, 'double[0]': 'success', 'double[1]': 'running', sum: 'none' })).states.sum, 'none');
    assert.deepEqual(pass(dag, rows({ ...base, 'double[0]': 'success', 'double[1]': 'failed', sum: 'none' })).states, { ...base, 'double[0]': 'success', 'double[1]': 'failed', sum: 'upstream_failed', always: 'scheduled' });
    assert.deepEqual(pass(dag, rows({ ...base, 'double[0]': 'success', 'double[1]': 'success', sum: 'none' })).states.sum, 'scheduled');
  });
  it('instances retry one by one', () => {
    const p = pass(dag, rows({ nums: 'success', 'double[0]': 'success', 'double[1]': ['up_for_retry', '2030-06-01T11:00:00.000Z'], 'double[2]': ['up_for_retry', '2030-06-01T13:00:00.000Z'], sum: 'none', always: 'none' }));
    assert.deepEqual([p.states['double[1]'], p.states['double[2]'], p.states.sum], ['scheduled', 'up_for_retry', 'none']);
  });
  it('mapped over a mapped task: its length is the number of instances, no XCom read needed', () => {
    const dg = mkDag([t('nums'), mapped('double', 'nums'), mapped('again', 'double')]);
    assert.deepEqual(neededXComs(dg, rows({ nums: 'success', 'double[0]': 'success', 'double[1]': 'success', again: 'none' })), []);
    const p = pass(dg, rows({ nums: 'success', 'double[0]': 'success', 'double[1]': 'success', again: 'none' }));
    assert.deepEqual(p.expansions, [{ taskId: 'again', count: 2 }]);
    assert.equal(pass(dg, rows({ nums: 'success', double: 'skipped', again: 'none' })).states.again, 'skipped');
  });
  it('an input from a skipped or failed task: skipped / upstream_failed, whatever the trigger rule', () => {
    const dg = mkDag([t('nums'), mapped('m', 'nums', { triggerRule: 'all_done' })]);
    assert.deepEqual(pass(dg, rows({ nums: 'skipped', m: 'none' })).states.m, 'skipped');
    assert.deepEqual(pass(dg, rows({ nums: 'failed', m: 'none' })).states.m, 'upstream_failed');
  });
  it('a literal list needs no read; several inputs multiply', () => {
    const dg = mkDag([t('nums'), t('m', ['nums'], 'all_success', { mapped: { inputs: [{ name: 'a', length: 2 }, { name: 'b', taskId: 'nums', key: 'return_value' }] } })]);
    assert.deepEqual(neededXComs(dg, rows({ nums: 'success', m: 'none' })), [{ taskId: 'nums', key: 'return_value' }]);
    assert.deepEqual(pass(dg, rows({ nums: 'success', m: 'none' }), lengths({ nums: 3 })).expansions, [{ taskId: 'm', count: 6 }]);
    const lit = mkDag([t('m', [], 'all_success', { mapped: { inputs: [{ name: null, length: 2 }] } })]);
    assert.deepEqual(pass(lit, rows({ m: 'none' })).expansions, [{ taskId: 'm', count: 2 }]);
  });
  it('the run fails when a leaf instance failed', () => {
    const dg = mkDag([t('nums'), mapped('double', 'nums')]);
    assert.equal(decideRunState(dg, rows({ nums: 'success', 'double[0]': 'success', 'double[1]': 'failed' })), 'failed');
    assert.equal(decideRunState(dg, rows({ nums: 'success', 'double[0]': 'success', 'double[1]': 'success' })), 'success');
    assert.equal(decideRunState(dg, rows({ nums: 'success', 'double[0]': 'success', 'double[1]': 'up_for_retry' })), 'running');
  });
});

describe('branches and short-circuits', () => {
  // pick → a → after_a; pick → b → after_b; pick → join (also after a): join is kept when a is followed.
  const dag = mkDag([
    t('pick', [], 'all_success', { flow: { kind: 'branch' } }),
    t('a', ['pick']), t('b', ['pick']), t('after_a', ['a']), t('after_b', ['b']),
    t('join', ['pick', 'a']),
    t('end', ['after_a', 'after_b'], 'none_failed_min_one_success'),
    t('strict_end', ['after_a', 'after_b']),
  ]);
  const fresh = { pick: 'success', a: 'none', b: 'none', after_a: 'none', after_b: 'none', join: 'none', end: 'none', strict_end: 'none' } as const;
  it('skips what is directly downstream and not followed; skips cascade; a join of a followed branch is kept', () => {
    assert.deepEqual(neededFollowDecisions(dag, rows(fresh)), ['pick']);
    const p = pass(dag, rows(fresh), { followed: new Map([['pick', ['a']]]) });
    assert.deepEqual(p.states, { ...fresh, a: 'scheduled', b: 'skipped', after_b: 'skipped', join: 'none', strict_end: 'skipped' });
    assert.equal(p.reasons.b, 'skipped: branch pick followed a');
    // Later: a ran; the join after a branch runs on none_failed_min_one_success, the all_success one stays skipped.
    const later = pass(dag, rows({ ...fresh, a: 'success', b: 'skipped', after_b: 'skipped', after_a: 'success', join: 'none', strict_end: 'skipped' }));
    assert.deepEqual([later.states.join, later.states.end], ['scheduled', 'scheduled']);
  });
  it('following nothing skips every direct downstream task; no recorded decision skips nothing', () => {
    const none = pass(dag, rows(fresh), { followed: new Map([['pick', []]]) });
    assert.deepEqual([none.states.a, none.states.b, none.states.join, none.states.end], ['skipped', 'skipped', 'skipped', 'skipped']);
    const unrecorded = pass(dag, rows(fresh));
    assert.deepEqual([unrecorded.states.a, unrecorded.states.b], ['scheduled', 'scheduled']);
  });
  it('a decision applies only to a branch that succeeded', () => {
    const p = pass(dag, rows({ ...fresh, pick: 'running' }), { followed: new Map([['pick', ['a']]]) });
    assert.equal(p.states.b, 'none');
  });
  const sc = (ignore: boolean) => mkDag([
    t('gate', [], 'all_success', { flow: { kind: 'short_circuit', ignoreDownstreamTriggerRules: ignore } }),
    t('x', ['gate']), t('y', ['x'], 'all_done'), t('z', ['y']),
  ]);
  it('a falsy short-circuit skips everything downstream, whatever the trigger rules (default)', () => {
    assert.deepEqual(pass(sc(true), rows({ gate: 'success', x: 'none', y: 'none', z: 'none' }), { followed: new Map([['gate', []]]) }).states, { gate: 'success', x: 'skipped', y: 'skipped', z: 'skipped' });
    assert.deepEqual([...skippedBy(sc(true), sc(true).tasks[0], [])].sort(), ['x', 'y', 'z']);
  });
  it('with ignoreDownstreamTriggerRules false only direct downstream is skipped; trigger rules decide the rest', () => {
    assert.deepEqual(pass(sc(false), rows({ gate: 'success', x: 'none', y: 'none', z: 'none' }), { followed: new Map([['gate', []]]) }).states, { gate: 'success', x: 'skipped', y: 'scheduled', z: 'none' });
  });
  it('a truthy short-circuit skips nothing', () => {
    assert.deepEqual(pass(sc(true), rows({ gate: 'success', x: 'none', y: 'none', z: 'none' }), { followed: new Map([['gate', ['x']]]) }).states.x, 'scheduled');
  });
});

describe('sensors in reschedule mode and run timeouts', () => {
  const dag = mkDag([t('s'), t('after', ['s'])], { dagRunTimeout: 60 });
  it('up_for_reschedule is scheduled again when its time has come, and waits before', () => {
    assert.deepEqual(pass(dag, rows({ s: ['up_for_reschedule', '2030-06-01T11:59:59.000Z'], after: 'none' })).states.s, 'scheduled');
    assert.deepEqual(pass(dag, rows({ s: ['up_for_reschedule', '2030-06-01T12:00:01.000Z'], after: 'none' })).states, { s: 'up_for_reschedule', after: 'none' });
  });
  it('a run past dagRunTimeout: its unfinished task instances are skipped, finished ones kept', () => {
    assert.equal(runTimedOut(dag, '2030-06-01T11:58:00.000Z', NOW), true);
    assert.equal(runTimedOut(dag, '2030-06-01T11:59:30.000Z', NOW), false);
    assert.equal(runTimedOut({ dagRunTimeout: null }, '2000-01-01T00:00:00.000Z', NOW), false);
    const changes = timeoutChanges(rows({ a: 'success', s: 'up_for_reschedule', r: 'running', 'm[1]': 'queued', w: 'none' }));
    assert.deepEqual(changes.map((c) => [c.taskId, c.mapIndex ?? -1, c.from, c.to]), [['s', -1, 'up_for_reschedule', 'skipped'], ['r', -1, 'running', 'skipped'], ['m', 1, 'queued', 'skipped'], ['w', -1, 'none', 'skipped']]);
    for (const c of changes) assert.ok(canTransition(c.from, c.to), `${c.from} → ${c.to}`);
  });
});

/** Seeded PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), a | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe('property: random DAGs with mapped tasks, branches and short-circuits run to completion', () => {
  const RULES: TriggerRule[] = ['all_success', 'all_done', 'none_failed', 'none_failed_min_one_success', 'one_success', 'all_failed', 'always'];
  it('every change is legal, the run always finishes, mapped tasks expand to their input length, skips follow decisions', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const rng = prng(seed);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(rng() * xs.length)];
      const n = 2 + Math.floor(rng() * 9);
      const tasks: SerializedTask[] = [];
      for (let i = 0; i < n; i++) {
        const up = Array.from({ length: i }, (_, j) => `t${j}`).filter(() => rng() < 0.35);
        const kind = rng();
        const extra: Partial<SerializedTask> = { retries: pick([0, 0, 1]), retryDelay: 0 };
        if (kind < 0.25 && up.length) extra.mapped = { inputs: [{ name: null, taskId: up[0], key: 'return_value' }] };
        else if (kind < 0.4) extra.flow = { kind: 'branch' };
        else if (kind < 0.5) extra.flow = { kind: 'short_circuit', ignoreDownstreamTriggerRules: rng() < 0.5 };
        tasks.push(t(`t${i}`, up, pick(RULES), extra));
      }
      const dag = mkDag(tasks);
      const where = `seed ${seed}: ${tasks.map((x) => `${x.taskId}${x.mapped ? '*' : ''}${x.flow ? `!${x.flow.kind[0]}` : ''}[${x.triggerRule}]<-{${x.upstream}}`).join(' ')}`;
      const state = new Map<string, TIRow>(tasks.map((x) => [`${x.taskId}/-1`, { taskId: x.taskId, mapIndex: -1, state: 'none' as TIState, tryNumber: 0, nextRetryAt: null }]));
      const outputs = new Map<string, number>(); // list lengths of succeeded unmapped tasks
      const decisions = new Map<string, string[]>();
      let finished = false;
      for (let step = 0; step < 500 && !finished; step++) {
        const rowsNow = [...state.values()].map((r) => ({ ...r }));
        const inputs: DecisionInputs = {
          xcomLengths: new Map(neededXComs(dag, rowsNow).map((x) => [xcomKey(x.taskId, x.key), outputs.get(x.taskId) ?? { notAList: undefined }])),
          followed: new Map(neededFollowDecisions(dag, rowsNow).filter((id) => decisions.has(id)).map((id) => [id, decisions.get(id)!])),
          maxMapLength: 3,
        };
        const d = decideRun(dag, rowsNow, NOW, inputs);
        for (const c of d.changes) {
          const r = state.get(`${c.taskId}/${c.mapIndex ?? -1}`);
          assert.ok(r, `${where}: change for a missing row ${c.taskId}[${c.mapIndex}]`);
          assert.equal(r.state, c.from, where);
          assert.ok(canTransition(c.from, c.to), `${where}: ${c.taskId} ${c.from} → ${c.to}`);
          r.state = c.to;
          if (c.reason?.startsWith('skipped: branch') || c.reason?.startsWith('skipped: short-circuit')) {
            const by = /^skipped: (?:branch|short-circuit) (t\d+)/.exec(c.reason)![1];
            assert.ok(dag.tasks.find((x) => x.taskId === c.taskId)!.upstream.includes(by) || tasks.find((x) => x.taskId === by)!.flow!.kind === 'short_circuit', `${where}: ${c.taskId} skipped by ${by}, not directly downstream`);
            assert.ok(!decisions.get(by)!.includes(c.taskId), `${where}: ${c.taskId} was followed by ${by} yet skipped`);
          }
        }
        for (const e of d.expansions) {
          const task = dag.tasks.find((x) => x.taskId === e.taskId)!;
          const src = task.mapped!.inputs[0] as { taskId: string };
          const srcTask = dag.tasks.find((x) => x.taskId === src.taskId)!;
          const want = srcTask.mapped ? [...state.values()].filter((r) => r.taskId === src.taskId && (r.mapIndex ?? -1) >= 0).length : outputs.get(src.taskId);
          assert.equal(e.count, want, `${where}: ${e.taskId} expanded into ${e.count}`);
          assert.ok(e.count >= 1 && e.count <= 3, where);
          state.delete(`${e.taskId}/-1`);
          for (let i = 0; i < e.count; i++) state.set(`${e.taskId}/${i}`, { taskId: e.taskId, mapIndex: i, state: 'scheduled', tryNumber: 0, nextRetryAt: null });
        }
        // The executor: every scheduled instance ends now; a few fail (and retry if they may).
        for (const r of state.values()) {
          if (r.state !== 'scheduled') continue;
          const task = dag.tasks.find((x) => x.taskId === r.taskId)!;
          r.tryNumber++;
          const fail = rng() < 0.15;
          r.state = fail ? (r.tryNumber <= task.retries ? 'up_for_retry' : 'failed') : 'success';
          if (!fail && (r.mapIndex ?? -1) < 0) {
            outputs.set(r.taskId, Math.floor(rng() * 4));
            if (task.flow?.kind === 'branch') {
              const direct = dag.tasks.filter((x) => x.upstream.includes(r.taskId)).map((x) => x.taskId);
              decisions.set(r.taskId, direct.filter(() => rng() < 0.5));
            } else if (task.flow) decisions.set(r.taskId, rng() < 0.5 ? dag.tasks.filter((x) => x.upstream.includes(r.taskId)).map((x) => x.taskId) : []);
          }
        }
        const all = [...state.values()];
        finished = all.every((r) => FINISHED_STATES.has(r.state));
        if (finished) assert.notEqual(decideRunState(dag, all), 'running', where);
      }
      assert.ok(finished, `${where}: the run never finished: ${JSON.stringify([...state.values()].map((r) => [r.taskId, r.mapIndex, r.state]))}`);
    }
  });
});
