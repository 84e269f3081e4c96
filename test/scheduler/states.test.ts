// The task-instance transition table, checked pair by pair against a table written out here by hand.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ACTIVE_STATES, DAG_RUN_STATES, FINISHED_STATES, TI_STATES, assertTransition, canTransition, isTIState, type TIState,
} from '../../src/scheduler/states.ts';

// Rows: from. Columns: to, in this order. 'x' = allowed, '.' = illegal.
const COLUMNS = ['none', 'scheduled', 'queued', 'running', 'success', 'failed', 'up_for_retry', 'up_for_reschedule', 'upstream_failed', 'skipped', 'removed'] as const;
const EXPECTED = `
                   none sched queue run  succ fail retry resch upfl skip remv
none                .    x     .    .    .    x    .     .     x    x    x
scheduled           x    .     x    .    .    .    .     .     x    x    x
queued              .    x     .    x    x    x    x     .     .    x    x
running             .    .     .    .    x    x    x     x     .    x    x
success             x    .     .    .    .    .    .     .     .    .    x
failed              x    .     .    .    .    .    .     .     .    .    x
up_for_retry        .    x     .    .    .    x    .     .     .    x    x
up_for_reschedule   x    x     .    .    .    x    .     .     .    x    x
upstream_failed     x    x     .    .    .    .    .     .     .    x    x
skipped             x    .     .    .    .    .    .     .     .    .    x
removed             x    x     .    .    .    .    .     .     x    x    .
`;
// Why each row is what it is:
// none: trigger rules decide (scheduled / skipped / upstream_failed); removed when the task leaves the DAG; failed
//   when a mapped task cannot be expanded (its input is not a list, or makes too many instances).
// scheduled: the critical section queues it; back to none when a run is cleared; a rule may still settle it.
// queued: the runner starts it; back to scheduled when the executor cannot launch it; the executor may see the try
//   end; skipped when its run times out.
// running: the try ends (a task may skip itself); a reschedule-mode sensor gives its slot back (up_for_reschedule);
//   removed when the task leaves the DAG.
// up_for_retry: scheduled again after the delay, failed when the run gives up, skipped when the run times out, removed.
// up_for_reschedule: scheduled again for its next poke (same try), cleared back to none, failed or skipped with its
//   run, removed.
// finished states: only clearing (→ none) or removal; upstream_failed may also be re-evaluated.
// removed: decided afresh (none, or straight to a trigger-rule outcome) when the task reappears.

function parseTable(text: string): Map<TIState, Set<TIState>> {
  const rows = text.trim().split('\n').slice(1);
  const out = new Map<TIState, Set<TIState>>();
  for (const row of rows) {
    const [from, ...cells] = row.trim().split(/\s+/);
    assert.ok(isTIState(from), `table row ${from} is not a state`);
    assert.equal(cells.length, COLUMNS.length, `table row ${from} has ${cells.length} cells`);
    out.set(from, new Set(COLUMNS.filter((_, i) => cells[i] === 'x')));
  }
  return out;
}
const allowed = parseTable(EXPECTED);

describe('task-instance states', () => {
  it('lists the eleven states of the design, once each', () => {
    assert.deepEqual([...TI_STATES].sort(), [...COLUMNS].sort());
    assert.equal(new Set(TI_STATES).size, 11);
    assert.equal(allowed.size, 11, 'the expected table has a row per state');
  });

  it('DAG-run states are queued, running, success, failed', () => {
    assert.deepEqual([...DAG_RUN_STATES], ['queued', 'running', 'success', 'failed']);
  });

  it('finished and active states are exactly the documented ones', () => {
    assert.deepEqual([...FINISHED_STATES].sort(), ['failed', 'removed', 'skipped', 'success', 'upstream_failed']);
    assert.deepEqual([...ACTIVE_STATES].sort(), ['queued', 'running']);
  });

  it('isTIState accepts the states and nothing else', () => {
    for (const s of TI_STATES) assert.ok(isTIState(s), s);
    for (const s of ['', 'None', 'SUCCESS', 'up-for-retry', 'up_for_reschedul', 'deferred', 'restarting', ' none']) assert.equal(isTIState(s), false, JSON.stringify(s));
  });
});

describe('transition table: every (from, to) pair', () => {
  for (const from of TI_STATES)
    it(`from ${from}`, () => {
      for (const to of TI_STATES) {
        const want = allowed.get(from)!.has(to);
        assert.equal(canTransition(from, to), want, `${from} → ${to} should be ${want ? 'allowed' : 'illegal'}`);
        if (want) assert.doesNotThrow(() => assertTransition(from, to, 'dag.task'));
        else
          assert.throws(
            () => assertTransition(from, to, 'etl.load run=r1'),
            (e: Error) => e.message.includes(from) && e.message.includes(to) && e.message.includes('etl.load run=r1'),
            `${from} → ${to} must throw naming both states and the task`,
          );
      }
    });
});

describe('transition table: shape', () => {
  it('no state transitions to itself', () => {
    for (const s of TI_STATES) assert.equal(canTransition(s, s), false, s);
  });

  it('the happy path, the retry loop and the reschedule loop of the design are allowed', () => {
    const path: TIState[] = ['none', 'scheduled', 'queued', 'running', 'up_for_retry', 'scheduled', 'queued', 'running', 'up_for_reschedule', 'scheduled', 'queued', 'running', 'success'];
    for (let i = 1; i < path.length; i++) assert.ok(canTransition(path[i - 1], path[i]), `${path[i - 1]} → ${path[i]}`);
  });

  it('every state is reachable from none, and a finished state is reachable from every state', () => {
    const reach = (start: TIState): Set<TIState> => {
      const seen = new Set<TIState>([start]);
      const todo = [start];
      while (todo.length) {
        const from = todo.pop()!;
        for (const to of TI_STATES) if (canTransition(from, to) && !seen.has(to)) (seen.add(to), todo.push(to));
      }
      return seen;
    };
    assert.deepEqual([...reach('none')].sort(), [...TI_STATES].sort());
    for (const s of TI_STATES) assert.ok([...reach(s)].some((r) => FINISHED_STATES.has(r)), `${s} can finish`);
  });

  it('a finished task changes only by clearing (none), removal, or re-evaluation of upstream_failed', () => {
    for (const s of FINISHED_STATES)
      for (const to of TI_STATES)
        if (canTransition(s, to)) assert.ok(to === 'none' || to === 'removed' || s === 'upstream_failed' || s === 'removed', `${s} → ${to}`);
  });
});
