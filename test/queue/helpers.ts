// Queue-executor test helpers: Redis (the machine's, or a private redis-server), a scheduler driven by the
// QueueExecutor, `floe worker` processes, and the task bodies' own execution log.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pino, { type Logger } from 'pino';
import { databaseUrl } from '../../src/config/load.ts';
import { jobIdFor } from '../../src/executors/queue/job-id.ts';
import { QueueExecutor, type QueueExecutorConfig } from '../../src/executors/queue/queue-executor.ts';
import type { Db } from '../../src/db/connect.ts';
import type { TIKey } from '../../src/executors/types.ts';
import { Scheduler, schedulerOptions } from '../../src/scheduler/scheduler.ts';
import { tsxExecArgv } from '../helpers/tsx.ts';
import { sleep } from '../../src/util/time.ts';
import type { FloeHarness } from '../helpers/floe.ts';

export const REDIS_URL = process.env.FLOE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const CLI_ENTRY = fileURLToPath(new URL('./cli-entry.ts', import.meta.url));
const WORKER_ENTRY = fileURLToPath(new URL('./worker-entry.ts', import.meta.url));

let available: boolean | null = null;
/** Redis is required in CI; elsewhere the queue tests are skipped with a visible message when it is down. */
export async function redisAvailable(): Promise<boolean> {
  if (available !== null) return available;
  const r = new Redis(REDIS_URL, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    available = true;
  } catch (e) {
    if (process.env.CI) throw new Error(`Redis at ${REDIS_URL} is required in CI: ${(e as Error).message}`);
    console.warn(`# SKIPPING queue executor tests: cannot connect to Redis at ${REDIS_URL} (${(e as Error).message})`);
    available = false;
  } finally {
    r.disconnect();
  }
  return available;
}

/** A key prefix of its own per test, so tests can share one Redis and run in parallel. */
export const uniquePrefix = (what: string): string => `floe-test-${what}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

/** Deletes every key under `prefix`. */
export async function deletePrefix(url: string, prefix: string): Promise<void> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  r.on('error', () => {});
  try {
    let cursor = '0';
    do {
      const [next, keys] = await r.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await r.del(...keys);
    } while (cursor !== '0');
  } finally {
    r.disconnect();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** A private redis-server without persistence (a restart loses every key), on a free port. */
export class OwnRedis {
  private proc: ChildProcess | null = null;
  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async start(): Promise<OwnRedis> {
    const r = new OwnRedis(await freePort());
    await r.up();
    return r;
  }

  async up(): Promise<void> {
    this.proc = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const c = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    c.on('error', () => {});
    for (let i = 0; i < 100; i++) {
      try {
        await c.connect();
        await c.ping();
        c.disconnect();
        return;
      } catch {
        await sleep(50);
      }
    }
    c.disconnect();
    throw new Error(`redis-server on port ${this.port} did not start`);
  }

  async down(): Promise<void> {
    const p = this.proc;
    this.proc = null;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    const exited = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await exited;
  }
}

/** A Scheduler whose executor is the QueueExecutor (what `core.executor: queue` will build). */
export function queueScheduler(h: FloeHarness, cfg: Omit<QueueExecutorConfig, 'parallelism'> & { parallelism?: number }): { scheduler: Scheduler; executor: QueueExecutor } {
  let scheduler: Scheduler | null = null;
  const log = cfg.log ?? h.rt.log;
  const executor = new QueueExecutor({ parallelism: h.rt.cfg.core.parallelism, ...cfg, log }, h.rt.db, { wake: () => scheduler?.wake() });
  scheduler = new Scheduler(schedulerOptions(h.rt, executor, { log }));
  return { scheduler, executor };
}

/** Runs `scheduler` (started here, stopped after) until `done()`; throws on timeout. */
export async function runScheduler(scheduler: Scheduler, done: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  await scheduler.start();
  const deadline = Date.now() + timeoutMs;
  let timedOut = false;
  try {
    await scheduler.run(async () => (await done()) || (timedOut = Date.now() > deadline));
  } finally {
    await scheduler.stop();
  }
  if (timedOut) throw new Error(`${what}: not done after ${timeoutMs / 1000}s`);
}

export async function runFinished(h: FloeHarness, dagId: string, runId: string): Promise<boolean> {
  const r = await h.rt.db.kysely.selectFrom('dag_run').select('state').where('dag_id', '=', dagId).where('run_id', '=', runId).executeTakeFirst();
  return r?.state === 'success' || r?.state === 'failed';
}

/** Environment for a worker process of this harness: same FLOE_HOME/DB, given queue settings. */
export function workerEnv(h: FloeHarness, queue: { redisUrl: string; prefix: string }, extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    FLOE_HOME: h.home,
    FLOE_DAGS_FOLDER: h.dagsFolder,
    FLOE_CONFIG: '',
    FLOE_DATABASE_URL: databaseUrl(h.rt.cfg),
    FLOE__QUEUE__REDIS_URL: queue.redisUrl,
    FLOE__QUEUE__PREFIX: queue.prefix,
    FLOE__SCHEDULER__TASK_HEARTBEAT_INTERVAL: String(h.rt.cfg.scheduler.taskHeartbeatInterval),
    FLOE__LOGGING__LEVEL: 'silent',
    ...extra,
  };
  return env;
}

export interface WorkerProc {
  child: ChildProcess;
  pid: number;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  /** Resolves once the output matches `re` (rejects after `timeoutMs`). */
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** SIGKILL of the worker's process group (it and its task processes), if still there. */
  kill(): Promise<void>;
}

function startProc(home: string, args: string[], env: Record<string, string>, name: string): WorkerProc {
  const logFile = path.join(home, `${name}.log`);
  const fd = openSync(logFile, 'a');
  // Own process group, so cleanup can end the worker and its task processes together.
  const child = spawn(process.execPath, [...tsxExecArgv(), ...args], { cwd: home, env: { ...process.env, ...env }, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const output = () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : '');
  return {
    child,
    pid: child.pid!,
    exited,
    output,
    async waitFor(re, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const m = output().match(re);
        if (m) return m;
        if (Date.now() > deadline) throw new Error(`${name}: no output matching ${re} within ${timeoutMs / 1000}s; output:\n${output().slice(-3000)}`);
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${name} exited (${child.exitCode ?? child.signalCode}) before printing ${re}; output:\n${output().slice(-3000)}`);
        await sleep(50);
      }
    },
    async kill() {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
      await exited;
    },
  };
}

/** `floe worker ARGS` (the real command, through test/queue/cli-entry.ts until bin/floe.js registers it). */
export function startCliWorker(h: FloeHarness, env: Record<string, string>, args: string[], name = 'worker'): WorkerProc {
  return startProc(h.home, [CLI_ENTRY, 'worker', ...args], env, name);
}

export interface TestWorkerSpec {
  queues: { name: string; concurrency: number }[];
  name: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
}

/** A QueueWorker process with test-sized BullMQ lock and stalled-check times (test/queue/worker-entry.ts). */
export function startTestWorker(h: FloeHarness, env: Record<string, string>, spec: TestWorkerSpec): WorkerProc {
  return startProc(h.home, [WORKER_ENTRY], { ...env, FLOE_TEST_WORKER_SPEC: JSON.stringify(spec) }, spec.name);
}

export interface Execution {
  taskId: string;
  tryNumber: number;
  pid: number;
  worker: string;
  start: number;
  end: number | null;
}

/** Task body helper source: appends `S|E task try pid worker ms` lines to $FLOE_TEST_EXEC_LOG. */
export const MARK_SOURCE = `import { appendFileSync } from 'node:fs';
const mark = (what, ctx) => appendFileSync(process.env.FLOE_TEST_EXEC_LOG, [what, ctx.taskId, ctx.tryNumber, process.pid, process.env.FLOE_WORKER_NAME ?? '-', Date.now()].join(' ') + '\\n');
`;

export function readExecutions(file: string): Execution[] {
  if (!existsSync(file)) return [];
  const open = new Map<string, Execution>();
  const out: Execution[] = [];
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line) continue;
    const [what, taskId, tryNumber, pid, worker, ms] = line.split(' ');
    const key = `${taskId} ${tryNumber} ${pid}`;
    if (what === 'S') {
      const e: Execution = { taskId, tryNumber: Number(tryNumber), pid: Number(pid), worker, start: Number(ms), end: null };
      open.set(key, e);
      out.push(e);
    } else {
      const e = open.get(key);
      if (e) e.end = Number(ms);
      open.delete(key);
    }
  }
  return out;
}

/** A logger that keeps its records, for asserting on what was logged. */
export function recordingLog(): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void records.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, records };
}

export async function waitUntil(what: string, cond: () => Promise<boolean> | boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(50);
  }
}

export const pidAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The BullMQ job id of a task instance's current try (its launch id included), read from its row. */
export async function currentJobId(db: Db, key: TIKey): Promise<string> {
  const row = await db.kysely
    .selectFrom('task_instance')
    .select(['try_number', 'launch_id'])
    .where('dag_id', '=', key.dagId)
    .where('run_id', '=', key.runId)
    .where('task_id', '=', key.taskId)
    .where('map_index', '=', key.mapIndex)
    .executeTakeFirstOrThrow();
  return jobIdFor(key, row.try_number, row.launch_id);
}
