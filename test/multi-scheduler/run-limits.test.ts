// maxActiveRuns across schedulers: several Scheduler instances (each its own PostgreSQL connection pool, as
// separate processes have) start queued DAG runs at the same moment.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { getDag } from '../../src/cli/runtime.ts';
import { type Db, openDb } from '../../src/db/connect.ts';
import type { Executor, ExecutorEvent, TaskRef, Workload } from '../../src/executors/types.ts';
import { triggerRun } from '../../src/scheduler/dag-runs.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';
import { type FloeHarness, postgresAvailable, SDK_IMPORT, startFloe } from '../helpers/floe.ts';
import { closeHarness } from './helpers.ts';

const DAGS = 8;
const RUNS_PER_DAG = 3;

/** Takes no work: these tests are about DAG-run states only. */
class NoSlotsExecutor implements Executor {
  readonly name = 'no-slots';
  async start(): Promise<void> {}
  queue(_work: Workload): void {
    throw new Error('no slots were offered');
  }
  async sync(): Promise<ExecutorEvent[]> {
    return [];
  }
  openSlots(): number {
    return 0;
  }
  async revoke(): Promise<void> {}
  async adopt(running: TaskRef[]): Promise<TaskRef[]> {
    return running;
  }
  async stop(): Promise<void> {}
}

describe('maxActiveRuns with several schedulers (PostgreSQL)', async () => {
  const pg = await postgresAvailable();
  let h: FloeHarness;
  const dbs: Db[] = [];
  before(async () => {
    if (!pg) return;
    h = await startFloe('postgres');
    h.writeDag(
      'limited.ts',
      `${SDK_IMPORT}
for (let i = 0; i < ${DAGS}; i++) dag({ dagId: 'one_at_a_time_' + i, schedule: null, maxActiveRuns: 1 }, () => { task('t', async () => null)(); });`,
    );
    assert.deepEqual((await h.parse()).errors, []);
    for (let i = 0; i < 3; i++) dbs.push(await openDb(h.rt.db.url, { poolSize: 3 }));
  });
  after(async () => {
    await closeHarness(h, dbs);
  });

  async function queueRuns(prefix: string): Promise<void> {
    for (let i = 0; i < DAGS; i++) {
      const dag = await getDag(h.rt, `one_at_a_time_${i}`);
      for (let r = 0; r < RUNS_PER_DAG; r++)
        await triggerRun(h.rt.db.kysely, dag, { runId: `${prefix}_${r}`, logicalDate: new Date(Date.UTC(2024, 0, 1 + r, prefix === 'solo' ? 0 : 12)) });
    }
  }

  async function runningPerDag(prefix: string): Promise<Map<string, number>> {
    const rows = await h.rt.db.kysely.selectFrom('dag_run').select(['dag_id', 'state']).where('run_id', 'like', `${prefix}_%`).execute();
    const out = new Map<string, number>();
    for (const r of rows) if (r.state === 'running') out.set(r.dag_id, (out.get(r.dag_id) ?? 0) + 1);
    return out;
  }

  async function schedulers(n: number): Promise<Scheduler[]> {
    const log = pino({ level: 'silent' });
    const out = dbs.slice(0, n).map((db) => new Scheduler({ db, executor: new NoSlotsExecutor(), log, loopIntervalMs: 100, zombieThresholdMs: 60_000, healthCheckThresholdMs: 60_000 }));
    for (const s of out) await s.start();
    return out;
  }

  test('one scheduler starts one run per DAG (control)', { skip: !pg && 'PostgreSQL is not reachable' }, async () => {
    await queueRuns('solo');
    const [s] = await schedulers(1);
    await s.loopOnce();
    await s.stop();
    const running = await runningPerDag('solo');
    assert.equal(running.size, DAGS);
    for (const [dagId, n] of running) assert.equal(n, 1, dagId);
    // Finish them so the next test starts from no running run.
    await h.rt.db.kysely.updateTable('dag_run').set({ state: 'success' }).where('run_id', 'like', 'solo_%').execute();
  });

  test(
    'three schedulers looping at the same moment start at most maxActiveRuns runs per DAG',
    {
      skip: !pg && 'PostgreSQL is not reachable',
    },
    async () => {
      await queueRuns('race');
      const all = await schedulers(3);
      await Promise.all(all.map((s) => s.loopOnce()));
      for (const s of all) await s.stop();
      const running = await runningPerDag('race');
      const over = [...running].filter(([, n]) => n > 1);
      assert.deepEqual(over, [], `DAGs with more running runs than maxActiveRuns 1: ${JSON.stringify(over)}`);
    },
  );
});
