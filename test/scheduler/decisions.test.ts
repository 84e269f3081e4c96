// Pure scheduling decisions: one pass over a DAG run (cascades, retries, removed tasks), the run's state,
// retry delays and what a failed try becomes.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SerializedDag, SerializedTask } from '../../src/dag/model.ts';
import { DEFAULT_MAX_RETRY_DELAY, failureState, retryDelaySeconds } from '../../src/dag/retries.ts';
import { decideRunState, decideTaskChanges, topoOrder, type TIChange, type TIRow } from '../../src/scheduler/decisions.ts';
import { FINISHED_STATES, TI_STATES, canTransition, type TIState } from '../../src/scheduler/states.ts';
import type { TriggerRule } from '../../src/sdk/types.ts';

const NOW = new Date('2030-06-01T12:00:00.000Z');
const at = (offsetSeconds: number) => new Date(NOW.getTime() + offsetSeconds * 1000).toISOString();

function t(taskId: string, upstream: string[] = [], triggerRule: TriggerRule = 'all_success', extra: Partial<SerializedTask> = {}): SerializedTask {
  return {
    taskId, kind: 'function', upstream, retries: 0, retryDelay: 300, retryExponentialBackoff: false, maxRetryDelay: null,
    executionTimeout: null, triggerRule, pool: 'default_pool', poolSlots: 1, queue: 'default', executorConfig: null, doc: null, ...extra,
  };
}
function mkDag(tasks: SerializedTask[]): SerializedDag {
  return {
    dagId: 'd', fileloc: '/dags/d.ts', schedule: null, timezone: 'UTC', startDate: null, endDate: null, catchup: false,
    maxActiveRuns: 16, maxActiveTasks: 16, params: {}, tags: [], description: null, tasks,
  };
}
/** `{ a: 'success', b: ['up_for_retry', at(60)] }` → TI rows. */
function rows(spec: Record<string, TIState | [TIState, string | null]>): TIRow[] {
  return Object.entries(spec).map(([taskId, v]) => {
    const [state, nextRetryAt] = Array.isArray(v) ? v : [v, null];
    return { taskId, state, tryNumber: state === 'none' ? 0 : 1, nextRetryAt };
  });
}
/** The task states after one pass. */
function pass(dag: SerializedDag, tis: TIRow[], now = NOW): Record<string, TIState> {
  const out = Object.fromEntries(tis.map((r) => [r.taskId, r.state]));
  for (const c of decideTaskChanges(dag, tis, now)) out[c.taskId] = c.to;
  return out;
}
const changesOf = (dag: SerializedDag, tis: TIRow[], now = NOW): TIChange[] =>
  decideTaskChanges(dag, tis, now).sort((a, b) => a.taskId.localeCompare(b.taskId));

describe('decideTaskChanges: trigger rules for waiting tasks', () => {
  it('a fresh run schedules the roots and reports only real changes', () => {
    const dag = mkDag([t('a'), t('b', ['a']), t('c'), t('d', ['b', 'c'])]);
    assert.deepEqual(changesOf(dag, rows({ a: 'none', b: 'none', c: 'none', d: 'none' })), [
      { taskId: 'a', from: 'none', to: 'scheduled' },
      { taskId: 'c', from: 'none', to: 'scheduled' },
    ]);
  });

  it('a task waits while its upstream is scheduled, queued, running or up for retry', () => {
    const dag = mkDag([t('a'), t('b', ['a'])]);
    for (const s of ['scheduled', 'queued', 'running'] as const) assert.deepEqual(changesOf(dag, rows({ a: s, b: 'none' })), [], s);
    assert.deepEqual(changesOf(dag, rows({ a: ['up_for_retry', at(60)], b: 'none' })), []);
  });

  it('upstream success schedules the downstream', () => {
    const dag = mkDag([t('a'), t('b', ['a'])]);
    assert.deepEqual(changesOf(dag, rows({ a: 'success', b: 'none' })), [{ taskId: 'b', from: 'none', to: 'scheduled' }]);
  });

  it('upstream_failed cascades down a whole chain in one pass', () => {
    const dag = mkDag([t('a'), t('b', ['a']), t('c', ['b']), t('d', ['c'])]);
    assert.deepEqual(pass(dag, rows({ a: 'failed', b: 'none', c: 'none', d: 'none' })), { a: 'failed', b: 'upstream_failed', c: 'upstream_failed', d: 'upstream_failed' });
  });

  it('skipped cascades down a whole chain in one pass', () => {
    const dag = mkDag([t('a'), t('b', ['a']), t('c', ['b']), t('d', ['c'])]);
    assert.deepEqual(pass(dag, rows({ a: 'skipped', b: 'none', c: 'none', d: 'none' })), { a: 'skipped', b: 'skipped', c: 'skipped', d: 'skipped' });
  });

  it('cascades regardless of the order tasks are declared in', () => {
    const dag = mkDag([t('d', ['c']), t('c', ['b']), t('b', ['a']), t('a')]);
    assert.deepEqual(pass(dag, rows({ d: 'none', c: 'none', b: 'none', a: 'failed' })), { a: 'failed', b: 'upstream_failed', c: 'upstream_failed', d: 'upstream_failed' });
    assert.deepEqual(topoOrder(dag).map((x) => x.taskId), ['a', 'b', 'c', 'd']);
  });

  it('a diamond: failure reaches the join through both branches in one pass', () => {
    const dag = mkDag([t('a'), t('b', ['a']), t('c', ['a']), t('d', ['b', 'c'])]);
    assert.deepEqual(pass(dag, rows({ a: 'failed', b: 'none', c: 'none', d: 'none' })), { a: 'failed', b: 'upstream_failed', c: 'upstream_failed', d: 'upstream_failed' });
  });

  it('a diamond whose join is all_done runs once both branches were settled in the same pass', () => {
    const dag = mkDag([t('a'), t('b', ['a']), t('c', ['a']), t('d', ['b', 'c'], 'all_done')]);
    assert.deepEqual(pass(dag, rows({ a: 'failed', b: 'none', c: 'none', d: 'none' })), { a: 'failed', b: 'upstream_failed', c: 'upstream_failed', d: 'scheduled' });
  });

  it('a diamond whose join is one_failed runs on a branch that became upstream_failed in the same pass', () => {
    const dag = mkDag([t('a'), t('b', ['a']), t('c'), t('d', ['b', 'c'], 'one_failed')]);
    assert.deepEqual(pass(dag, rows({ a: 'failed', b: 'none', c: 'running', d: 'none' })), { a: 'failed', b: 'upstream_failed', c: 'running', d: 'scheduled' });
  });

  it('a skipped diamond: an all_done branch runs, the all_success join skips on the skipped branch', () => {
    const dag = mkDag([t('a'), t('b', ['a']), t('c', ['a'], 'all_done'), t('d', ['b', 'c'])]);
    assert.deepEqual(pass(dag, rows({ a: 'skipped', b: 'none', c: 'none', d: 'none' })), { a: 'skipped', b: 'skipped', c: 'scheduled', d: 'skipped' });
  });

  it('none_failed lets a skip through, stops at a failure', () => {
    const dag = mkDag([t('a'), t('b'), t('j', ['a', 'b'], 'none_failed'), t('k', ['j'])]);
    assert.deepEqual(pass(dag, rows({ a: 'skipped', b: 'success', j: 'none', k: 'none' })), { a: 'skipped', b: 'success', j: 'scheduled', k: 'none' });
    assert.deepEqual(pass(dag, rows({ a: 'failed', b: 'running', j: 'none', k: 'none' })), { a: 'failed', b: 'running', j: 'upstream_failed', k: 'upstream_failed' });
  });

  it('a task is never re-decided once it left none', () => {
    const dag = mkDag([t('a'), t('b', ['a'])]);
    // b's upstream now says "run", "skip" or "upstream_failed", yet b keeps whatever state it already has
    // (up_for_retry and up_for_reschedule have their own rule; removed is what a task gone from the DAG became).
    for (const a of ['success', 'failed', 'skipped'] as const)
      for (const b of TI_STATES) {
        if (b === 'none' || b === 'up_for_retry' || b === 'up_for_reschedule' || b === 'removed') continue;
        assert.deepEqual(changesOf(dag, rows({ a, b })), [], `a=${a} b=${b}`);
      }
  });

  it('a task in the DAG without a task-instance row is left alone', () => {
    const dag = mkDag([t('a'), t('late', ['a'])]);
    assert.deepEqual(changesOf(dag, rows({ a: 'success' })), []);
  });
});

describe('decideTaskChanges: retries', () => {
  const dag = mkDag([t('a', [], 'all_success', { retries: 3 }), t('b', ['a'])]);
  it('a retry whose time has come is scheduled again', () => {
    assert.deepEqual(changesOf(dag, rows({ a: ['up_for_retry', at(-1)], b: 'none' })), [{ taskId: 'a', from: 'up_for_retry', to: 'scheduled' }]);
    assert.deepEqual(changesOf(dag, rows({ a: ['up_for_retry', at(-86_400)], b: 'none' })), [{ taskId: 'a', from: 'up_for_retry', to: 'scheduled' }]);
  });
  it('a retry due exactly now is scheduled', () => {
    assert.deepEqual(changesOf(dag, rows({ a: ['up_for_retry', at(0)], b: 'none' })), [{ taskId: 'a', from: 'up_for_retry', to: 'scheduled' }]);
  });
  it('a retry not yet due waits', () => {
    assert.deepEqual(changesOf(dag, rows({ a: ['up_for_retry', at(1)], b: 'none' })), []);
    assert.deepEqual(changesOf(dag, rows({ a: ['up_for_retry', at(3600)], b: 'none' })), []);
  });
  it('a retry without a retry time is due at once', () => {
    assert.deepEqual(changesOf(dag, rows({ a: ['up_for_retry', null], b: 'none' })), [{ taskId: 'a', from: 'up_for_retry', to: 'scheduled' }]);
  });
  it('the retried task\'s downstream keeps waiting', () => {
    assert.deepEqual(pass(dag, rows({ a: ['up_for_retry', at(-5)], b: 'none' })), { a: 'scheduled', b: 'none' });
  });
  it('the same rows are due or not depending on now', () => {
    const tis = rows({ a: ['up_for_retry', '2030-06-01T12:05:00.000Z'], b: 'none' });
    assert.equal(pass(dag, tis, new Date('2030-06-01T12:04:59.999Z')).a, 'up_for_retry');
    assert.equal(pass(dag, tis, new Date('2030-06-01T12:05:00.000Z')).a, 'scheduled');
  });
});

describe('decideTaskChanges: tasks that left the DAG', () => {
  const dag = mkDag([t('a'), t('b', ['a'])]);
  it('a waiting, scheduled or retrying task instance of a removed task becomes removed', () => {
    for (const s of ['none', 'scheduled'] as const) assert.deepEqual(changesOf(dag, rows({ a: 'running', b: 'none', gone: s })), [{ taskId: 'gone', from: s, to: 'removed' }], s);
    for (const when of [at(-10), at(10), null])
      assert.deepEqual(changesOf(dag, rows({ a: 'running', b: 'none', gone: ['up_for_retry', when] })), [{ taskId: 'gone', from: 'up_for_retry', to: 'removed' }]);
  });
  it('a queued or running try of a removed task is left to finish; finished ones keep their state', () => {
    for (const s of ['queued', 'running', 'success', 'failed', 'skipped', 'upstream_failed', 'removed'] as const)
      assert.deepEqual(changesOf(dag, rows({ a: 'running', b: 'none', gone: s })), [], s);
  });
  it('removal happens in the same pass as other decisions', () => {
    assert.deepEqual(pass(dag, rows({ a: 'success', b: 'none', gone: 'none', gone2: 'scheduled' })), { a: 'success', b: 'scheduled', gone: 'removed', gone2: 'removed' });
  });

  it('a task removed from the DAG mid-run and added back is decided again, so its downstream is not stuck', () => {
    const v1 = mkDag([t('a'), t('x', ['a']), t('b', ['a'])]);
    const v2 = mkDag([t('a'), t('b', ['a'])]);
    const v3 = mkDag([t('a'), t('x', ['a']), t('b', ['a', 'x'])]);
    let state: Record<string, TIState> = { a: 'running', x: 'none', b: 'none' };
    const step = (dag: SerializedDag) => {
      state = pass(dag, Object.entries(state).map(([taskId, s]) => ({ taskId, state: s, tryNumber: 1, nextRetryAt: null })));
    };
    step(v1);
    step(v2);
    assert.equal(state.x, 'removed');
    state.a = 'success';
    // Let the scheduler and the executor play: scheduled tasks succeed, until nothing changes.
    for (let i = 0; i < 10; i++) {
      step(v3);
      for (const [k, s] of Object.entries(state)) if (s === 'scheduled') state[k] = 'success';
    }
    assert.equal(decideRunState(v3, new Map(Object.entries(state))), 'success');
    assert.deepEqual(state, { a: 'success', x: 'success', b: 'success' });
  });

  it('a returning task is decided afresh by its trigger rule', () => {
    const dag = mkDag([t('a'), t('x', ['a']), t('y', ['a'])]);
    assert.deepEqual(pass(dag, rows({ a: 'failed', x: 'removed', y: 'none' })), { a: 'failed', x: 'upstream_failed', y: 'upstream_failed' });
    assert.deepEqual(pass(dag, rows({ a: 'running', x: 'removed', y: 'none' })), { a: 'running', x: 'none', y: 'none' });
  });

  it(
    'a returning task\'s change is a transition the table allows',
    {},
    () => {
      const dag = mkDag([t('a'), t('x', ['a']), t('y', ['a'])]);
      for (const a of ['success', 'failed', 'skipped', 'running'] as const)
        for (const c of decideTaskChanges(dag, rows({ a, x: 'removed', y: 'none' }), NOW))
          assert.ok(canTransition(c.from, c.to), `a=${a}: ${c.taskId} ${c.from} → ${c.to}`);
    },
  );
});

describe('decideTaskChanges: contract', () => {
  const dag = mkDag([t('a', [], 'all_success', { retries: 1 }), t('b', ['a']), t('c', ['a'], 'one_failed'), t('d', ['b', 'c'], 'all_done'), t('e', ['d'], 'none_skipped')]);
  const samples: Record<string, TIState | [TIState, string | null]>[] = [
    { a: 'none', b: 'none', c: 'none', d: 'none', e: 'none' },
    { a: 'failed', b: 'none', c: 'none', d: 'none', e: 'none' },
    { a: 'success', b: 'none', c: 'none', d: 'none', e: 'none' },
    { a: ['up_for_retry', at(-1)], b: 'none', c: 'none', d: 'none', e: 'none', z: 'scheduled' },
    { a: 'skipped', b: 'none', c: 'none', d: 'none', e: 'none' },
  ];
  it('every change is a legal transition, from the row\'s state, once per task, never a no-op', () => {
    for (const spec of samples) {
      const tis = rows(spec);
      const changes = decideTaskChanges(dag, tis, NOW);
      const before = new Map(tis.map((r) => [r.taskId, r.state]));
      assert.equal(new Set(changes.map((c) => c.taskId)).size, changes.length, 'one change per task');
      for (const c of changes) {
        assert.equal(c.from, before.get(c.taskId), `${c.taskId}: from is the row's state`);
        assert.notEqual(c.from, c.to);
        assert.ok(canTransition(c.from, c.to), `${c.taskId}: ${c.from} → ${c.to}`);
      }
    }
  });
  it('one pass reaches a fixed point: a second pass over its result changes nothing', () => {
    for (const spec of samples) {
      const after = pass(dag, rows(spec));
      const again = decideTaskChanges(dag, Object.entries(after).map(([taskId, state]) => ({ taskId, state, tryNumber: 1, nextRetryAt: null })), NOW);
      assert.deepEqual(again, [], JSON.stringify(spec));
    }
  });
  it('does not modify its inputs', () => {
    const tis = rows(samples[1]);
    const copy = structuredClone(tis);
    const dagCopy = structuredClone(dag);
    decideTaskChanges(dag, tis, NOW);
    assert.deepEqual(tis, copy);
    assert.deepEqual(dag, dagCopy);
  });
});

describe('decideRunState', () => {
  const dag = mkDag([t('a'), t('b', ['a']), t('c', ['a']), t('cleanup', ['b'], 'all_done')]);
  const run = (s: Record<string, TIState>) => decideRunState(dag, new Map(Object.entries(s)));
  it('is running while any task is unfinished, even when a leaf already failed', () => {
    for (const p of ['none', 'scheduled', 'queued', 'running', 'up_for_retry'] as const) {
      assert.equal(run({ a: 'success', b: 'success', c: 'failed', cleanup: p }), 'running', p);
      assert.equal(run({ a: p, b: 'none', c: 'none', cleanup: 'none' }), 'running', p);
    }
  });
  it('succeeds when every leaf succeeded or was skipped', () => {
    assert.equal(run({ a: 'success', b: 'success', c: 'success', cleanup: 'success' }), 'success');
    assert.equal(run({ a: 'success', b: 'skipped', c: 'skipped', cleanup: 'skipped' }), 'success');
  });
  it('fails when a leaf failed or is upstream_failed', () => {
    assert.equal(run({ a: 'success', b: 'success', c: 'failed', cleanup: 'success' }), 'failed');
    assert.equal(run({ a: 'success', b: 'success', c: 'upstream_failed', cleanup: 'success' }), 'failed');
    assert.equal(run({ a: 'success', b: 'success', c: 'success', cleanup: 'failed' }), 'failed');
  });
  it('only leaves decide: a failure absorbed by an all_done leaf is a success (Airflow)', () => {
    assert.equal(run({ a: 'success', b: 'failed', c: 'success', cleanup: 'success' }), 'success');
  });
  it('task instances of tasks no longer in the DAG are not leaves, but must finish first', () => {
    assert.equal(run({ a: 'success', b: 'success', c: 'success', cleanup: 'success', gone: 'failed' }), 'success');
    assert.equal(run({ a: 'success', b: 'success', c: 'success', cleanup: 'success', gone: 'removed' }), 'success');
    assert.equal(run({ a: 'success', b: 'success', c: 'success', cleanup: 'success', gone: 'running' }), 'running');
  });
  it('a removed leaf does not fail the run', () => {
    assert.equal(run({ a: 'success', b: 'success', c: 'removed', cleanup: 'success' }), 'success');
  });
  it('every combination of finished states gives success or failed, by the leaves', () => {
    const finished = [...FINISHED_STATES];
    for (const a of finished) for (const b of finished) for (const c of finished) for (const cleanup of finished) {
      const want = [c, cleanup].some((s) => s === 'failed' || s === 'upstream_failed') ? 'failed' : 'success';
      assert.equal(run({ a, b, c, cleanup }), want, JSON.stringify({ a, b, c, cleanup }));
    }
  });
});

describe('retryDelaySeconds', () => {
  const plain = { retryDelay: 300, retryExponentialBackoff: false, maxRetryDelay: null };
  it('plain: the same delay after every try', () => {
    for (const n of [1, 2, 3, 10]) assert.equal(retryDelaySeconds(plain, n), 300);
    assert.equal(retryDelaySeconds({ ...plain, retryDelay: 0 }, 4), 0);
  });
  it('exponential: doubles with each try, starting at retryDelay', () => {
    const exp = { retryDelay: 10, retryExponentialBackoff: true, maxRetryDelay: null };
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelaySeconds(exp, n)), [10, 20, 40, 80, 160]);
    assert.equal(retryDelaySeconds({ ...exp, retryDelay: 0 }, 5), 0);
    assert.equal(retryDelaySeconds(exp, 0), 10, 'a try number below 1 is treated as the first');
  });
  it('exponential, capped by maxRetryDelay', () => {
    const capped = { retryDelay: 10, retryExponentialBackoff: true, maxRetryDelay: 60 };
    assert.deepEqual([1, 2, 3, 4, 5, 50].map((n) => retryDelaySeconds(capped, n)), [10, 20, 40, 60, 60, 60]);
  });
  it('maxRetryDelay also caps a plain delay', () => {
    assert.equal(retryDelaySeconds({ ...plain, maxRetryDelay: 60 }, 1), 60);
    assert.equal(retryDelaySeconds({ ...plain, maxRetryDelay: 600 }, 1), 300);
  });
  it('exponential without maxRetryDelay stops at one day, and the retry time stays a valid date', () => {
    assert.equal(DEFAULT_MAX_RETRY_DELAY, 86_400);
    const exp = { retryDelay: 10, retryExponentialBackoff: true, maxRetryDelay: null };
    assert.equal(retryDelaySeconds(exp, 14), 81_920);
    assert.equal(retryDelaySeconds(exp, 15), 86_400);
    for (const n of [30, 40, 60, 1100, 1e6]) {
      const d = retryDelaySeconds({ ...exp, retryDelay: 300 }, n);
      assert.equal(d, 86_400, `try ${n}`);
      assert.doesNotThrow(() => new Date(NOW.getTime() + d * 1000).toISOString());
    }
  });
  it('an explicit maxRetryDelay above one day is honoured; a plain delay above one day is kept', () => {
    assert.equal(retryDelaySeconds({ retryDelay: 3600, retryExponentialBackoff: true, maxRetryDelay: 3 * 86_400 }, 20), 3 * 86_400);
    assert.equal(retryDelaySeconds({ ...plain, retryDelay: 2 * 86_400 }, 3), 2 * 86_400);
  });
  it('even a huge maxRetryDelay gives a finite delay', () => {
    const d = retryDelaySeconds({ retryDelay: 300, retryExponentialBackoff: true, maxRetryDelay: Number.MAX_VALUE }, 5000);
    assert.ok(Number.isFinite(d), String(d));
  });
});

describe('failureState', () => {
  it('retries remain while the try number is at most the retries', () => {
    assert.equal(failureState(1, 0), 'failed');
    assert.deepEqual([1, 2, 3].map((n) => failureState(n, 2)), ['up_for_retry', 'up_for_retry', 'failed']);
    assert.equal(failureState(5, 5), 'up_for_retry');
    assert.equal(failureState(6, 5), 'failed');
  });
  it('a task with retries makes exactly retries + 1 tries', () => {
    for (const retries of [0, 1, 2, 5]) {
      let tries = 0;
      for (let n = 1; ; n++) {
        tries++;
        if (failureState(n, retries) === 'failed') break;
      }
      assert.equal(tries, retries + 1);
    }
  });
});
