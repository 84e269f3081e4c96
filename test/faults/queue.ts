// The queue executor with two `floe worker`s on a Redis of its own: Redis is restarted mid-run (without
// persistence, so every job in it is lost) and one worker is SIGKILLed with its task processes, while CPU
// burners overload the machine. Counted: the exactly-once counts, from the bodies' records and the database.
import path from 'node:path';
import { sleep } from '../../src/util/time.ts';
import { startFloe } from '../helpers/floe.ts';
import { OwnRedis, queueScheduler, runFinished, runScheduler, startTestWorker, type WorkerProc, workerEnv } from '../queue/helpers.ts';
import { BODY_SOURCE, exactlyOnceRows, type FaultRow, row, startBurners } from './common.ts';

const S = 'queue (BullMQ)';
const TASKS = 150;

export async function queueScenario(): Promise<FaultRow[]> {
  const redis = await OwnRedis.start();
  const h = await startFloe('sqlite', { config: { core: { parallelism: 8 }, scheduler: { zombieThreshold: 5, taskHeartbeatInterval: 0.5 } } });
  const execLog = path.join(h.home, 'executions.log');
  const prefix = 'faults';
  const tasks = Array.from({ length: TASKS }, (_, i) => `task({ taskId: 't${String(i).padStart(3, '0')}', retries: 4, retryDelay: 0.2 }, body(${50 + (i % 5) * 60}))();`);
  h.writeDag('drain.ts', `${BODY_SOURCE}\ndag({ dagId: 'drain', schedule: null }, () => {\n  ${tasks.join('\n  ')}\n});\n`);
  const parsed = await h.parse();
  if (parsed.errors.length) throw new Error(`DAG file: ${JSON.stringify(parsed.errors)}`);
  const runId = await h.trigger('drain');
  const env = workerEnv(h, { redisUrl: redis.url, prefix }, { FLOE_TEST_EXEC_LOG: execLog });
  const workers: WorkerProc[] = ['wa', 'wb'].map((name) => startTestWorker(h, env, { name, queues: [{ name: 'default', concurrency: 3 }], lockDurationMs: 3000, stalledIntervalMs: 1500 }));
  const stopBurners = startBurners(2);
  let redisRestarts = 0;
  let workerKills = 0;
  try {
    const { scheduler } = queueScheduler(h, { redisUrl: redis.url, prefix, reconcileIntervalMs: 1000 });
    const faults = (async () => {
      const started = async (n: number) =>
        Number((await h.rt.db.kysely.selectFrom('task_instance').select((eb) => eb.fn.countAll<number>().as('n')).where('state', 'in', ['running', 'success']).executeTakeFirstOrThrow()).n) >= n;
      while (!(await started(TASKS / 4))) await sleep(100);
      await redis.down(); // every job in Redis is gone with it
      redisRestarts++;
      await sleep(1500);
      await redis.up();
      while (!(await started(TASKS / 2))) await sleep(100);
      await workers[0].kill(); // the worker and its task processes: their tries become zombies
      workerKills++;
      workers[0] = startTestWorker(h, env, { name: 'wc', queues: [{ name: 'default', concurrency: 3 }], lockDurationMs: 3000, stalledIntervalMs: 1500 });
    })();
    await runScheduler(scheduler, () => runFinished(h, 'drain', runId), 600_000, 'the run under queue faults');
    await faults;
  } finally {
    stopBurners();
    for (const w of workers) await w.kill();
    await redis.down();
  }
  const rows = [
    row(S, 'Redis restarts (all jobs lost)', redisRestarts, { eq: 1 }),
    row(S, 'workers SIGKILLed', workerKills, { eq: 1 }),
    ...(await exactlyOnceRows(S, h.rt.db, execLog, { minTis: TASKS })),
  ];
  await h.close();
  return rows;
}
