// Property test: random DAG shapes and trigger rules, each run simulated to completion by applying
// decideTaskChanges and giving scheduled tasks random outcomes. Seeded, so every run of the suite is the same.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { SerializedDag, SerializedTask } from '../../src/dag/model.ts';
import { failureState, retryDelaySeconds } from '../../src/dag/retries.ts';
import { decideRunState, decideTaskChanges, type TIRow } from '../../src/scheduler/decisions.ts';
import { FINISHED_STATES, canTransition, type TIState } from '../../src/scheduler/states.ts';
import { TRIGGER_RULES, type TriggerRule } from '../../src/sdk/types.ts';

/** Seeded PRNG (mulberry32). */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAGS = 400;
const MAX_STEPS = 2000;

function baseTask(taskId: string, upstream: string[], triggerRule: TriggerRule, o: Partial<SerializedTask>): SerializedTask {
  return {
    taskId, kind: 'function', upstream, retries: 0, retryDelay: 300, retryExponentialBackoff: false, maxRetryDelay: null,
    executionTimeout: null, triggerRule, pool: 'default_pool', poolSlots: 1, queue: 'default', executorConfig: null, doc: null, ...o,
  };
}
function mkDag(tasks: SerializedTask[]): SerializedDag {
  return {
    dagId: 'fuzz', fileloc: '/dags/fuzz.ts', schedule: null, timezone: 'UTC', startDate: null, endDate: null, catchup: false,
    maxActiveRuns: 1, maxActiveTasks: 16, params: {}, tags: [], description: null, tasks,
  };
}

/** Independent statement of when a rule lets a task start (Airflow's "trigger rule met"). */
function ruleMet(rule: TriggerRule, up: TIState[]): boolean {
  const n = (...s: TIState[]) => up.filter((x) => s.includes(x)).length;
  const fin = up.filter((x) => FINISHED_STATES.has(x)).length;
  switch (rule) {
    case 'always': return true;
    case 'all_success': return n('success') === up.length;
    case 'all_failed': return n('failed', 'upstream_failed') === up.length;
    case 'all_done': return fin === up.length;
    case 'one_success': return up.length === 0 || n('success') > 0;
    case 'one_failed': return up.length === 0 || n('failed', 'upstream_failed') > 0;
    case 'none_failed': return n('success', 'skipped') === up.length;
    case 'none_skipped': return fin === up.length && n('skipped') === 0;
    case 'none_failed_min_one_success':
    case 'none_failed_or_skipped': return up.length === 0 || (n('success', 'skipped') === up.length && n('success') > 0);
  }
}

interface Scenario {
  dag: SerializedDag;
  /** Every task ever in the DAG (a removed task's try may still be running). */
  defs: Map<string, SerializedTask>;
  ghost: { taskId: string; state: TIState } | null;
  /** Take one task out of the DAG at a step; with `backAt`, the original DAG returns at that later step. */
  removal: { atStep: number; taskId: string; backAt: number | null } | null;
}

function randomScenario(rng: () => number, readd: boolean): Scenario {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rng() * xs.length)];
  const n = 1 + Math.floor(rng() * 12);
  const density = 0.1 + rng() * 0.5;
  const tasks: SerializedTask[] = [];
  for (let i = 0; i < n; i++) {
    const upstream = Array.from({ length: i }, (_, j) => `t${j}`).filter(() => rng() < density);
    tasks.push(baseTask(`t${i}`, upstream, pick(TRIGGER_RULES), {
      retries: pick([0, 0, 1, 2]),
      retryDelay: pick([0, 30, 300]),
      retryExponentialBackoff: rng() < 0.5,
      maxRetryDelay: pick([null, 100]),
    }));
  }
  // Declared in random order: the decisions must not rely on declaration order.
  for (let i = tasks.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [tasks[i], tasks[j]] = [tasks[j], tasks[i]];
  }
  const defs = new Map(tasks.map((t) => [t.taskId, t]));
  const ghost = rng() < 0.25 ? { taskId: 'ghost', state: pick(['none', 'scheduled', 'queued', 'running', 'up_for_retry', 'success', 'failed'] as const) } : null;
  if (ghost) defs.set('ghost', baseTask('ghost', [], 'all_success', {}));
  const atStep = Math.floor(rng() * 6);
  const removal = n > 1 && (readd || rng() < 0.2) ? { atStep, taskId: `t${Math.floor(rng() * n)}`, backAt: readd ? atStep + 1 + Math.floor(rng() * 4) : null } : null;
  return { dag: mkDag(tasks), defs, ghost, removal };
}

const without = (dag: SerializedDag, taskId: string): SerializedDag =>
  mkDag(dag.tasks.filter((t) => t.taskId !== taskId).map((t) => ({ ...t, upstream: t.upstream.filter((u) => u !== taskId) })));

const describeDag = (dag: SerializedDag) => dag.tasks.map((t) => `${t.taskId}[${t.triggerRule},r${t.retries}]<-{${t.upstream.join(',')}}`).join(' ');

/** Runs one scenario to the end; returns the final states and run state (assertions inside). */
function simulate(seed: number, readd = false): { runState: string; states: Map<string, TIState>; dag: SerializedDag; retried: boolean } {
  const rng = mulberry32(seed);
  const sc = randomScenario(rng, readd);
  let dag = sc.dag;
  const where = () => `seed ${seed}: ${describeDag(dag)}${sc.ghost ? ` ghost=${sc.ghost.state}` : ''}${sc.removal ? ` remove ${sc.removal.taskId}@${sc.removal.atStep}${sc.removal.backAt !== null ? ` back@${sc.removal.backAt}` : ''}` : ''}`;
  let now = Date.parse('2030-01-01T00:00:00Z');
  const tis = new Map<string, TIRow>(dag.tasks.map((t) => [t.taskId, { taskId: t.taskId, state: 'none', tryNumber: 0, nextRetryAt: null }]));
  if (sc.ghost) tis.set('ghost', { taskId: 'ghost', state: sc.ghost.state, tryNumber: sc.ghost.state === 'none' || sc.ghost.state === 'scheduled' ? 0 : 1, nextRetryAt: sc.ghost.state === 'up_for_retry' ? new Date(now + 5000).toISOString() : null });
  const move = (ti: TIRow, to: TIState, why: string) => {
    assert.ok(canTransition(ti.state, to), `${where()}: ${why} made ${ti.taskId} go ${ti.state} → ${to}`);
    ti.state = to;
  };
  const decided = new Set<string>();

  for (let step = 0; step < MAX_STEPS; step++) {
    if (sc.removal && sc.removal.atStep === step && dag.tasks.some((t) => t.taskId === sc.removal!.taskId)) dag = without(dag, sc.removal.taskId);
    if (sc.removal?.backAt === step) {
      dag = sc.dag;
      // A task added while the run is under way gets a fresh task instance (the scheduler inserts missing rows).
      for (const t of dag.tasks) if (!tis.has(t.taskId)) tis.set(t.taskId, { taskId: t.taskId, state: 'none', tryNumber: 0, nextRetryAt: null });
    }

    for (const c of decideTaskChanges(dag, [...tis.values()].map((r) => ({ ...r })), new Date(now))) {
      const ti = tis.get(c.taskId);
      assert.ok(ti, `${where()}: change for unknown task ${c.taskId}`);
      assert.equal(c.from, ti.state, `${where()}: change ${c.taskId} reports from=${c.from} but the row is ${ti.state}`);
      if (c.from === 'removed') {
        // Only a task back in the DAG leaves removed; it is then decided afresh.
        assert.ok(dag.tasks.some((t) => t.taskId === c.taskId), `${where()}: ${c.taskId} left removed while not in the DAG`);
        decided.delete(c.taskId);
      } else assert.notEqual(c.to, 'none', `${where()}: ${c.taskId} sent back to none`);
      if ((c.from === 'none' || c.from === 'removed') && c.to !== 'removed' && c.to !== 'none') {
        assert.ok(!decided.has(c.taskId), `${where()}: ${c.taskId} decided twice`);
        decided.add(c.taskId);
        if (c.to === 'scheduled') {
          const task = dag.tasks.find((t) => t.taskId === c.taskId)!;
          // Upstream states as they stand after this pass's earlier (cascaded) changes.
          const up = task.upstream.map((u) => tis.get(u)!.state);
          assert.ok(ruleMet(task.triggerRule, up), `${where()}: ${c.taskId} (${task.triggerRule}) scheduled with upstreams [${up}]`);
        }
      } else if (c.to !== 'removed' && c.to !== 'none') {
        assert.equal(c.from, 'up_for_retry', `${where()}: unexpected ${c.taskId} ${c.from} → ${c.to}`);
        assert.equal(c.to, 'scheduled');
        assert.ok(ti.nextRetryAt === null || Date.parse(ti.nextRetryAt) <= now, `${where()}: ${c.taskId} retried before its time`);
      } else if (c.to === 'removed') {
        assert.ok(!dag.tasks.some((t) => t.taskId === c.taskId), `${where()}: ${c.taskId} removed while in the DAG`);
      }
      move(ti, c.to, 'decideTaskChanges');
    }

    const states = new Map([...tis].map(([k, v]) => [k, v.state]));
    const runState = decideRunState(dag, states);
    if (runState !== 'running') {
      for (const ti of tis.values()) assert.ok(ti.tryNumber <= sc.defs.get(ti.taskId)!.retries + 1, `${where()}: ${ti.taskId} made ${ti.tryNumber} tries`);
      return { runState, states, dag, retried: [...tis.values()].some((t) => t.tryNumber > 1) };
    }

    // The executor and the runner: advance a random subset of the active tries by one step.
    const active = [...tis.values()].filter((t) => t.state === 'scheduled' || t.state === 'queued' || t.state === 'running');
    if (active.length === 0) {
      const retrying = [...tis.values()].filter((t) => t.state === 'up_for_retry');
      assert.ok(retrying.length > 0, `${where()}: stuck with ${JSON.stringify(Object.fromEntries(states))}`);
      now = Math.max(...retrying.map((t) => (t.nextRetryAt ? Date.parse(t.nextRetryAt) : now)));
      continue;
    }
    const chosen = active.filter(() => rng() < 0.6);
    if (chosen.length === 0) chosen.push(active[Math.floor(rng() * active.length)]);
    for (const ti of chosen) {
      const def = sc.defs.get(ti.taskId)!;
      if (ti.state === 'scheduled') {
        move(ti, 'queued', 'queueing');
        ti.tryNumber++;
        ti.nextRetryAt = null;
      } else if (ti.state === 'queued') move(ti, 'running', 'the runner');
      else {
        const r = rng();
        if (r < 0.55) move(ti, 'success', 'a successful try');
        else if (r < 0.9) {
          const to = failureState(ti.tryNumber, def.retries);
          move(ti, to, 'a failed try');
          if (to === 'up_for_retry') ti.nextRetryAt = new Date(now + retryDelaySeconds(def, ti.tryNumber) * 1000).toISOString();
        } else move(ti, 'skipped', 'a task skipping itself');
      }
    }
    now += Math.floor(rng() * 120) * 1000;
  }
  assert.fail(`${where()}: no final run state after ${MAX_STEPS} steps`);
}

describe('fuzz: random DAGs run to completion', () => {
  it(`${DAGS} random DAGs with random trigger rules, retries, removed tasks`, () => {
    const tally = { success: 0, failed: 0, removedMidRun: 0, retried: 0, maxTasks: 0 };
    for (let seed = 1; seed <= DAGS; seed++) {
      const { runState, states, dag, retried } = simulate(seed);
      const where = `seed ${seed}: ${describeDag(dag)} → ${JSON.stringify(Object.fromEntries(states))}`;
      // Terminates with every task instance finished, none left waiting.
      for (const [id, s] of states) assert.ok(FINISHED_STATES.has(s), `${where}: ${id} ended ${s}`);
      for (const t of dag.tasks) assert.notEqual(states.get(t.taskId), 'none', `${where}: ${t.taskId} never decided`);
      // The run's state follows from the leaves, computed here independently.
      const downstreamOf = new Set(dag.tasks.flatMap((t) => t.upstream));
      const leaves = dag.tasks.filter((t) => !downstreamOf.has(t.taskId)).map((t) => states.get(t.taskId)!);
      const want = leaves.some((s) => s === 'failed' || s === 'upstream_failed') ? 'failed' : 'success';
      assert.equal(runState, want, `${where}: leaves [${leaves}]`);
      tally[want]++;
      if (retried) tally.retried++;
      if ([...states.values()].includes('removed')) tally.removedMidRun++;
      tally.maxTasks = Math.max(tally.maxTasks, dag.tasks.length);
    }
    // The generator really explores: both outcomes, removals, big DAGs.
    assert.ok(tally.success > 50 && tally.failed > 50, JSON.stringify(tally));
    assert.ok(tally.removedMidRun > 20 && tally.retried > 50, JSON.stringify(tally));
    assert.ok(tally.maxTasks >= 10, JSON.stringify(tally));
  });

  it(
    `${DAGS} random DAGs where a task leaves the DAG mid-run and comes back`,
    {},
    () => {
      let returned = 0;
      for (let seed = 1; seed <= DAGS; seed++) {
        const { runState, states, dag } = simulate(seed, true);
        const where = `seed ${seed} (re-added): ${describeDag(dag)} → ${JSON.stringify(Object.fromEntries(states))}`;
        for (const t of dag.tasks) assert.ok(FINISHED_STATES.has(states.get(t.taskId)!) && states.get(t.taskId) !== 'removed', `${where}: ${t.taskId}`);
        const downstreamOf = new Set(dag.tasks.flatMap((t) => t.upstream));
        const leaves = dag.tasks.filter((t) => !downstreamOf.has(t.taskId)).map((t) => states.get(t.taskId)!);
        assert.equal(runState, leaves.some((s) => s === 'failed' || s === 'upstream_failed') ? 'failed' : 'success', where);
        returned++;
      }
      assert.equal(returned, DAGS);
    },
  );

  it('every trigger rule decides at least once as run, and the cascading ones as skip and upstream_failed', () => {
    const seen = new Map<TriggerRule, Set<TIState>>();
    for (let seed = 1; seed <= DAGS; seed++) {
      const { states, dag } = simulate(seed);
      for (const t of dag.tasks) {
        const s = states.get(t.taskId)!;
        if (!seen.has(t.triggerRule)) seen.set(t.triggerRule, new Set());
        seen.get(t.triggerRule)!.add(s);
      }
    }
    for (const rule of TRIGGER_RULES) assert.ok(seen.get(rule)?.has('success'), `${rule} never ran a task`);
    for (const rule of ['all_success', 'none_failed', 'one_success'] as const) assert.ok(seen.get(rule)?.has('upstream_failed'), `${rule} never gave upstream_failed`);
    for (const rule of ['all_success', 'all_failed', 'one_failed', 'none_skipped'] as const) assert.ok(seen.get(rule)?.has('skipped'), `${rule} never skipped`);
  });
});
