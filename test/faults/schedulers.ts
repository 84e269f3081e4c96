// Three `floe scheduler` processes on one PostgreSQL database while CPU burners overload the machine: one
// scheduler is SIGKILLed at random moments (and replaced) again and again, one is paused with SIGSTOP past
// scheduler.healthCheckThreshold and resumed. Counted from the bodies' own records and the database.
import path from 'node:path';
import { sleep } from '../../src/util/time.ts';
import { startFloe } from '../helpers/floe.ts';
import { closeHarness, dagIdOf, POOLS, SchedulerFleet, type SchedulerProc, waitFor, writeDagFiles } from '../multi-scheduler/helpers.ts';
import { BODY_SOURCE, exactlyOnceRows, type FaultRow, randomIn, row, startBurners } from './common.ts';

const S = 'schedulers (3, PostgreSQL)';
const DAGS = 25;
const TASKS = 20;
const KILLS = 10;
const LIMITED_RUNS = 6;
const HEALTH_CHECK_S = 6;

export async function schedulersScenario(): Promise<FaultRow[]> {
  const h = await startFloe('postgres');
  const execLog = path.join(h.home, 'executions.log');
  for (const p of POOLS) await h.rt.db.kysely.insertInto('pool').values({ name: p.name, slots: p.slots, description: null }).execute();
  // A task instance can lose a try to each kill (zombie) and one to the pause: enough retries for all of them.
  writeDagFiles(h.writeDag, DAGS, 5, TASKS, KILLS + 2);
  h.writeDag('limited.ts', `${BODY_SOURCE}\ndag({ dagId: 'limited', schedule: null, maxActiveRuns: 1, defaultArgs: { retries: ${KILLS + 2}, retryDelay: 0.1 } }, () => { chain(task('a', body(300))(), task('b', body(300))(), task('c', body(300))()); });\n`);
  const parsed = await h.parse();
  if (parsed.errors.length) throw new Error(`DAG files: ${JSON.stringify(parsed.errors)}`);
  for (let r = 0; r < LIMITED_RUNS; r++) await h.trigger('limited');
  // Besides each DAG's @once run, a manual run (whose bodies take longer): 1,000+ task instances in all.
  for (let i = 0; i < DAGS; i++) await h.trigger(dagIdOf(i));

  const fleet = new SchedulerFleet(h.home, {
    FLOE_HOME: h.home,
    FLOE_DAGS_FOLDER: h.dagsFolder,
    FLOE_DATABASE_URL: h.rt.db.url,
    FLOE_TEST_EXEC_LOG: execLog,
    FLOE__LOGGING__LEVEL: 'warn',
    FLOE__CORE__PARALLELISM: '3',
    FLOE__SCHEDULER__LOOP_INTERVAL: '0.2',
    FLOE__SCHEDULER__DAG_DIR_LIST_INTERVAL: '600',
    FLOE__SCHEDULER__TASK_HEARTBEAT_INTERVAL: '0.5',
    FLOE__SCHEDULER__ZOMBIE_THRESHOLD: '4',
    FLOE__SCHEDULER__HEALTH_CHECK_THRESHOLD: String(HEALTH_CHECK_S),
  });
  const stopBurners = startBurners(2);
  let peakLimited = 0;
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const r = await h.rt.db.kysely.selectFrom('dag_run').select((eb) => eb.fn.countAll<number>().as('n')).where('dag_id', '=', 'limited').where('state', '=', 'running').executeTakeFirstOrThrow();
      peakLimited = Math.max(peakLimited, Number(r.n));
      await sleep(25);
    }
  })();
  const kills: number[] = [];
  let pauses = 0;
  const finished = async () => {
    const r = await h.rt.db.kysely.selectFrom('dag_run').select((eb) => eb.fn.countAll<number>().as('n')).where('state', 'in', ['success', 'failed']).executeTakeFirstOrThrow();
    return Number(r.n) >= 2 * DAGS + LIMITED_RUNS;
  };
  try {
    for (let i = 0; i < 3; i++) fleet.start();
    await waitFor(async () => (await h.rt.db.kysely.selectFrom('task_instance').select('state').where('state', '=', 'running').limit(1).execute()).length > 0, 120_000, () => fleet.logs(), 50);
    for (let k = 0; k < KILLS; k++) {
      await sleep(randomIn(300, 2500));
      const alive = fleet.alive();
      const victim = alive[Math.floor(Math.random() * alive.length)];
      victim.child.kill('SIGKILL');
      kills.push(Date.now());
      await victim.exited;
      fleet.start();
      if (k === Math.floor(KILLS / 2)) {
        // One scheduler paused past the health threshold: the others declare it dead and take its queued tries.
        const paused: SchedulerProc = fleet.alive()[0];
        process.kill(paused.pid, 'SIGSTOP');
        await sleep((HEALTH_CHECK_S + 3) * 1000);
        process.kill(paused.pid, 'SIGCONT');
        pauses++;
      }
    }
    await waitFor(finished, 600_000, () => `runs not finished\n${fleet.logs()}`);
    await sleep(1500); // more loops must change nothing
  } finally {
    sampling = false;
    await sampler;
    stopBurners();
    await fleet.stopAll(5000);
  }
  const rows = [
    row(S, 'schedulers SIGKILLed (and replaced)', kills.length, { min: KILLS }),
    row(S, 'schedulers paused past the health threshold', pauses, { eq: 1 }),
    ...(await exactlyOnceRows(S, h.rt.db, execLog, { minTis: 1000 })),
    row(S, `peak running runs of a maxActiveRuns: 1 DAG (${LIMITED_RUNS} runs)`, peakLimited, { max: 1 }),
  ];
  const dead = await h.rt.db.kysely.selectFrom('job').select((eb) => eb.fn.countAll<number>().as('n')).where('state', '=', 'dead').executeTakeFirstOrThrow();
  rows.push(row(S, 'scheduler jobs declared dead', Number(dead.n)));
  await closeHarness(h);
  return rows;
}
