// The Kubernetes executor on the dev cluster under API faults: storms of 500/503/429 answers (429 and 503 with
// Retry-After), creates that are carried out but answered with an error (a lost reply), watches cut short and
// resumed from resourceVersions that have expired (410 Gone), while CPU burners overload the machine. Counted:
// pods per launch (every pod is kept: deleteWorkerPods never), launches per try, and the exactly-once counts.
import path from 'node:path';
import { sleep } from '../../src/util/time.ts';
import { startK8sFloe } from '../kubernetes/executor/helpers.ts';
import { BODY_SOURCE, exactlyOnceRows, type FaultRow, row, startBurners } from './common.ts';

const S = 'kubernetes (dev cluster)';
const TASKS = 60;

export async function kubernetesScenario(): Promise<FaultRow[]> {
  const k = await startK8sFloe({ deleteWorkerPods: 'never', podLaunchFailureRetries: 5, taskPublishMaxRetries: 10 }, { core: { parallelism: 12 } });
  const execLog = path.join(k.h.home, 'executions.log');
  const stopBurners = startBurners(2);
  try {
    const tasks = Array.from({ length: TASKS }, (_, i) => `task({ taskId: 't${String(i).padStart(2, '0')}', retries: 3, executionTimeout: 120 }, body(${100 + (i % 7) * 50}))();`);
    // Pods get a minimal environment: the file names the log itself.
    k.h.writeDag('storm.ts', `process.env.FLOE_TEST_EXEC_LOG ??= ${JSON.stringify(execLog)};\n${BODY_SOURCE}\ndag({ dagId: 'storm', schedule: null }, () => {\n  ${tasks.join('\n  ')}\n});\n`);
    const parsed = await k.h.parse();
    if (parsed.errors.length) throw new Error(`DAG file: ${JSON.stringify(parsed.errors)}`);
    const runId = await k.h.trigger('storm');
    let storms = 0;
    let expiries = 0;
    let lostReplies = 0;
    let stop = false;
    // Faults while the run goes on: a storm of errors, lost create replies, and watches cut and sent back to
    // resourceVersions the store no longer holds.
    const faults = (async () => {
      await sleep(500);
      while (!stop) {
        k.cluster.faults.set({ errorRate: 0.3, errorCodes: [500, 503, 429], retryAfterSeconds: 1, seed: storms + 1 });
        storms++;
        await sleep(1500);
        k.cluster.faults.set({ errorRate: 0, failAfterWriteNext: 2, closeWatchAfterMs: 700, eventWindow: 20 });
        lostReplies += 2;
        await sleep(1500);
        k.cluster.faults.set({ goneNext: 1, closeWatchAfterMs: 0 });
        expiries++;
        await sleep(1000);
      }
      k.cluster.faults.clear();
    })();
    await k.h.runUntilRunDone('storm', runId, 600_000);
    stop = true;
    await faults;
    const { items } = await k.core.listNamespacedPod({ namespace: 'default', labelSelector: 'floe.dev/dag-id=storm' });
    const perLaunch = new Map<string, number>();
    for (const p of items) {
      const a = p.metadata!.annotations!;
      const id = `${a['floe.dev/task-id']} ${a['floe.dev/try-number']} ${a['floe.dev/launch-id']}`;
      perLaunch.set(id, (perLaunch.get(id) ?? 0) + 1);
    }
    const tries = await k.h.rt.db.kysely.selectFrom('task_instance_history').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', runId).executeTakeFirstOrThrow();
    const relaunches = await k.h.rt.db.kysely.selectFrom('task_launch_failure').select((eb) => eb.fn.countAll<number>().as('n')).where('run_id', '=', runId).executeTakeFirstOrThrow();
    return [
      row(S, 'error storms (30% of API requests failing for 1.5 s)', storms, { min: 1 }),
      row(S, 'create replies lost after the pod was stored (injected)', lostReplies),
      row(S, 'watches sent back to an expired resourceVersion (410)', expiries, { min: 1 }),
      ...(await exactlyOnceRows(S, k.h.rt.db, execLog, { minTis: TASKS })),
      row(S, 'pods created', items.length),
      row(S, 'launches with more than one pod', [...perLaunch.values()].filter((n) => n > 1).length, { eq: 0 }),
      row(S, 'pods = tries recorded + launch failures', items.length === Number(tries.n) + Number(relaunches.n) ? 1 : 0, { eq: 1 }),
      row(S, 'launch failures (relaunched tries)', Number(relaunches.n)),
    ];
  } finally {
    stopBurners();
    await k.close();
  }
}
