// PostgreSQL restarted mid-run (`pg_ctlcluster … restart`, every connection dropped): the scheduler process and
// its task processes reconnect and carry on. Counted: the scheduler survived, and the exactly-once counts.
import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { sleep } from '../../src/util/time.ts';
import { startFloe } from '../helpers/floe.ts';
import { closeHarness, SchedulerFleet, waitFor } from '../multi-scheduler/helpers.ts';
import { BODY_SOURCE, exactlyOnceRows, type FaultRow, row } from './common.ts';

const S = 'PostgreSQL restart';
const TASKS = 80;

function restartPostgres(): void {
  const version = readdirSync('/etc/postgresql')[0];
  execFileSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'restart'], { stdio: 'ignore' });
  for (let i = 0; i < 60; i++) {
    try {
      execFileSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);
      return;
    } catch {
      execFileSync('sleep', ['0.5']);
    }
  }
  throw new Error('PostgreSQL did not come back after the restart');
}

export async function postgresScenario(): Promise<FaultRow[]> {
  const h = await startFloe('postgres');
  const execLog = path.join(h.home, 'executions.log');
  const tasks = Array.from({ length: TASKS }, (_, i) => `task({ taskId: 't${String(i).padStart(2, '0')}', retries: 3, retryDelay: 0.2 }, body(${100 + (i % 4) * 100}))();`);
  h.writeDag('pg.ts', `${BODY_SOURCE}\ndag({ dagId: 'pg', schedule: null }, () => {\n  ${tasks.join('\n  ')}\n});\n`);
  const parsed = await h.parse();
  if (parsed.errors.length) throw new Error(`DAG file: ${JSON.stringify(parsed.errors)}`);
  const runId = await h.trigger('pg');
  await h.rt.db.close(); // this process's pool would see its connections dropped too; reopened below
  const fleet = new SchedulerFleet(h.home, {
    FLOE_HOME: h.home,
    FLOE_DAGS_FOLDER: h.dagsFolder,
    FLOE_DATABASE_URL: h.rt.db.url,
    FLOE_TEST_EXEC_LOG: execLog,
    FLOE__LOGGING__LEVEL: 'warn',
    FLOE__CORE__PARALLELISM: '4',
    FLOE__SCHEDULER__LOOP_INTERVAL: '0.2',
    FLOE__SCHEDULER__TASK_HEARTBEAT_INTERVAL: '0.5',
    FLOE__SCHEDULER__ZOMBIE_THRESHOLD: '10',
  });
  const scheduler = fleet.start();
  const { openDb } = await import('../../src/db/connect.ts');
  let db = await openDb(h.rt.db.url);
  let restarts = 0;
  try {
    const count = async (states: string[]) =>
      Number((await db.kysely.selectFrom('task_instance').select((eb) => eb.fn.countAll<number>().as('n')).where('state', 'in', states).executeTakeFirstOrThrow()).n);
    await waitFor(async () => (await count(['success'])) >= TASKS / 3, 300_000, () => fleet.logs(), 100);
    await db.close();
    restartPostgres();
    restarts++;
    await sleep(1000);
    db = await openDb(h.rt.db.url);
    await waitFor(
      async () => ['success', 'failed'].includes((await db.kysely.selectFrom('dag_run').select('state').where('run_id', '=', runId).executeTakeFirstOrThrow()).state),
      300_000,
      () => fleet.logs(),
    );
  } finally {
    await db.close();
  }
  const alive = scheduler.child.exitCode === null && scheduler.child.signalCode === null;
  await fleet.stopAll(5000);
  const logs = fleet.logs();
  const { openRuntime } = await import('../../src/cli/runtime.ts');
  const rt = await openRuntime({ cfg: h.rt.cfg, migrate: false });
  const rows = [row(S, 'PostgreSQL restarts mid-run', restarts, { eq: 1 }), row(S, 'scheduler process still running after it', alive ? 1 : 0, { eq: 1 }), ...(await exactlyOnceRows(S, rt.db, execLog, { minTis: TASKS }))];
  if (rows.some((r) => !r.ok)) process.stderr.write(`${S}: scheduler log\n${logs}\n`);
  await closeHarness({ ...h, rt });
  return rows;
}
