// The authoring API of issue #17 as DAG files use it: .expand()/.partial(), branch(), shortCircuit(), sensor(),
// fileSensor(), externalTaskSensor() — what they serialize to, and every misuse as an import error naming the task.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { serializeDag, type DagProblem } from '../../src/dag/serialize.ts';
import type { SerializedDag } from '../../src/dag/model.ts';
import { mapCount, positionsOf, expansionOf } from '../../src/dag/mapping.ts';
import { parameterNames } from '../../src/sdk/params.ts';
import { branch, dag, externalTaskSensor, fileSensor, sensor, shell, shortCircuit, task } from '../../src/sdk/index.ts';
import type { DagDefinition } from '../../src/sdk/dag.ts';
import { taskArgs } from '../../src/worker/mapping.ts';
import { followDecision } from '../../src/worker/branching.ts';
import { findPath, pokeDelaySeconds, sense, SensorReschedule, SensorTimeout } from '../../src/worker/sensors.ts';

const CFG = { defaultRetryDelay: 1, maxActiveRuns: 1, maxActiveTasks: 4, maxMapLength: 5 };
const ser = (def: DagDefinition) => serializeDag(def, '/dags/d.ts', CFG);
const ok = (def: DagDefinition): SerializedDag => {
  const r = ser(def);
  assert.deepEqual(r.problems, []);
  return r.dag!;
};
const problems = (def: DagDefinition): DagProblem[] => {
  const r = ser(def);
  assert.equal(r.dag, null, 'an invalid DAG is not serialized');
  return r.problems;
};
let n = 0;
const d = (body: () => void, extra: Record<string, unknown> = {}) => dag({ dagId: `d${n++}`, schedule: null, ...extra }, body);

describe('parameterNames', () => {
  it('reads the parameters of arrows, async arrows, functions and methods', () => {
    assert.deepEqual(parameterNames(async (ctx: unknown, x: number, y = Math.max(1, 2)) => [ctx, x, y]), ['ctx', 'x', 'y']);
    assert.deepEqual(parameterNames((c: unknown) => c), ['c']);
    assert.deepEqual(parameterNames(async function named(ctx: unknown, { a, b }: { a: 1; b: 2 }, ...rest: unknown[]) { return [ctx, a, b, rest]; }), ['ctx', null, 'rest']);
    const o = { m(ctx: unknown, s = 'a,(b)', /* c, */ t = [1, 2]) { return [ctx, s, t]; } };
    assert.deepEqual(parameterNames(o.m), ['ctx', 's', 't']);
    assert.deepEqual(parameterNames(() => 1), []);
  });
  it('gives up (null) on bound and native functions', () => {
    assert.equal(parameterNames(((a: number, b: number) => a + b).bind(null)), null);
    assert.equal(parameterNames(Math.max as never), null);
  });
});

describe('dynamic task mapping: declaring', () => {
  it('expand(list) over a task result, a literal list, and fields (a cross product) serialize what is mapped over', () => {
    const dg = ok(d(() => {
      const nums = task('nums', async () => [1, 2, 3])();
      task('double', async (_c, n: number) => n * 2).expand(nums);
      task('lit', async (_c, n: number) => n).expand([1, 2]);
      task('add', async (_c, x: number, y: number) => x + y).partial({ y: 1 }).expand({ x: nums });
      task('obj', async (_c, o: { a: number; b: string }) => `${o.a}${o.b}`).expand({ a: [1, 2], b: ['x', 'y'] });
    }));
    const t = Object.fromEntries(dg.tasks.map((x) => [x.taskId, x]));
    assert.deepEqual(t.double.mapped, { inputs: [{ name: null, taskId: 'nums', key: 'return_value' }] });
    assert.deepEqual(t.double.upstream, ['nums']);
    assert.deepEqual(t.lit.mapped, { inputs: [{ name: null, length: 2 }] });
    assert.deepEqual(t.add.mapped, { inputs: [{ name: 'x', taskId: 'nums', key: 'return_value' }] });
    assert.deepEqual(t.obj.mapped, { inputs: [{ name: 'a', length: 2 }, { name: 'b', length: 2 }] });
    assert.equal(t.nums.mapped, undefined, 'unmapped tasks serialize as before');
  });

  it('a task result in .partial() is an upstream', () => {
    const dg = ok(d(() => {
      const k = task('k', async () => 10)();
      task('add', async (_c, x: number, y: number) => x + y).partial({ y: k }).expand({ x: [1, 2] });
    }));
    assert.deepEqual(dg.tasks.find((t) => t.taskId === 'add')!.upstream, ['k']);
  });

  it('every misuse is an import error naming the task and what was expected', () => {
    const cases: [string, () => void, RegExp][] = [
      ['a number', () => task('m', async (_c, x: number) => x).expand(5 as never), /task m: \.expand\(\) needs a list, another task's result .*got a number/],
      ['a field that is not a list', () => task('m', async (_c, x: number) => x).expand({ x: 'abc' } as never), /task m: \.expand\(\) field "x" must be a list/],
      ['no field', () => task('m', async (_c, x: number) => x).expand({}), /task m: \.expand\(\{\}\) names no field/],
      ['a field naming no parameter', () => task('m', async (_c, x: number, y: number) => x + y).partial({ z: 1 }).expand({ x: [1] }), /task m: "z" names no parameter of its function \(its parameters after ctx: x, y\)/],
      ['a field in partial and expand', () => task('m', async (_c, x: number, y: number) => x + y).partial({ x: 1 }).expand({ x: [1] }), /task m: field "x" is given both/],
      ['partial not an object', () => task('m', async (_c, x: number) => x).partial(3 as never).expand([1]), /task m: \.partial\(\) takes an object/],
      ['too many literal instances', () => task('m', async (_c, o: { a: number; b: number }) => o.a).expand({ a: [1, 2, 3], b: [1, 2] }), /task m is mapped over literal lists making 6 instances, more than the 5 allowed \(core\.maxMapLength\)/],
    ];
    for (const [what, body, want] of cases) {
      const ps = problems(d(body));
      assert.ok(ps.some((p) => want.test(p.message)), `${what}: ${JSON.stringify(ps.map((p) => p.message))}`);
      assert.ok(ps.every((p) => p.at === null || p.at.includes('authoring.test.ts')), `${what}: the line that declared it`);
    }
  });
});

describe('dynamic task mapping: pure parts', () => {
  it('the cross product varies the last input fastest (Airflow order)', () => {
    assert.equal(mapCount([3, 2]), 6);
    assert.deepEqual([0, 1, 2, 3, 4, 5].map((i) => positionsOf(i, [3, 2])), [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]);
    assert.equal(mapCount([4, 0]), 0);
  });
  it('expansionOf: a count, or an error naming the task, its input and the limit', () => {
    const m = { inputs: [{ name: null, taskId: 'nums', key: 'return_value' }] };
    assert.deepEqual(expansionOf('t', m, [3], 5), { count: 3 });
    assert.deepEqual(expansionOf('t', m, [0], 5), { count: 0 });
    assert.match((expansionOf('t', m, [{ notAList: 42 }], 5) as { error: string }).error, /task t is mapped over the result of task nums, which must be a list \(an array\) but is a number \(42\)/);
    assert.match((expansionOf('t', m, [{ notAList: undefined }], 5) as { error: string }).error, /but is nothing \(undefined\)/);
    const two = { inputs: [{ name: 'a', length: 3 }, { name: 'b', taskId: 'x', key: 'return_value' }] };
    assert.match((expansionOf('t', two, [3, 2], 5) as { error: string }).error, /task t would be mapped into 6 instances \(3 × 2\), more than the 5 allowed \(core\.maxMapLength\)/);
  });

  it("an instance's arguments follow the declared binding", async () => {
    const values: Record<string, unknown> = { nums: [10, 20, 30], k: 7, pairs: [{ x: 1, y: 2 }, { x: 3, y: 4 }] };
    const pull = async (taskId: string) => values[taskId];
    const k = (mapIndex: number) => ({ dagId: 'd', runId: 'r', taskId: 't', mapIndex });
    let body: Parameters<typeof taskArgs>[0] | undefined;
    const grab = (def: DagDefinition, id = 't') => (def.tasks.get(id)!.body as Parameters<typeof taskArgs>[0]);
    body = grab(d(() => task('t', async (_c, n: number) => n).expand(task('nums', async () => [] as number[])())));
    assert.deepEqual(await taskArgs(body, k(1), pull), [20]);
    body = grab(d(() => task('t', async (_c, x: number, y: number) => x + y).partial({ y: task('k', async () => 7)() }).expand(task('nums', async () => [] as number[])())));
    assert.deepEqual(await taskArgs(body, k(2), pull), [30, 7], 'the element fills the first parameter partial() left free');
    body = grab(d(() => task('t', async (_c, x: number, y: number) => x + y).partial({ x: 1 }).expand({ y: [5, 6] })));
    assert.deepEqual(await taskArgs(body, k(1), pull), [1, 6]);
    body = grab(d(() => task('t', async (_c, o: { a: number; b: string; c: number }) => o).partial({ c: 9 }).expand({ a: [1, 2], b: ['x', 'y'] })));
    assert.deepEqual(await taskArgs(body, k(2), pull), [{ c: 9, a: 2, b: 'x' }], 'one object argument, cross product, last field fastest');
    body = grab(d(() => task('t', async (_c, o: { x: number; y: number; z: number }) => o).partial({ z: 0 }).expand(task('pairs', async () => [] as { x: number; y: number }[])())));
    assert.deepEqual(await taskArgs(body, k(1), pull), [{ z: 0, x: 3, y: 4 }], 'a list of objects zips fields (expand_kwargs)');
    body = grab(d(() => task('t', async (_c, n: number) => n).expand(task('k', async () => 0 as unknown as number[])())));
    await assert.rejects(taskArgs(body, k(0), pull), /task t is mapped over the result of task k, which must be a list but is a number \(7\)/);
    body = grab(d(() => task('t', async (_c, n: number) => n).expand(task('nums', async () => [] as number[])())));
    await assert.rejects(taskArgs(body, k(3), pull), /task t has no instance 3 any more: its inputs now make 3 instances/);
    await assert.rejects(taskArgs(body, k(-1), pull), /task t is mapped: run one of its instances/);
  });
});

describe('branch and short-circuit', () => {
  const def = () =>
    d(() => {
      const pick = branch('pick', async () => 'a')();
      const a = task('a', async () => 1)();
      const b = task('b', async () => 2)();
      const c = task('c', async () => 3)().after(b);
      pick.before([a, b]);
      shortCircuit({ taskId: 'gate', ignoreDownstreamTriggerRules: false }, async () => 0)().before(shell({ taskId: 's', command: 'true' }));
      void c;
    });
  it('serialize as function tasks with their flow', () => {
    const dg = ok(def());
    const t = Object.fromEntries(dg.tasks.map((x) => [x.taskId, x]));
    assert.deepEqual(t.pick.flow, { kind: 'branch' });
    assert.deepEqual(t.gate.flow, { kind: 'short_circuit', ignoreDownstreamTriggerRules: false });
    assert.equal(t.a.flow, undefined);
  });
  it('a branch result is checked: ids downstream of it, a list of them, or null', () => {
    const dg = ok(def());
    const pick = dg.tasks.find((t) => t.taskId === 'pick')!;
    assert.deepEqual(followDecision(dg, pick, 'a'), ['a']);
    assert.deepEqual(followDecision(dg, pick, ['a', 'b', 'a']), ['a', 'b']);
    assert.deepEqual(followDecision(dg, pick, null), []);
    assert.deepEqual(followDecision(dg, pick, 'c'), ['c'], 'a task further downstream is downstream too');
    assert.throws(() => followDecision(dg, pick, 'nope'), /branch task pick returned "nope": "nope" is not a task of DAG d\d+ \(its direct downstream tasks: a, b\)/);
    assert.throws(() => followDecision(dg, pick, 'gate'), /branch task pick returned "gate": "gate" is not downstream of it/);
    assert.throws(() => followDecision(dg, pick, 42), /branch task pick must return the id of a task downstream of it, a list of such ids, or null; it returned a number \(42\)/);
    const gate = dg.tasks.find((t) => t.taskId === 'gate')!;
    assert.deepEqual(followDecision(dg, gate, 0), []);
    assert.deepEqual(followDecision(dg, gate, 'yes'), ['s']);
    assert.equal(followDecision(dg, dg.tasks.find((t) => t.taskId === 'a')!, 'x'), null, 'other tasks record nothing');
  });
});

describe('sensors', () => {
  it('serialize with defaults; a timeout or the DAG dagRunTimeout is required', () => {
    const dg = ok(d(() => {
      sensor({ taskId: 's', timeout: 30 }, async () => true)();
      fileSensor({ taskId: 'f', path: '/tmp/x', pokeInterval: 5, mode: 'reschedule', timeout: 60, retries: 2 });
      externalTaskSensor({ taskId: 'e', externalDagId: 'other', externalTaskId: 't', timeout: 60, softFail: true, exponentialBackoff: true, maxWait: 30 });
    }));
    const t = Object.fromEntries(dg.tasks.map((x) => [x.taskId, x]));
    assert.deepEqual(t.s.sensor, { mode: 'poke', pokeInterval: 60, timeout: 30, softFail: false, exponentialBackoff: false, maxWait: null });
    assert.deepEqual([t.f.kind, t.f.retries, t.f.sensor], ['file_sensor', 2, { mode: 'reschedule', pokeInterval: 5, timeout: 60, softFail: false, exponentialBackoff: false, maxWait: null }]);
    assert.deepEqual([t.e.kind, t.e.sensor], ['external_task_sensor', { mode: 'poke', pokeInterval: 60, timeout: 60, softFail: true, exponentialBackoff: true, maxWait: 30 }]);
    const bounded = ok(d(() => sensor({ taskId: 's' }, async () => true)(), { dagRunTimeout: 600 }));
    assert.equal(bounded.dagRunTimeout, 600);
    assert.equal(bounded.tasks[0].sensor!.timeout, null);
  });
  it('misuse is an import error naming the sensor', () => {
    const cases: [() => void, RegExp, Record<string, unknown>?][] = [
      [() => sensor({ taskId: 's' }, async () => true)(), /sensor s has no timeout and its DAG has no dagRunTimeout/],
      [() => sensor({ taskId: 's', timeout: 10, pokeInterval: 0 }, async () => true)(), /sensor s: option pokeInterval: /],
      [() => sensor({ taskId: 's', timeout: 10, mode: 'wait' as never }, async () => true)(), /sensor s: option mode: expected "poke" or "reschedule"/],
      [() => sensor({ taskId: 's', timeout: -1 }, async () => true)(), /sensor s: option timeout/],
      [() => fileSensor({ taskId: 'f', path: '  ', timeout: 10 }), /task f: fileSensor path is empty/],
      [() => externalTaskSensor({ taskId: 'e', externalDagId: '', timeout: 10 }), /task e: externalTaskSensor needs externalDagId/],
      [() => externalTaskSensor({ taskId: 'e', externalDagId: 'x', externalTaskId: 't', allowedStates: ['done'], timeout: 10 }), /task e: externalTaskSensor allowedStates must list task states/],
      [() => sensor({ taskId: 's' }, async () => true)(), /dagRunTimeout: expected a positive number of seconds/, { dagRunTimeout: -5 }],
    ];
    for (const [body, want, extra] of cases) {
      const ps = problems(d(body, extra));
      assert.ok(ps.some((p) => want.test(p.message)), `${want}: ${JSON.stringify(ps.map((p) => p.message))}`);
    }
  });
  it('poke delays: fixed, or doubling from pokeInterval up to maxWait (and a day)', () => {
    const s = { pokeInterval: 5, exponentialBackoff: false, maxWait: null };
    assert.deepEqual([1, 2, 3].map((n) => pokeDelaySeconds(s, n)), [5, 5, 5]);
    const e = { ...s, exponentialBackoff: true };
    assert.deepEqual([1, 2, 3, 4].map((n) => pokeDelaySeconds(e, n)), [5, 10, 20, 40]);
    assert.deepEqual([1, 2, 3, 4].map((n) => pokeDelaySeconds({ ...e, maxWait: 15 }, n)), [5, 10, 15, 15]);
    assert.equal(pokeDelaySeconds(e, 1000), 86_400);
  });
  it('sense: pokes with backoff until the condition holds; times out at the timeout, the last wait cut to fit', async () => {
    let clock = 0;
    const waits: string[] = [];
    const base = { db: null as never, k: { dagId: 'd', runId: 'r', taskId: 's', mapIndex: -1 }, tryNumber: 1, reschedule: false, signal: new AbortController().signal, now: () => clock };
    const sensorOf = (o: object) => ({ mode: 'poke' as const, pokeInterval: 0.01, timeout: null, softFail: false, exponentialBackoff: true, maxWait: null, ...o });
    let pokes = 0;
    const r = await sense({ ...base, sensor: sensorOf({ pokeInterval: 0.1 }), log: (m) => waits.push(m) }, async () => (++pokes >= 4 ? 'done' : 0));
    assert.deepEqual([r.value, pokes], ['done', 4]);
    assert.deepEqual(waits.slice(0, 3).map((m) => /poking again in ([\d.]+)s/.exec(m)?.[1]), ['0.1', '0.2', '0.4'], 'exponential backoff');
    assert.match(waits[3], /poke 4: the condition holds/);
    // Time moves 1 s per poke (fake clock): with a 2.5 s timeout the sensor gives up after its third poke.
    const log: string[] = [];
    await assert.rejects(
      sense({ ...base, sensor: sensorOf({ exponentialBackoff: false, timeout: 2.5, pokeInterval: 0.001 }), log: (m) => log.push(m) }, async () => ((clock += 1000), false)),
      (e: Error) => e instanceof SensorTimeout && /sensor s timed out: its condition did not hold within 2\.5s \(timeout\) after 3 pokes/.test(e.message),
    );
    // Reschedule mode: the first unmet poke ends the run with the next poke time (pokeInterval × 2^(n−1), capped by the time left).
    clock = 10_000;
    const db = { selectFrom: () => ({ select: () => ({ where: () => ({ where: () => ({ executeTakeFirst: async () => ({ first: new Date(8_000).toISOString(), n: 2 }) }) }) }) }) };
    let first: string | null = null;
    await assert.rejects(
      sense({ ...base, db: db as never, reschedule: true, sensor: sensorOf({ pokeInterval: 1, timeout: 6 }), log: () => {}, onFirstStart: (s) => (first = s) }, async () => false),
      (e: Error) => e instanceof SensorReschedule && e.poke === 3 && e.at.getTime() === 10_000 + 4_000,
    );
    assert.equal(first, new Date(8_000).toISOString(), 'the first poke of the try, from its earlier runs');
    await assert.rejects(
      sense({ ...base, db: db as never, reschedule: true, sensor: sensorOf({ pokeInterval: 1, timeout: 3 }), log: () => {} }, async () => false),
      (e: Error) => e instanceof SensorReschedule && e.at.getTime() === 10_000 + 1_000,
      'the next poke never lands past the timeout',
    );
  });

  it('a file sensor finds a path, or the first name matching a glob', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-fs-'));
    assert.equal(findPath(path.join(dir, 'a.csv')), null);
    assert.equal(findPath(path.join(dir, '*.csv')), null);
    writeFileSync(path.join(dir, 'b.csv'), '');
    writeFileSync(path.join(dir, 'a.csv'), '');
    writeFileSync(path.join(dir, 'c.txt'), '');
    assert.equal(findPath(path.join(dir, 'a.csv')), path.join(dir, 'a.csv'));
    assert.equal(findPath(path.join(dir, '*.csv')), path.join(dir, 'a.csv'));
    assert.equal(findPath(path.join(dir, '[bc].*')), path.join(dir, 'b.csv'));
    assert.equal(findPath(path.join(dir, '?.txt')), path.join(dir, 'c.txt'));
    assert.equal(findPath(path.join(dir, 'missing', '*.csv')), null);
  });
});
