// Trigger rules: every rule × every multiset of up to 4 upstream states, against an oracle written here from
// Airflow 2's TriggerRuleDep; then a readable table of named cases per rule.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { evaluateTriggerRule, summarize, type TriggerDecision } from '../../src/scheduler/trigger-rules.ts';
import { TI_STATES, type TIState } from '../../src/scheduler/states.ts';
import { TRIGGER_RULES, type TriggerRule } from '../../src/sdk/types.ts';

const DONE = ['success', 'failed', 'upstream_failed', 'skipped', 'removed'] as const satisfies readonly TIState[];
const PENDING = ['none', 'scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule'] as const satisfies readonly TIState[];
type Done = (typeof DONE)[number];
const isDone = (s: TIState): s is Done => (DONE as readonly TIState[]).includes(s);

const allDone = (states: readonly TIState[]) => states.every(isDone);
const decide = (rule: TriggerRule, states: TIState[]): TriggerDecision => evaluateTriggerRule(rule, summarize(states));

/**
 * The oracle's final outcome once every upstream is finished — Airflow 2's TriggerRuleDep restated:
 * failed and upstream_failed count alike; a removed upstream no longer exists, so it is left out entirely
 * (neither blocks nor decides); no upstream at all: run.
 */
function finalOutcome(rule: TriggerRule, all: readonly Done[]): TriggerDecision {
  const states = all.filter((s) => s !== 'removed');
  if (states.length === 0) return 'run';
  let success = 0, failed = 0, skipped = 0;
  for (const s of states) {
    if (s === 'success') success++;
    else if (s === 'failed' || s === 'upstream_failed') failed++;
    else if (s === 'skipped') skipped++;
  }
  switch (rule) {
    case 'always':
    case 'all_done':
      return 'run';
    case 'all_success':
      return failed ? 'upstream_failed' : skipped ? 'skip' : 'run';
    case 'all_failed':
      return success || skipped ? 'skip' : 'run';
    case 'one_success':
      // Airflow: all skipped → skipped; otherwise no success → upstream_failed.
      return success ? 'run' : skipped === states.length ? 'skip' : 'upstream_failed';
    case 'one_failed':
      return failed ? 'run' : 'skip';
    case 'none_failed':
      return failed ? 'upstream_failed' : 'run';
    case 'none_skipped':
      return skipped ? 'skip' : 'run';
    case 'none_failed_min_one_success':
    case 'none_failed_or_skipped':
      // Airflow: a failure → upstream_failed; all skipped → skipped; else at least one succeeded → run.
      return failed ? 'upstream_failed' : success ? 'run' : 'skip';
  }
}

/** Every way the pending upstreams may still finish (a pending task may end in any finished state). */
const completionCache = new Map<string, Done[][]>();
function completions(states: readonly TIState[]): Done[][] {
  const key = states.join();
  const hit = completionCache.get(key);
  if (hit) return hit;
  let out: Done[][] = [[]];
  for (const s of states) out = out.flatMap((prefix) => (isDone(s) ? [[...prefix, s]] : DONE.map((d) => [...prefix, d])));
  completionCache.set(key, out);
  return out;
}

/** Rules that may start a task before every upstream is done (Airflow: they "do not wait for all upstream tasks"). */
const RUNS_EARLY: ReadonlySet<TriggerRule> = new Set(['one_success', 'one_failed', 'always']);

/**
 * What the function must answer: when every completion of the pending upstreams leads to the same outcome,
 * that outcome (decided as early as it is certain) — but only RUNS_EARLY rules start a task early; otherwise
 * wait. One exception, Airflow's own: all_success skips as soon as an upstream is skipped and none has failed,
 * although a pending one could still fail.
 */
function oracle(rule: TriggerRule, states: readonly TIState[]): TriggerDecision {
  const outcomes = new Set<TriggerDecision>();
  for (const c of completions(states)) outcomes.add(finalOutcome(rule, c));
  const [only] = outcomes;
  if (outcomes.size === 1 && (only !== 'run' || allDone(states) || RUNS_EARLY.has(rule))) return only;
  if (rule === 'all_success' && states.includes('skipped') && !states.some((s) => s === 'failed' || s === 'upstream_failed')) return 'skip';
  return 'wait';
}

/** All multisets (sorted tuples) of size 0..maxSize over the states. */
function multisets(maxSize: number): TIState[][] {
  const out: TIState[][] = [];
  const rec = (start: number, acc: TIState[]) => {
    out.push(acc);
    if (acc.length === maxSize) return;
    for (let i = start; i < TI_STATES.length; i++) rec(i, [...acc, TI_STATES[i]]);
  };
  rec(0, []);
  return out;
}

const CASES = multisets(4);
const show = (states: readonly TIState[]) => `[${states.join(', ')}]`;

describe('summarize', () => {
  it('counts each finished state and what is done', () => {
    assert.deepEqual(summarize([]), { total: 0, success: 0, failed: 0, upstreamFailed: 0, skipped: 0, done: 0 });
    assert.deepEqual(summarize(TI_STATES), { total: 10, success: 1, failed: 1, upstreamFailed: 1, skipped: 1, done: 4 });
    assert.deepEqual(summarize(['success', 'success', 'removed', 'running', 'none', 'skipped']), { total: 5, success: 2, failed: 0, upstreamFailed: 0, skipped: 1, done: 3 });
    for (const p of PENDING) assert.equal(summarize([p]).done, 0, `${p} is not done`);
    for (const d of DONE) if (d !== 'removed') assert.equal(summarize([d]).done, 1, `${d} is done`);
  });

  it('leaves removed upstreams out entirely: they no longer exist', () => {
    assert.deepEqual(summarize(['removed', 'removed']), { total: 0, success: 0, failed: 0, upstreamFailed: 0, skipped: 0, done: 0 });
    assert.deepEqual(summarize(['removed', 'failed']), summarize(['failed']));
  });

  it('accepts any iterable', () => {
    assert.equal(summarize(new Set<TIState>(['success', 'failed'])).total, 2);
  });
});

describe('oracle sanity', () => {
  it('enumerates every multiset of up to 4 of the 11 states (1365)', () => {
    assert.equal(CASES.length, 1 + 11 + 66 + 286 + 1001);
    assert.equal(new Set(CASES.map(show)).size, CASES.length);
  });

  it('never waits once every upstream is done', () => {
    for (const rule of TRIGGER_RULES) for (const states of CASES) if (allDone(states)) assert.notEqual(oracle(rule, states), 'wait');
  });
});

describe('every rule × every multiset of up to 4 upstream states', () => {
  for (const rule of TRIGGER_RULES)
    it(rule, () => {
      const wrong: string[] = [];
      let checked = 0;
      for (const states of CASES) {
        checked++;
        const got = decide(rule, states);
        const want = oracle(rule, states);
        if (got !== want) wrong.push(`${show(states)}: got ${got}, want ${want}`);
      }
      assert.equal(checked, 1365);
      assert.deepEqual(wrong, [], `${rule}: ${wrong.length} wrong decisions`);
    });

  it('order of upstreams does not matter', () => {
    for (const rule of TRIGGER_RULES)
      for (const states of CASES) {
        const rev = [...states].reverse();
        assert.equal(decide(rule, rev), decide(rule, states), `${rule} ${show(states)}`);
      }
  });

  it('pending states are interchangeable (none, scheduled, queued, running, up_for_retry, up_for_reschedule all mean not done yet)', () => {
    for (const rule of TRIGGER_RULES)
      for (const states of CASES) {
        const asNone = states.map((s) => (isDone(s) ? s : 'none'));
        assert.equal(decide(rule, states), decide(rule, asNone), `${rule} ${show(states)}`);
      }
  });

  it('a decision other than wait never changes as pending upstreams finish (except Airflow\'s early all_success skip)', () => {
    for (const rule of TRIGGER_RULES)
      for (const states of CASES) {
        const d = decide(rule, states);
        if (d === 'wait' || allDone(states) || (rule === 'all_success' && d === 'skip')) continue;
        for (const c of completions(states)) {
          assert.equal(decide(rule, c), d, `${rule} ${show(states)} decided ${d} but ${show(c)} gives ${decide(rule, c)}`);
        }
      }
  });
});

describe('regressions', () => {
  const allDoneCases = CASES.filter((s) => s.length > 0 && allDone(s));
  it('all_success is never stuck waiting once every upstream is done (a removed upstream does not block)', () => {
    for (const states of allDoneCases) assert.notEqual(decide('all_success', states), 'wait', show(states));
    assert.equal(decide('all_success', ['success', 'removed']), 'run');
  });
  it('one_success with every upstream done and none succeeded is upstream_failed unless all were skipped (Airflow)', () => {
    for (const states of allDoneCases.filter((s) => !s.includes('success'))) {
      const left = states.filter((x) => x !== 'removed');
      const want = left.length === 0 ? 'run' : left.every((x) => x === 'skipped') ? 'skip' : 'upstream_failed';
      assert.equal(decide('one_success', states), want, show(states));
    }
  });
});

// Readable cases: [name, upstream states, decision, todo?]
type Case = [string, TIState[], TriggerDecision, string?];
const TABLE: Record<TriggerRule, Case[]> = {
  all_success: [
    ['no upstream', [], 'run'],
    ['all succeeded', ['success', 'success', 'success'], 'run'],
    ['one still running', ['success', 'running'], 'wait'],
    ['one waiting for a retry', ['success', 'up_for_retry'], 'wait'],
    ['one failed, others pending: decided at once', ['failed', 'running', 'none'], 'upstream_failed'],
    ['an upstream_failed propagates', ['success', 'upstream_failed'], 'upstream_failed'],
    ['failure beats skip', ['skipped', 'failed'], 'upstream_failed'],
    ['a skip propagates once done', ['success', 'skipped'], 'skip'],
    ['a skip propagates early (Airflow)', ['skipped', 'running'], 'skip'],
    ['a removed upstream does not block', ['success', 'removed'], 'run'],
    ['only removed upstreams: as if it had none', ['removed', 'removed'], 'run'],
  ],
  all_failed: [
    ['no upstream', [], 'run'],
    ['all failed', ['failed', 'failed'], 'run'],
    ['failed and upstream_failed', ['failed', 'upstream_failed'], 'run'],
    ['one failed, one running', ['failed', 'running'], 'wait'],
    ['a success skips at once', ['success', 'running'], 'skip'],
    ['a skipped upstream skips', ['failed', 'skipped'], 'skip'],
    ['a removed upstream does not block', ['failed', 'removed'], 'run'],
  ],
  all_done: [
    ['no upstream', [], 'run'],
    ['every finished state counts as done', ['success', 'failed', 'upstream_failed', 'skipped'], 'run'],
    ['removed is done', ['removed'], 'run'],
    ['one queued', ['failed', 'queued'], 'wait'],
    ['one up for retry', ['success', 'up_for_retry'], 'wait'],
  ],
  one_success: [
    ['no upstream', [], 'run'],
    ['one success is enough, others pending', ['success', 'running', 'none'], 'run'],
    ['failures do not matter once one succeeded', ['failed', 'success'], 'run'],
    ['no success yet, one pending', ['failed', 'running'], 'wait'],
    ['all failed', ['failed', 'upstream_failed'], 'upstream_failed'],
    ['all skipped', ['skipped', 'skipped'], 'skip'],
    ['failed and skipped, no success', ['failed', 'skipped'], 'upstream_failed'],
    ['all skipped beside a removed one', ['skipped', 'removed'], 'skip'],
  ],
  one_failed: [
    ['no upstream', [], 'run'],
    ['one failure is enough, others pending', ['failed', 'running'], 'run'],
    ['upstream_failed counts as a failure', ['upstream_failed', 'none'], 'run'],
    ['nothing failed yet, one pending', ['success', 'running'], 'wait'],
    ['all done, nothing failed', ['success', 'skipped'], 'skip'],
    ['all done, nothing failed, one removed', ['success', 'removed'], 'skip'],
    ['only removed upstreams: as if it had none', ['removed'], 'run'],
  ],
  none_failed: [
    ['no upstream', [], 'run'],
    ['success and skipped', ['success', 'skipped'], 'run'],
    ['all skipped', ['skipped'], 'run'],
    ['one pending', ['success', 'scheduled'], 'wait'],
    ['a failure decides at once', ['failed', 'running'], 'upstream_failed'],
    ['an upstream_failed propagates', ['upstream_failed', 'success'], 'upstream_failed'],
    ['a removed upstream does not block', ['removed', 'success'], 'run'],
  ],
  none_skipped: [
    ['no upstream', [], 'run'],
    ['success and failed: nothing skipped', ['success', 'failed'], 'run'],
    ['upstream_failed is not a skip', ['upstream_failed'], 'run'],
    ['one pending', ['success', 'running'], 'wait'],
    ['a skip decides at once', ['skipped', 'running'], 'skip'],
  ],
  none_failed_min_one_success: [
    ['no upstream', [], 'run'],
    ['the join after a branch: one branch ran, the other was skipped', ['success', 'skipped'], 'run'],
    ['one success among skips', ['skipped', 'success', 'skipped'], 'run'],
    ['every branch skipped', ['skipped', 'skipped'], 'skip'],
    ['a branch still running', ['skipped', 'running'], 'wait'],
    ['a sensor waiting to be poked again', ['success', 'up_for_reschedule'], 'wait'],
    ['a failure decides at once', ['failed', 'running'], 'upstream_failed'],
    ['an upstream_failed propagates', ['upstream_failed', 'success'], 'upstream_failed'],
    ['a removed upstream does not count', ['removed', 'skipped'], 'skip'],
  ],
  none_failed_or_skipped: [
    ['Airflow\'s deprecated name: the same rule', ['success', 'skipped'], 'run'],
    ['every branch skipped', ['skipped'], 'skip'],
    ['a failure', ['failed', 'skipped'], 'upstream_failed'],
  ],
  always: [
    ['no upstream', [], 'run'],
    ['upstreams pending', ['none', 'running'], 'run'],
    ['upstreams failed', ['failed', 'upstream_failed'], 'run'],
    ['upstreams skipped', ['skipped'], 'run'],
  ],
};

describe('named cases per rule', () => {
  it('the table covers every rule', () => assert.deepEqual(Object.keys(TABLE).sort(), [...TRIGGER_RULES].sort()));
  for (const rule of TRIGGER_RULES)
    describe(rule, () => {
      for (const [name, states, want, todo] of TABLE[rule])
        it(`${name}: ${show(states)} → ${want}`, todo ? { todo } : {}, () => {
          assert.equal(oracle(rule, states), want, 'the oracle agrees with the table');
          assert.equal(decide(rule, states), want);
        });
    });
});
