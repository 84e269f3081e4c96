// Scheduler jobs (the `job` table) as the other schedulers see them: a scheduler that stops cleanly says
// so, and a live scheduler is never taken for dead, so its queued tries are not taken over.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { type Db, openDb } from '../../src/db/connect.ts';
import type { Executor, ExecutorEvent, TaskRef, Workload } from '../../src/executors/types.ts';
import { tiKeyString } from '../../src/executors/types.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { sleep } from '../../src/util/time.ts';
import { tsxExecArgv } from '../helpers/tsx.ts';
import { type FloeHarness, PG_ADMIN_URL, postgresAvailable, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { BIN, closeHarness, waitFor } from './helpers.ts';

/** Accepts `slots` workloads and holds them (never runs them), recording every handout. */
class HoldingExecutor implements Executor {
  readonly name = 'holding';
  readonly received: Workload[] = [];
  constructor(private readonly slots: number) {}
  async start(): Promise<void> {}
  queue(work: Workload): void {
    this.received.push(work);
  }
  async sync(): Promise<ExecutorEvent[]> {
    return [];
  }
  openSlots(): number {
    return Math.max(0, this.slots - this.received.length);
  }
  async revoke(): Promise<void> {}
  async adopt(running: TaskRef[]): Promise<TaskRef[]> {
    return running;
  }
  async stop(): Promise<void> {}
}

describe('scheduler jobs', () => {
  let h: FloeHarness;
  before(async () => {
    h = await startFloe('sqlite');
  });
  after(() => h.close());

  test(
    'floe scheduler stopped with SIGTERM exits 0 and marks its job stopped',
    {},
    async () => {
      const child = spawn(process.execPath, [BIN, 'scheduler'], {
        cwd: h.home,
        env: { ...process.env, FLOE_HOME: h.home, FLOE_DAGS_FOLDER: h.dagsFolder, FLOE_CONFIG: '', FLOE__LOGGING__LEVEL: 'info' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let log = '';
      child.stderr!.on('data', (d: Buffer) => (log += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await waitFor(async () => log.includes('scheduler started'), 60_000, () => `scheduler did not start: ${log}`, 100);
        child.kill('SIGTERM');
        assert.equal(await exited, 0, log);
      } finally {
        child.kill('SIGKILL');
      }
      const job = await h.rt.db.kysely.selectFrom('job').select(['state', 'pid']).where('pid', '=', child.pid!).executeTakeFirstOrThrow();
      assert.equal(job.state, 'stopped', 'other schedulers would wait healthCheckThreshold before taking over its queued tries');
    },
  );
});

describe('scheduler liveness with a short healthCheckThreshold (PostgreSQL)', async () => {
  const pg = await postgresAvailable();
  let h: FloeHarness;
  const dbs: Db[] = [];
  before(async () => {
    if (!pg) return;
    h = await startFloe('postgres');
    h.writeDag('held.ts', `${SDK_IMPORT}\ndag({ dagId: 'held', schedule: null }, () => { for (let i = 0; i < 4; i++) task('t' + i, async () => null)(); });`);
    assert.deepEqual((await h.parse()).errors, []);
    for (let i = 0; i < 2; i++) dbs.push(await openDb(h.rt.db.url, { poolSize: 2 }));
  });
  after(async () => {
    await closeHarness(h, dbs);
  });

  test(
    'a live scheduler is not declared dead: its queued tries stay its own, and no try is handed out twice',
    {
      skip: !pg && 'PostgreSQL is not reachable',
    },
    async () => {
      const log = pino({ level: 'silent' });
      const holding = new HoldingExecutor(4);
      const opts = { log, loopIntervalMs: 100, zombieThresholdMs: 60_000, healthCheckThresholdMs: 3000 };
      const busy = new Scheduler({ ...opts, db: dbs[0], executor: holding });
      const idle = new Scheduler({ ...opts, db: dbs[1], executor: new HoldingExecutor(0) });
      await busy.start();
      await idle.start();
      await h.trigger('held');
      const until = Date.now() + 8000;
      await Promise.all([busy.run(() => Date.now() > until), idle.run(() => Date.now() > until)]);
      await busy.stop();
      await idle.stop();
      const handouts = holding.received.map((w) => `${tiKeyString(w.key)}#${w.tryNumber}`);
      assert.equal(new Set(handouts).size, handouts.length, `the same try was handed out more than once: ${handouts.join(', ')}`);
      const tis = await h.rt.db.kysely.selectFrom('task_instance').select(['task_id', 'state', 'queued_by_job_id']).execute();
      assert.deepEqual(tis.map((t) => [t.state, t.queued_by_job_id]), tis.map(() => ['queued', busy.jobId]));
      await sleep(0);
    },
  );
});

describe('a scheduler process and its PostgreSQL connections', async () => {
  const pg_ = await postgresAvailable();
  let h: FloeHarness;
  before(async () => {
    if (pg_) h = await startFloe('postgres');
  });
  after(() => closeHarness(h));

  test(
    'losing an idle pooled connection (database restart, failover, idle timeout) does not kill the process',
    {
      skip: !pg_ && 'PostgreSQL is not reachable',
    },
    async () => {
      const child = spawn(process.execPath, [...tsxExecArgv(), fileURLToPath(new URL('./db-survivor.ts', import.meta.url)), h.rt.db.url], { stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      try {
        await waitFor(async () => /backend \d+/.test(out) || child.exitCode !== null, 30_000, () => `child did not connect: ${err}`, 50);
        const backend = Number(/backend (\d+)/.exec(out)![1]);
        const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
        await admin.connect();
        await admin.query('select pg_terminate_backend($1)', [backend]);
        await admin.end();
        await sleep(500);
        child.stdin!.write('query\n');
        await waitFor(async () => out.includes('ok') || child.exitCode !== null, 10_000, () => `no answer: ${err}`, 50);
        assert.ok(out.includes('ok'), `the process died: ${err.split('\n').slice(0, 6).join('\n')}`);
        child.stdin!.end();
        assert.equal(await exited, 0);
      } finally {
        child.kill('SIGKILL');
      }
    },
  );
});
