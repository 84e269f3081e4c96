// The floe command line, run as a user runs it (bin/floe.js in a child process).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/floe.js', import.meta.url));
let home: string;

function floe(args: string[], extraEnv: Record<string, string> = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    env: { ...process.env, FLOE_HOME: home, FLOE_DAGS_FOLDER: path.join(home, 'dags'), FLOE__LOGGING__LEVEL: 'silent', FLOE_CONFIG: '', ...extraEnv },
    cwd: home,
    encoding: 'utf8',
    timeout: 120_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(() => {
  home = mkdtempSync(path.join(tmpdir(), 'floe-cli-'));
  mkdirSync(path.join(home, 'dags'));
  writeFileSync(
    path.join(home, 'dags', 'cli.ts'),
    `import { dag, task, shell } from 'floe';
dag({ dagId: 'ok', schedule: '@daily', startDate: '2024-01-01' }, () => {
  const a = task('a', async (ctx) => ctx.logicalDate.toISOString().slice(0, 10));
  shell({ taskId: 'b', command: 'echo day={{ ds }}' }).after(a());
});
dag({ dagId: 'fails', schedule: null }, () => { task('boom', async () => { throw new Error('kaput'); })(); });
`,
  );
  writeFileSync(path.join(home, 'dags', 'broken.ts'), `throw new Error('nope');\n`);
  // What made dags test lose its last line or hang (issue #12): many concurrent tasks with trigger rules,
  // an xcomPush without await, a synchronous busy loop past its timeout.
  writeFileSync(
    path.join(home, 'dags', 'tough.ts'),
    `import { dag, task } from 'floe';
dag({ dagId: 'wide', schedule: null }, () => {
  const root = task('root', async () => 1)();
  for (let i = 0; i < 15; i++) task({ taskId: 't' + i, triggerRule: i % 2 ? 'all_done' : 'all_success' }, async (ctx, x: number) => { console.log('leaf', ctx.taskId, x); return x + i; })(root);
});
dag({ dagId: 'sloppy', schedule: null }, () => {
  task('forgets_await', async (ctx) => { ctx.ti.xcomPush('extra', 42); return 'done'; })();
  task('returns_promise', async (ctx) => ({ v: ctx.ti.xcomPull('nothing') }))();
  task('awaits', async (ctx) => { await ctx.ti.xcomPush('extra', 1); return 'ok'; })();
});
dag({ dagId: 'spins', schedule: null }, () => {
  task({ taskId: 'busy', executionTimeout: 1 }, async () => { const end = Date.now() + 600_000; while (Date.now() < end) {} return 'never'; })();
  task('quick', async () => 'ok')();
});
`,
  );
});
after(() => rmSync(home, { recursive: true, force: true }));

test('dags list and list-import-errors, as table and json', () => {
  const list = floe(['dags', 'list', '-o', 'json']);
  assert.equal(list.code, 0, list.err);
  assert.deepEqual(JSON.parse(list.out).map((d: { dag_id: string }) => d.dag_id), ['fails', 'ok', 'sloppy', 'spins', 'wide']);
  const errs = floe(['dags', 'list-import-errors']);
  assert.equal(errs.code, 0);
  assert.match(errs.out, /broken\.ts\s+1\s+Error: nope/);
  assert.match(floe(['dags', 'list', '-o', 'yaml']).err, /expected "table" or "json"/);
});

test('dags test runs a DAG and its exit code says how it ended', () => {
  const ok = floe(['dags', 'test', 'ok', '2024-03-05']);
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /run test__2024-03-05T00:00:00.000Z: success/);
  const logs = floe(['tasks', 'logs', 'ok', 'b', 'test__2024-03-05T00:00:00.000Z']);
  assert.match(logs.out, /day=2024-03-05/);
  const bad = floe(['dags', 'test', 'fails']);
  assert.equal(bad.code, 1);
  assert.match(bad.out, /boom\s+failed\s+1\s+Error: kaput/);
});

test('dags test prints its final line with many tasks; a forgotten await fails its try by name; a busy loop ends at its timeout', () => {
  const wide = floe(['dags', 'test', 'wide']);
  assert.equal(wide.code, 0, wide.out + wide.err);
  assert.match(wide.out, /run test__\S+: success\n$/);
  const sloppy = floe(['dags', 'test', 'sloppy']);
  assert.equal(sloppy.code, 1, sloppy.out + sloppy.err);
  assert.match(sloppy.out, /forgets_await\s+failed\s+1\s+Error: task forgets_await returned while ctx\.ti\.xcomPush\("extra"\) was not awaited/);
  assert.match(sloppy.out, /returns_promise\s+failed\s+1\s+Error: task returns_promise returned a value that cannot be stored as its XCom \(JSON\): its field "v" is a Promise/);
  assert.match(sloppy.out, /awaits\s+success/);
  assert.match(sloppy.out, /run test__\S+: failed\n$/);
  // (A loop left to run would outlast floe()'s 120 s limit: the call would end with no exit code.)
  const spins = floe(['dags', 'test', 'spins']);
  assert.equal(spins.code, 1, spins.out + spins.err);
  assert.match(spins.out, /busy\s+failed\s+1\s+killed: the try ran 1s \(executionTimeout\) and did not stop/);
  assert.match(spins.out, /quick\s+success/);
});

test('backfill creates and runs each interval, with plain progress lines off a terminal', () => {
  const r = floe(['dags', 'backfill', 'ok', '-s', '2024-02-01', '-e', '2024-02-03']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /backfill ok: 3 runs/);
  assert.match(r.out, /\[3\/3\] backfill__2024-02-0\dT00:00:00.000Z: success/);
  const runs = JSON.parse(floe(['dags', 'list-runs', '-d', 'ok', '-o', 'json']).out) as { run_id: string; state: string }[];
  assert.deepEqual(runs.filter((x) => x.run_id.startsWith('backfill')).map((x) => x.run_id).sort(), ['backfill__2024-02-01T00:00:00.000Z', 'backfill__2024-02-02T00:00:00.000Z', 'backfill__2024-02-03T00:00:00.000Z']);
  const states = JSON.parse(floe(['tasks', 'states-for-dag-run', 'ok', 'backfill__2024-02-02T00:00:00.000Z', '-o', 'json']).out) as { task_id: string; state: string }[];
  assert.deepEqual(states.map((s) => [s.task_id, s.state]), [['a', 'success'], ['b', 'success']]);
  const again = floe(['dags', 'backfill', 'ok', '-s', '2024-02-01', '-e', '2024-02-01']);
  assert.match(again.out, /already present/);
  // Periods whose data interval has not ended are left to the scheduler.
  const day = 86_400_000;
  const today = new Date(Math.floor(Date.now() / day) * day);
  const iso = (d: Date) => d.toISOString().slice(0, 10);
  const open = floe(['dags', 'backfill', 'ok', '-s', iso(new Date(today.getTime() - 2 * day)), '-e', iso(new Date(today.getTime() + 2 * day)), '--dry-run']);
  assert.equal(open.code, 0, open.err);
  assert.match(open.out, new RegExp(`not backfilled: 3 period\\(s\\) whose data interval has not ended yet \\(${today.toISOString().replace(/[.]/g, '\\.')}, `));
  assert.deepEqual(open.out.trim().split('\n').slice(1), [`backfill__${new Date(today.getTime() - 2 * day).toISOString()}`, `backfill__${new Date(today.getTime() - day).toISOString()}`]);
});

test('pause, trigger with conf, and clear errors for bad input', () => {
  assert.match(floe(['dags', 'pause', 'ok']).out, /ok is paused/);
  assert.equal(floe(['dags', 'pause', 'nope']).code, 1);
  const trig = floe(['dags', 'trigger', 'fails', '--conf', '[1]']);
  assert.equal(trig.code, 1);
  assert.match(trig.err, /--conf: expected a JSON object/);
  assert.match(floe(['dags', 'trigger', 'fails', '--conf', '{"a":1}', '-r', 'my_run']).out, /created run my_run of fails/);
  const badCfg = floe(['dags', 'list'], { FLOE__CORE__PARALLELISM: 'lots' });
  assert.equal(badCfg.code, 1);
  assert.match(badCfg.err, /core\.parallelism/);
  const check = floe(['db', 'check']);
  assert.equal(check.code, 0);
  assert.match(check.out, /schema: up to date/);
});

test('a paused DAG still runs what a user asks for explicitly (dags test)', () => {
  const r = floe(['dags', 'test', 'ok', '2024-04-01']);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /success/);
});

test('pools set default_pool lasts; db reset recreates every table', () => {
  floe(['pools', 'set', 'default_pool', '7']);
  const pools = JSON.parse(floe(['pools', 'list', '-o', 'json']).out) as { name: string; slots: number }[];
  assert.equal(pools.find((p) => p.name === 'default_pool')!.slots, 7);
  floe(['pools', 'set', 'etl', '2']);
  assert.match(floe(['pools', 'delete', 'etl']).out, /pool etl deleted/);
  assert.deepEqual((JSON.parse(floe(['pools', 'list', '-o', 'json']).out) as { name: string }[]).map((p) => p.name), ['default_pool']);
  const gone = floe(['pools', 'delete', 'etl']);
  assert.deepEqual([gone.code, gone.err.trim()], [1, 'error: no pool "etl"']);
  const kept = floe(['pools', 'delete', 'default_pool']);
  assert.equal(kept.code, 1);
  assert.match(kept.err, /default_pool cannot be deleted/);
  assert.equal(floe(['db', 'reset']).code, 1, 'needs --yes');
  const reset = floe(['db', 'reset', '--yes']);
  assert.equal(reset.code, 0, reset.err);
  assert.equal(JSON.parse(floe(['dags', 'list-runs', '-o', 'json']).out).length, 0);
  assert.match(floe(['db', 'check']).out, /schema: up to date/);
});
