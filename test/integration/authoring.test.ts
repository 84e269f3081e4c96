// Issue #17 end to end on the local executor (real scheduler, real task processes, SQLite): dynamic task mapping,
// branching, short-circuits and sensors, including their misuse at run time.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { getDag } from '../../src/cli/runtime.ts';
import { clearTaskInstances } from '../../src/core-queries/operations.ts';
import { taskLogPath } from '../../src/worker/task-log.ts';
import { triggerRun } from '../../src/scheduler/dag-runs.ts';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type FloeHarness, startFloe } from '../helpers/floe.ts';
import { startApi } from '../api/helpers.ts';

const IMPORT = `import { dag, task, shell, branch, shortCircuit, sensor, fileSensor, externalTaskSensor } from 'floe';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';`;

let h: FloeHarness;
const scratch = mkdtempSync(path.join(tmpdir(), 'floe-authoring-'));

before(async () => {
  h = await startFloe('sqlite', { config: { core: { maxMapLength: 6 } } });
  h.writeDag(
    'mapping.ts',
    `${IMPORT}
dag({ dagId: 'mapping', schedule: null }, () => {
  const nums = task('nums', async () => [1, 2, 3]);
  // Instance 1 fails its first try only: it alone is retried.
  const double = task({ taskId: 'double', retries: 1, retryDelay: 0 }, async (ctx, n: number) => {
    if (ctx.mapIndex === 1 && ctx.tryNumber === 1) throw new Error('flaky instance ' + ctx.mapIndex);
    return n * 2;
  });
  const doubled = double.expand(nums());
  task('sum', async (ctx, xs: number[]) => ({ xs, sum: xs.reduce((a, b) => a + b, 0), pulled: await ctx.ti.xcomPull('double') }))(doubled);
  const add = task('add', async (ctx, x: number, y: number) => x + y);
  const added = add.partial({ y: 100 }).expand({ x: doubled });
  task('collect', async (ctx, xs: number[]) => xs)(added);
  const cross = task('cross', async (ctx, o: { a: number; b: string }) => o.a + o.b).expand({ a: [1, 2], b: ['x', 'y'] });
  task('crossed', async (ctx, xs: string[]) => xs)(cross);
  const pairs = task('pairs', async () => [{ x: 2, y: 3 }, { x: 4, y: 5 }]);
  const mul = task('mul', async (ctx, o: { x: number; y: number; k: number }) => o.x * o.y * o.k).partial({ k: 10 }).expand(pairs());
  task('zipped', async (ctx, xs: number[]) => xs)(mul);
  const empty = task('empty', async () => [] as number[]);
  const never = task('never', async (ctx, n: number) => n).expand(empty());
  task('after_never', async () => 'ran')(never);
  task({ taskId: 'after_never_all_done', triggerRule: 'all_done' }, async (ctx, xs: number[]) => xs)(never);
});
dag({ dagId: 'mapping_pool', schedule: null }, () => {
  task({ taskId: 'slow', pool: 'two_slots' }, async (ctx, n: number) => { await new Promise((r) => setTimeout(r, 600)); return n; }).expand([1, 2, 3, 4, 5]);
});
dag({ dagId: 'mapping_mat', schedule: null, maxActiveTasks: 2 }, () => {
  task('slow', async (ctx, n: number) => { await new Promise((r) => setTimeout(r, 600)); return n; }).expand([1, 2, 3, 4, 5]);
});
dag({ dagId: 'mapping_bad', schedule: null }, () => {
  const notAList = task('not_a_list', async () => ({ a: 1 }));
  const m = task('m', async (ctx, n: number) => n).expand(notAList() as never);
  task('after_m', async () => 1)(m);
  const many = task('many', async () => [1, 2, 3, 4, 5, 6, 7]);
  task('too_many', async (ctx, n: number) => n).expand(many());
});`,
  );
  h.writeDag(
    'branching.ts',
    `${IMPORT}
dag({ dagId: 'branching', schedule: null, params: { which: 'a' } }, () => {
  const pick = branch('pick', async (ctx) => ctx.params.which as string | string[]);
  const a = task('a', async () => 'A')();
  const b = task('b', async () => 'B')();
  const afterB = task('after_b', async () => 'after b')().after(b);
  pick().before([a, b]);
  task({ taskId: 'join', triggerRule: 'none_failed_min_one_success' }, async () => 'joined')().after(a, afterB);
  task('strict_join', async () => 'strict')().after(a, afterB);
});
dag({ dagId: 'gates', schedule: null, params: { go: false } }, () => {
  const gate = shortCircuit('gate', async (ctx) => ctx.params.go);
  const x = task('x', async () => 1)().after(gate());
  task({ taskId: 'y', triggerRule: 'all_done' }, async () => 2)().after(x);
  const soft = shortCircuit({ taskId: 'soft_gate', ignoreDownstreamTriggerRules: false }, async (ctx) => ctx.params.go);
  const x2 = task('x2', async () => 1)().after(soft());
  task({ taskId: 'y2', triggerRule: 'all_done' }, async () => 2)().after(x2);
});`,
  );
  h.writeDag(
    'sensing.ts',
    `${IMPORT}
const dir = ${JSON.stringify(scratch)};
dag({ dagId: 'sensing', schedule: null }, () => {
  // Poke mode: the condition holds on the third poke (counted in a file: pokes of one try share no memory in reschedule mode).
  sensor({ taskId: 'third_time', pokeInterval: 0.2, timeout: 30 }, async (ctx) => {
    const f = dir + '/pokes-' + ctx.runId.replace(/[^a-z0-9]/gi, '');
    const n = existsSync(f) ? Number(readFileSync(f, 'utf8')) + 1 : 1;
    writeFileSync(f, String(n));
    return n >= 3 ? 'found on poke ' + n : false;
  })();
  // Reschedule mode in a one-slot pool with the task that creates the file: it can only run if the sensor gives its
  // slot back. The sensor is queued first (task ids in order: await_file < make_file).
  const marker = dir + '/ready-{{ run_id }}';
  const wait = fileSensor({ taskId: 'await_file', path: marker.replace('{{ run_id }}', '{{ ds_nodash }}*'), pokeInterval: 0.5, timeout: 60, mode: 'reschedule', pool: 'one_slot' });
  const make = task({ taskId: 'make_file', pool: 'one_slot' }, async (ctx) => {
    await new Promise((r) => setTimeout(r, 1500));
    writeFileSync(dir + '/ready-' + ctx.logicalDate.toISOString().slice(0, 10).replace(/-/g, '') + '-x', 'ok');
    return 'made';
  })();
  task('after_wait', async (ctx, p: string) => p)(wait);
  void make;
  sensor({ taskId: 'never', pokeInterval: 0.2, timeout: 1, retries: 3, retryDelay: 0 }, async () => false)();
  sensor({ taskId: 'never_soft', pokeInterval: 0.2, timeout: 1, softFail: true, mode: 'reschedule' }, async () => false)();
  sensor({ taskId: 'throws', pokeInterval: 0.2, timeout: 5, retries: 1, retryDelay: 0 }, async (ctx) => { if (ctx.tryNumber === 1) throw new Error('poke broke'); return true; })();
});
dag({ dagId: 'upstream_dag', schedule: null }, () => {
  task('produce', async () => 'produced')();
  task('broken', async () => { throw new Error('broken on purpose'); })();
});
dag({ dagId: 'downstream_dag', schedule: null }, () => {
  externalTaskSensor({ taskId: 'wait_produce', externalDagId: 'upstream_dag', externalTaskId: 'produce', pokeInterval: 0.3, timeout: 30, mode: 'reschedule' });
  externalTaskSensor({ taskId: 'wait_broken', externalDagId: 'upstream_dag', externalTaskId: 'broken', failedStates: ['failed'], pokeInterval: 0.3, timeout: 30 });
  externalTaskSensor({ taskId: 'wait_run', externalDagId: 'upstream_dag', allowedStates: ['failed'], pokeInterval: 0.3, timeout: 30 });
});
dag({ dagId: 'timed_out', schedule: null, dagRunTimeout: 2 }, () => {
  const s = sensor({ taskId: 'forever', pokeInterval: 0.3, mode: 'reschedule' }, async () => false)();
  task('after', async () => 1)().after(s);
});`,
  );
  const parsed = await h.parse();
  assert.deepEqual(parsed.errors, []);
  await h.rt.db.kysely.insertInto('pool').values([{ name: 'one_slot', slots: 1, description: null }, { name: 'two_slots', slots: 2, description: null }]).execute();
});
after(() => h.close());

const xcom = async (dagId: string, runId: string, taskId: string, mapIndex = -1, key = 'return_value') => {
  const r = await h.rt.db.kysely.selectFrom('xcom').select('value').where('dag_id', '=', dagId).where('run_id', '=', runId).where('task_id', '=', taskId).where('map_index', '=', mapIndex).where('key', '=', key).executeTakeFirst();
  return r ? JSON.parse(r.value) : undefined;
};
const instances = async (dagId: string, runId: string) =>
  h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'map_index', 'state', 'try_number', 'reason']).where('dag_id', '=', dagId).where('run_id', '=', runId).orderBy('task_id').orderBy('map_index').execute();
const statesOf = async (dagId: string, runId: string) => Object.fromEntries((await instances(dagId, runId)).map((r) => [r.map_index >= 0 ? `${r.task_id}[${r.map_index}]` : r.task_id, r.state]));

describe('dynamic task mapping', () => {
  let runId: string;
  before(async () => {
    runId = await h.trigger('mapping');
    await h.runUntilRunDone('mapping', runId, 90_000);
  });

  test('one instance per element (map index 0..n-1), created at run time; the downstream task gets the results in order', async () => {
    const s = await statesOf('mapping', runId);
    assert.deepEqual(
      Object.keys(s).filter((k) => k.startsWith('double')),
      ['double[0]', 'double[1]', 'double[2]'],
      'the placeholder (map index -1) became instance 0',
    );
    assert.deepEqual(await xcom('mapping', runId, 'sum'), { xs: [2, 4, 6], sum: 12, pulled: [2, 4, 6] });
    assert.deepEqual(await xcom('mapping', runId, 'double', 2), 6);
    const [run] = (await h.runs('mapping')).filter((r) => r.run_id === runId);
    assert.equal(run.state, 'success');
  });

  test('a failing instance is retried alone; the others ran once', async () => {
    const tis = (await instances('mapping', runId)).filter((r) => r.task_id === 'double');
    assert.deepEqual(tis.map((r) => [r.map_index, r.state, r.try_number]), [[0, 'success', 1], [1, 'success', 2], [2, 'success', 1]]);
    const hist = (await h.history('mapping', runId)).filter((r) => r.task_id === 'double');
    assert.equal(hist.length, 4, 'one history row per try of each instance');
    const log1 = readFileSync(taskLogPath(h.rt.cfg.logging.logsFolder!, { dagId: 'mapping', runId, taskId: 'double', mapIndex: 1 }, 1), 'utf8');
    assert.match(log1, /flaky instance 1/, 'each instance logs to its own map_index=N folder');
  });

  test('the API and the CLI address a mapped instance by its map index', async () => {
    const api = await startApi(h.rt.db, h.rt.cfg);
    try {
      const base = `/api/v1/dags/mapping/dagRuns/${encodeURIComponent(runId)}/taskInstances`;
      const list = await api.call('GET', base);
      assert.deepEqual(list.json.taskInstances.filter((t: { taskId: string }) => t.taskId === 'double').map((t: { mapIndex: number }) => t.mapIndex), [0, 1, 2]);
      const one = await api.call('GET', `${base}/double?mapIndex=1`);
      assert.equal(one.status, 200, one.text);
      assert.deepEqual([one.json.mapIndex, one.json.tries.map((t: { state: string }) => t.state)], [1, ['up_for_retry', 'success']]);
      const log = await api.call('GET', `${base}/double/logs/1?mapIndex=1`);
      assert.match(log.text, /flaky instance 1/);
      const none = await api.call('GET', `${base}/double`);
      assert.equal(none.status, 404, 'the placeholder (map index -1) is gone once the task expanded');
      const xc = await api.call('GET', `${base}/double/xcomEntries?mapIndex=2`);
      assert.equal(xc.status, 200, xc.text);
      assert.deepEqual(xc.json.xcomEntries.map((e: { key: string; value: unknown }) => [e.key, e.value]), [['return_value', 6]]);
    } finally {
      await api.close();
    }
    const bin = fileURLToPath(new URL('../../bin/floe.js', import.meta.url));
    const env = { ...process.env, FLOE_HOME: h.home, FLOE_CONFIG: '', FLOE_DAGS_FOLDER: h.dagsFolder, FLOE__LOGGING__LEVEL: 'silent' };
    const logs = spawnSync(process.execPath, [bin, 'tasks', 'logs', 'mapping', 'double', runId, '--map-index', '1', '--try', '1'], { env, encoding: 'utf8' });
    assert.equal(logs.status, 0, logs.stderr);
    assert.match(logs.stdout, /flaky instance 1/);
    const states = spawnSync(process.execPath, [bin, 'tasks', 'states-for-dag-run', 'mapping', runId, '-o', 'json'], { env, encoding: 'utf8' });
    const rows = (JSON.parse(states.stdout) as { task_id: string; map_index: number; try_number: number }[]).filter((r) => r.task_id === 'double');
    assert.deepEqual(rows.map((r) => [r.map_index, r.try_number]), [[0, 1], [1, 2], [2, 1]]);
    const test1 = spawnSync(process.execPath, [bin, 'tasks', 'test', 'mapping', 'add', runId, '--map-index', '2'], { env, encoding: 'utf8' });
    assert.equal(test1.status, 0, test1.stderr);
    assert.equal(JSON.parse(test1.stdout).value, 106, 'tasks test runs one instance with its element from the run');
    const bare = spawnSync(process.execPath, [bin, 'tasks', 'test', 'mapping', 'add', runId], { env, encoding: 'utf8' });
    assert.match(bare.stderr, /task add is mapped: give --map-index N/);
  });

  test('mapped instances are queued one by one within pools and maxActiveTasks', async () => {
    for (const dagId of ['mapping_pool', 'mapping_mat']) {
      const id = await h.trigger(dagId);
      await h.runUntilRunDone(dagId, id, 60_000);
      const tries = await h.rt.db.kysely.selectFrom('task_instance_history').select(['map_index', 'start_date', 'end_date']).where('dag_id', '=', dagId).where('run_id', '=', id).execute();
      assert.deepEqual(tries.map((t) => t.map_index).sort(), [0, 1, 2, 3, 4], dagId);
      // The most tries running at once, from their recorded intervals.
      const edges = tries.flatMap((t) => [[Date.parse(t.start_date!), 1], [Date.parse(t.end_date!), -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      let now = 0;
      let most = 0;
      for (const [, d] of edges) most = Math.max(most, (now += d));
      assert.equal(most, 2, `${dagId}: at most 2 instances at once, and 2 did run together`);
    }
  });

  test('partial constants, mapping over a mapped result, a cross product and a list of objects (zip)', async () => {
    assert.deepEqual(await xcom('mapping', runId, 'collect'), [102, 104, 106]);
    assert.deepEqual(await xcom('mapping', runId, 'crossed'), ['1x', '1y', '2x', '2y']);
    assert.deepEqual(await xcom('mapping', runId, 'zipped'), [60, 200]);
  });

  test('an empty list skips the mapped task; trigger rules carry the skip on', async () => {
    const tis = await instances('mapping', runId);
    const never = tis.filter((r) => r.task_id === 'never');
    assert.deepEqual(never.map((r) => [r.map_index, r.state]), [[-1, 'skipped']]);
    assert.match(never[0].reason ?? '', /empty list/);
    assert.equal(tis.find((r) => r.task_id === 'after_never')!.state, 'skipped');
    assert.equal(tis.find((r) => r.task_id === 'after_never_all_done')!.state, 'success');
    assert.deepEqual(await xcom('mapping', runId, 'after_never_all_done'), []);
  });

  test('mapping over a value that is not a list, or past core.maxMapLength, fails the mapped task with the reason', async () => {
    const bad = await h.trigger('mapping_bad');
    await h.runUntilRunDone('mapping_bad', bad, 60_000);
    const tis = await instances('mapping_bad', bad);
    const m = tis.find((r) => r.task_id === 'm')!;
    assert.deepEqual([m.map_index, m.state], [-1, 'failed']);
    assert.match(m.reason!, /task m is mapped over the result of task not_a_list, which must be a list \(an array\) but is an object \(\{"a":1\}\)/);
    assert.equal(tis.find((r) => r.task_id === 'after_m')!.state, 'upstream_failed');
    const many = tis.find((r) => r.task_id === 'too_many')!;
    assert.equal(many.state, 'failed');
    assert.match(many.reason!, /task too_many would be mapped into 7 instances, more than the 6 allowed \(core\.maxMapLength\)/);
    assert.equal((await h.runs('mapping_bad')).find((r) => r.run_id === bad)!.state, 'failed');
  });

  test('clearing a whole mapped task expands it again; clearing one instance runs that instance again', async () => {
    const dag = await getDag(h.rt, 'mapping');
    const one = await clearTaskInstances(h.rt.db.kysely, dag, { runId, taskIds: ['add'], onlyFailed: false });
    assert.deepEqual(one.cleared.map((c) => c.mapIndex), [0, 1, 2]);
    const rows = (await instances('mapping', runId)).filter((r) => r.task_id === 'add');
    assert.deepEqual(rows.map((r) => [r.map_index, r.state]), [[-1, 'none']], 'back to its placeholder');
    await h.runUntilRunDone('mapping', runId, 60_000);
    const again = (await instances('mapping', runId)).filter((r) => r.task_id === 'add');
    assert.deepEqual(again.map((r) => [r.map_index, r.state]), [[0, 'success'], [1, 'success'], [2, 'success']]);
    assert.deepEqual(await xcom('mapping', runId, 'collect'), [102, 104, 106]);
  });
});

describe('branching and short-circuit', () => {
  test('a branch follows the task it returns; the others are skipped and the skip propagates by trigger rules', async () => {
    const runId = await h.trigger('branching', { which: 'a' });
    await h.runUntilRunDone('branching', runId, 60_000);
    const s = await statesOf('branching', runId);
    assert.deepEqual(s, { a: 'success', after_b: 'skipped', b: 'skipped', join: 'success', pick: 'success', strict_join: 'skipped' });
    const b = (await instances('branching', runId)).find((r) => r.task_id === 'b')!;
    assert.equal(b.reason, 'skipped: branch pick followed a');
    assert.deepEqual(await xcom('branching', runId, 'pick', -1, 'skipmixin_key'), { followed: ['a'] });
    assert.equal((await h.runs('branching')).find((r) => r.run_id === runId)!.state, 'success');
  });

  test('a branch may follow several tasks', async () => {
    const runId = await h.trigger('branching', { which: ['a', 'b'] });
    await h.runUntilRunDone('branching', runId, 60_000);
    assert.deepEqual(await statesOf('branching', runId), { a: 'success', after_b: 'success', b: 'success', join: 'success', pick: 'success', strict_join: 'success' });
  });

  test('a branch returning an unknown task id fails, naming the branch and the id', async () => {
    const runId = await h.trigger('branching', { which: 'nope' });
    await h.runUntilRunDone('branching', runId, 60_000);
    const pick = (await instances('branching', runId)).find((r) => r.task_id === 'pick')!;
    assert.equal(pick.state, 'failed');
    assert.match(pick.reason!, /branch task pick returned "nope": "nope" is not a task of DAG branching \(its direct downstream tasks: a, b\)/);
    assert.equal((await statesOf('branching', runId)).join, 'upstream_failed');
  });

  test('a falsy short-circuit skips everything downstream; with ignoreDownstreamTriggerRules false only its direct downstream', async () => {
    const runId = await h.trigger('gates', { go: false });
    await h.runUntilRunDone('gates', runId, 60_000);
    assert.deepEqual(await statesOf('gates', runId), { gate: 'success', soft_gate: 'success', x: 'skipped', x2: 'skipped', y: 'skipped', y2: 'success' });
    const go = await h.trigger('gates', { go: true });
    await h.runUntilRunDone('gates', go, 60_000);
    assert.deepEqual(await statesOf('gates', go), { gate: 'success', soft_gate: 'success', x: 'success', x2: 'success', y: 'success', y2: 'success' });
  });
});

describe('sensors', () => {
  let runId: string;
  before(async () => {
    runId = await h.trigger('sensing');
    await h.runUntilRunDone('sensing', runId, 90_000);
  });

  test('poke mode: the try pokes every pokeInterval until the condition holds; its value is the XCom', async () => {
    const ti = (await instances('sensing', runId)).find((r) => r.task_id === 'third_time')!;
    assert.deepEqual([ti.state, ti.try_number], ['success', 1]);
    assert.equal(await xcom('sensing', runId, 'third_time'), 'found on poke 3');
    const log = readFileSync(taskLogPath(h.rt.cfg.logging.logsFolder!, { dagId: 'sensing', runId, taskId: 'third_time', mapIndex: -1 }, 1), 'utf8');
    assert.match(log, /poke 2: condition not met; poking again in 0\.2s/);
    assert.match(log, /poke 3: the condition holds/);
  });

  test('reschedule mode gives the pool slot back between pokes (the file maker shares a one-slot pool) and keeps its try number', async () => {
    const tis = await instances('sensing', runId);
    const wait = tis.find((r) => r.task_id === 'await_file')!;
    assert.deepEqual([wait.state, wait.try_number], ['success', 1]);
    assert.equal(tis.find((r) => r.task_id === 'make_file')!.state, 'success');
    const found = await xcom('sensing', runId, 'after_wait');
    assert.ok(typeof found === 'string' && found.startsWith(scratch) && existsSync(found), String(found));
    const pokes = await h.rt.db.kysely.selectFrom('task_reschedule').selectAll().where('run_id', '=', runId).where('task_id', '=', 'await_file').execute();
    assert.ok(pokes.length >= 1, 'at least one poke found nothing and gave its slot back');
    assert.ok(pokes.every((p) => p.try_number === 1));
    const hist = (await h.history('sensing', runId)).filter((r) => r.task_id === 'await_file');
    assert.deepEqual(hist.map((r) => [r.try_number, r.state]), [[1, 'success']], 'one try in the history, however many pokes');
    const log = readFileSync(taskLogPath(h.rt.cfg.logging.logsFolder!, { dagId: 'sensing', runId, taskId: 'await_file', mapIndex: -1 }, 1), 'utf8');
    assert.match(log, /poke 1: condition not met; next poke at .* \(the slot is given back until then\)/);
    assert.match(log, /poke \d+: the condition holds/, 'every poke of the try appends to the same log');
    const hrow = await h.rt.db.kysely.selectFrom('task_instance_history').select('start_date').where('run_id', '=', runId).where('task_id', '=', 'await_file').executeTakeFirstOrThrow();
    assert.equal(hrow.start_date, pokes.map((p) => p.start_date).sort()[0], "the try's start is its first poke");
  });

  test('a sensor that times out fails without using its retries; softFail skips it; an error in a poke is retried', async () => {
    const tis = await instances('sensing', runId);
    const never = tis.find((r) => r.task_id === 'never')!;
    assert.deepEqual([never.state, never.try_number], ['failed', 1]);
    assert.match(never.reason!, /sensor never timed out: its condition did not hold within 1s \(timeout\) after \d+ pokes/);
    const soft = tis.find((r) => r.task_id === 'never_soft')!;
    assert.deepEqual([soft.state, soft.try_number], ['skipped', 1]);
    assert.match(soft.reason!, /timed out.*skipped \(softFail\)/);
    const throws = tis.find((r) => r.task_id === 'throws')!;
    assert.deepEqual([throws.state, throws.try_number], ['success', 2]);
  });

  test('the external task sensor waits for another DAG task at the same logical date; failedStates fail it', async () => {
    const logicalDate = new Date(Date.now() - 3_600_000);
    const down = await triggerRun(h.rt.db.kysely, await getDag(h.rt, 'downstream_dag'), { logicalDate });
    // The downstream run starts first and waits; the upstream run at the same logical date comes later.
    const runUp = async () => triggerRun(h.rt.db.kysely, await getDag(h.rt, 'upstream_dag'), { logicalDate });
    const started = Date.now();
    let upId: string | null = null;
    await h.runUntil(async () => {
      if (!upId && Date.now() - started > 1500) upId = await runUp();
      const r = await h.rt.db.kysely.selectFrom('dag_run').select('state').where('dag_id', '=', 'downstream_dag').where('run_id', '=', down).executeTakeFirst();
      return r?.state === 'success' || r?.state === 'failed';
    }, { timeoutMs: 60_000 });
    const tis = await instances('downstream_dag', down);
    const produce = tis.find((r) => r.task_id === 'wait_produce')!;
    assert.deepEqual([produce.state, produce.try_number], ['success', 1]);
    const broken = tis.find((r) => r.task_id === 'wait_broken')!;
    assert.equal(broken.state, 'failed');
    assert.match(broken.reason!, /upstream_dag\.broken at logical date .* is failed, one of the failedStates \(failed\)/);
    assert.equal(tis.find((r) => r.task_id === 'wait_run')!.state, 'success', 'a whole run in an allowed state');
  });

  test('dagRunTimeout fails the run and skips what had not finished, a rescheduled sensor included', async () => {
    const id = await h.trigger('timed_out');
    await h.runUntilRunDone('timed_out', id, 60_000);
    assert.equal((await h.runs('timed_out')).find((r) => r.run_id === id)!.state, 'failed');
    const tis = await instances('timed_out', id);
    assert.deepEqual(tis.map((r) => [r.task_id, r.state]), [['after', 'skipped'], ['forever', 'skipped']]);
    assert.match(tis.find((r) => r.task_id === 'forever')!.reason!, /DAG run timed out \(dagRunTimeout\)/);
  });
});

