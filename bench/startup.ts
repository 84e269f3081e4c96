// Start-up cost of Floe's processes, each as a ratio to a bare `node -e ""` measured in the same run (median of
// RUNS, commands interleaved so a load change hits all alike): `floe --version`, `floe dags list` of one small
// DAG (SQLite), `floe tasks run` of a no-op TypeScript task with no tsx cache (as in a fresh pod) from process
// start to the task's own first log line, and `floe scheduler` from process start to its first loop.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchRow } from './types.ts';

const BIN = fileURLToPath(new URL('../bin/floe.js', import.meta.url));
const RUNS = Number(process.env.FLOE_BENCH_STARTUP_RUNS ?? 7);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function timeCommand(args: string[], env: NodeJS.ProcessEnv, cwd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8' });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** ms from spawning `args` until `file` contains `marker`; the process is then killed. */
async function timeUntilFile(args: string[], env: NodeJS.ProcessEnv, cwd: string, file: string, marker: RegExp, stderrMarker?: RegExp): Promise<number> {
  const t0 = process.hrtime.bigint();
  const child = spawn(process.execPath, args, { env, cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    const done = (ms: number | Error) => {
      clearInterval(poll);
      child.kill('SIGKILL');
      if (ms instanceof Error) reject(ms);
      else resolve(ms);
    };
    const check = () => {
      if (stderrMarker ? stderrMarker.test(err) : existsSync(file) && marker.test(readFileSync(file, 'utf8'))) done(Number(process.hrtime.bigint() - t0) / 1e6);
    };
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      check();
    });
    const poll = setInterval(check, 2);
    child.on('exit', (code) => setTimeout(() => done(new Error(`${args.join(' ')} exited ${code} before its marker: ${err.slice(-2000)}`)), 50));
  });
}

export async function benchStartup(): Promise<BenchRow[]> {
  const home = mkdtempSync(path.join(tmpdir(), 'floe-bench-startup-'));
  const dags = path.join(home, 'dags');
  mkdirSync(dags);
  writeFileSync(path.join(dags, 'small.ts'), `import { dag, task } from 'floe';\ndag({ dagId: 'small', schedule: null }, () => { task('noop', async (ctx) => { ctx.log('task-first-line'); return 1; })(); });\n`);
  const env = { ...process.env, FLOE_HOME: home, FLOE_DAGS_FOLDER: dags, FLOE_CONFIG: '', FLOE__LOGGING__LEVEL: 'warn' };
  try {
    // One list first: creates the database (migrations) and the DAG row the task runs need.
    timeCommand([BIN, 'dags', 'list'], env, home);
    const times = { node: [] as number[], version: [] as number[], list: [] as number[], run: [] as number[], scheduler: [] as number[] };
    for (let i = 0; i < RUNS; i++) {
      times.node.push(timeCommand(['-e', ''], env, home));
      times.version.push(timeCommand([BIN, '--version'], env, home));
      times.list.push(timeCommand([BIN, 'dags', 'list'], env, home));
      // A queued try, run as a pod runs it, with tsx's cache off (a fresh container has none).
      const runId = `bench_${i}`;
      timeCommand([BIN, 'dags', 'trigger', 'small', '-r', runId, '-e', new Date(Date.UTC(2020, 0, 1 + i)).toISOString()], env, home);
      const db = `sqlite://${path.join(home, 'floe.db')}`;
      queueTry(db, runId);
      const log = path.join(home, 'logs', 'dag_id=small', `run_id=${runId}`, 'task_id=noop', 'attempt=1.log');
      times.run.push(await timeUntilFile([BIN, 'tasks', 'run', 'small', 'noop', runId, '--try', '1'], { ...env, TSX_DISABLE_CACHE: '1' }, home, log, /task-first-line/));
      times.scheduler.push(await timeUntilFile([BIN, 'scheduler'], { ...env, FLOE__LOGGING__LEVEL: 'debug' }, home, '', /./, /"msg":"first scheduler loop done"/));
    }
    const node = median(times.node);
    const r = (metric: string, xs: number[], target: number, note?: string): BenchRow => ({
      group: 'startup',
      metric,
      value: Math.round(median(xs)),
      unit: 'ms',
      baseline: { metric: 'node -e ""', value: Math.round(node), unit: 'ms' },
      ratio: median(xs) / node,
      target: `<= ${target}x`,
      note,
    });
    return [
      r('floe --version', times.version, 2),
      r('floe dags list (one small DAG, SQLite)', times.list, 5, 'includes the DAG parser process that imports the file'),
      r('floe tasks run: start to the task\'s first log line (no tsx cache)', times.run, 5, 'claim, DAG file import with a cold tsx cache, then the task body'),
      r('floe scheduler: start to the end of its first loop', times.scheduler, 6, 'config, DB and migrations check, DAG folder parse, executor start, one loop'),
    ];
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** Moves the run's task instance to queued for try 1, as the scheduler does (the run is started too). */
function queueTry(dbUrl: string, runId: string): void {
  const file = dbUrl.slice('sqlite://'.length);
  const sql = `update dag_run set state = 'running' where run_id = '${runId}';
insert into task_instance (dag_id, run_id, task_id, map_index, state, try_number, max_tries, pool, pool_slots, queue, priority_weight, queued_at, updated_at)
  values ('small', '${runId}', 'noop', -1, 'queued', 1, 0, 'default_pool', 1, 'default', 1, '2020-01-01T00:00:00.000Z', '2020-01-01T00:00:00.000Z');`;
  const r = spawnSync(process.execPath, ['-e', `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(file)}); d.exec(${JSON.stringify(sql)}); d.close();`], { cwd: path.dirname(BIN), encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`queueing the try failed: ${r.stderr}`);
}
