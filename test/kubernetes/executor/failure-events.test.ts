// A try ended by its pod carries the pod's recent Kubernetes events: in its reason (`floe tasks
// states-for-dag-run`) and in its task log. Listing them may fail without delaying or losing the try's end.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { taskLogPath } from '../../../src/worker/task-log.ts';
import { SDK_IMPORT } from '../../helpers/floe.ts';
import { BIN_DIR, type K8sHarness, NEEDS_DEV_CLUSTER, startK8sFloe } from './helpers.ts';

const DAG = `${SDK_IMPORT}
dag({ dagId: 'evented', schedule: null }, () => {
  task({ taskId: 'bad_image', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', image: 'missing/image:7' }] } } } }, async () => 1)();
  task({ taskId: 'unschedulable', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', resources: { requests: { cpu: '64' } } }] } } } }, async () => 1)();
  task('exit_code', async () => { console.log('about-to-exit'); process.exit(7); })();
});`;

describe('kubernetes executor: failed pods report their events', () => {
  let k: K8sHarness;
  before(async () => {
    k = await startK8sFloe({ deleteWorkerPods: 'never', podLaunchFailureRetries: 1, podPendingTimeout: 2 });
    k.h.writeDag('evented.ts', DAG);
    assert.deepEqual((await k.h.parse()).errors, []);
  });
  after(() => k.close());

  const logOf = (runId: string, taskId: string) => readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'evented', runId, taskId, mapIndex: -1 }, 1), 'utf8');

  test('image pull and pending-timeout failures carry the pod events in the reason, the CLI and the task log', async () => {
    const runId = await k.h.trigger('evented');
    await k.h.runUntilRunDone('evented', runId, 120_000);
    const tis = await k.h.tis('evented', runId);

    const bad = tis.get('bad_image')!;
    assert.equal(bad.state, 'failed');
    assert.match(bad.reason!, /^ErrImagePull: container base/, 'the Kubernetes reason comes first');
    assert.match(bad.reason!, /recent pod events: .*Warning Failed: Failed to pull image "missing\/image:7"/);
    assert.match(bad.reason!, /gave up after 1 relaunches/);
    assert.ok(bad.reason!.length < 2500, `the reason stays bounded (${bad.reason!.length} chars)`);
    // Each launch failure of the try recorded its own pod's events.
    const launches = await k.h.rt.db.kysely.selectFrom('task_launch_failure').select('reason').where('run_id', '=', runId).where('task_id', '=', 'bad_image').execute();
    assert.equal(launches.length, 2);
    for (const l of launches) assert.match(l.reason, /recent pod events: .*Failed to pull image "missing\/image:7"/);

    const un = tis.get('unschedulable')!;
    assert.equal(un.state, 'failed');
    assert.match(un.reason!, /^pending timeout: Unschedulable/);
    assert.match(un.reason!, /recent pod events: Warning FailedScheduling: 0\/\d+ nodes are available: .*Insufficient cpu/);

    // A task failure: the runner's own log stays, the pod's exit and events follow it.
    const exit = tis.get('exit_code')!;
    assert.equal(exit.state, 'failed');
    assert.match(exit.reason!, /exit code 7/);
    assert.doesNotMatch(exit.reason!, /recent pod events/, 'a pod with only Normal events adds none to the reason');

    const cli = spawnSync(process.execPath, [path.join(BIN_DIR, 'floe.js'), 'tasks', 'states-for-dag-run', 'evented', runId, '-o', 'json'], {
      env: { ...process.env, FLOE_HOME: k.h.home, FLOE_CONFIG: '', FLOE_DAGS_FOLDER: k.h.dagsFolder, FLOE__LOGGING__LEVEL: 'silent' },
      encoding: 'utf8',
    });
    assert.equal(cli.status, 0, cli.stderr);
    const rows = new Map((JSON.parse(cli.stdout) as { task_id: string; reason: string }[]).map((r) => [r.task_id, r.reason]));
    assert.match(rows.get('bad_image')!, /Failed to pull image "missing\/image:7"/);
    assert.match(rows.get('unschedulable')!, /FailedScheduling/);

    const badLog = logOf(runId, 'bad_image');
    // Two launches of try 1, each with its pod's reason and events, one event a line.
    assert.equal(badLog.match(/EXECUTOR pod default\/\S+ ended this try: ErrImagePull: container base/g)?.length, 2, badLog);
    assert.match(badLog, /EXECUTOR recent events of pod \S+ \(oldest first\):\n.*EXECUTOR {3}\S+Z Normal Scheduled: /);
    assert.match(badLog, /EXECUTOR {3}\S+Z Warning Failed: Failed to pull image "missing\/image:7": /);
    const unLog = logOf(runId, 'unschedulable');
    assert.match(unLog, /EXECUTOR pod default\/\S+ ended this try: pending timeout: Unschedulable/);
    assert.match(unLog, /EXECUTOR {3}\S+Z Warning FailedScheduling: 0\/\d+ nodes are available/);
    const exitLog = logOf(runId, 'exit_code');
    assert.match(exitLog, /about-to-exit[^]*EXECUTOR pod default\/\S+ ended this try: container base terminated with exit code 7/);
    assert.match(exitLog, /EXECUTOR {3}\S+Z Normal Started: Started container base/, 'the task log keeps every event');
  });

  test('when the events cannot be listed, the try still ends at once with its reason alone', { skip: NEEDS_DEV_CLUSTER }, async () => {
    k.h.writeDag('one.ts', `${SDK_IMPORT}
dag({ dagId: 'no_events', schedule: null }, () => {
  task({ taskId: 'bad_image', executorConfig: { podOverride: { spec: { containers: [{ name: 'base', image: 'missing/other:1' }] } } } }, async () => 1)();
});`);
    assert.deepEqual((await k.h.parse()).errors, []);
    const runId = await k.h.trigger('no_events');
    k.cluster.faults.set({ errorRate: 1, errorCodes: [500], errorPathPattern: '/events', retryAfterSeconds: 0 });
    try {
      await k.h.runUntilRunDone('no_events', runId, 60_000);
    } finally {
      k.cluster.faults.clear();
    }
    const bad = (await k.h.tis('no_events', runId)).get('bad_image')!;
    assert.equal(bad.state, 'failed');
    assert.match(bad.reason!, /^ErrImagePull: container base/);
    assert.doesNotMatch(bad.reason!, /recent pod events/);
    const log = readFileSync(taskLogPath(k.h.rt.cfg.logging.logsFolder!, { dagId: 'no_events', runId, taskId: 'bad_image', mapIndex: -1 }, 1), 'utf8');
    assert.match(log, /EXECUTOR the pod's events could not be listed: HTTP 500/);
  });
});
