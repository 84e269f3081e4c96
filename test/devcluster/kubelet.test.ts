// The process kubelet through the official client: real local processes, status as the kubelet reports
// it, logs (client-node Log), restart policies, init containers, env sources, image rule, OOM, scheduling,
// graceful deletion, deadlines, pause/resume.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { Log, type V1Pod } from '@kubernetes/client-node';
import { expectApiError, podSpec, startHarness, waitFor, waitPhase, type Harness } from './helpers.ts';

let h: Harness;
let binDir: string;
const ns = 'default';

before(async () => {
  binDir = mkdtempSync(path.join(os.tmpdir(), 'floe-dc-bin-'));
  // A command that exists only through pathPrepend, like `floe` from the repo's bin.
  writeFileSync(path.join(binDir, 'floe-hello'), '#!/bin/sh\necho "hello from $FLOE_GREETING $1"\n');
  chmodSync(path.join(binDir, 'floe-hello'), 0o755);
  h = await startHarness({
    nodes: [
      { cpu: '2', memory: '4Gi' },
      { name: 'gpu-node', cpu: '2', memory: '4Gi', labels: { accel: 'gpu' }, taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] },
    ],
    imageRule: (image) => !image.startsWith('missing/'),
    oomPollMs: 50,
    pathPrepend: [binDir],
    env: { FLOE_GREETING: 'floe' },
  });
});
after(async () => {
  await h.cluster.stop();
  rmSync(binDir, { recursive: true, force: true });
});

async function logs(name: string, container = 'base', opts: { previous?: boolean; tailLines?: number } = {}): Promise<string> {
  const out = new PassThrough();
  let text = '';
  out.on('data', (c: Buffer) => (text += c.toString()));
  const ended = new Promise((r) => out.on('end', r));
  await new Log(h.kc).log(ns, name, container, out, { follow: false, ...opts });
  await ended;
  return text;
}

async function events(name: string): Promise<string[]> {
  const list = await h.core.listNamespacedEvent({ namespace: ns, fieldSelector: `involvedObject.name=${name}` });
  return list.items.map((e) => `${e.reason}: ${e.message}`);
}

describe('running containers as processes', () => {
  it("sh -c 'echo hi; exit 3' ends Failed with exitCode 3 and the log 'hi'", async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('exit3', ['sh', '-c', 'echo hi; exit 3']) });
    const pod = await waitPhase(h.core, 'exit3', ['Succeeded', 'Failed']);
    assert.equal(pod.status!.phase, 'Failed');
    const cs = pod.status!.containerStatuses![0];
    assert.equal(cs.state!.terminated!.exitCode, 3);
    assert.equal(cs.state!.terminated!.reason, 'Error');
    assert.ok(cs.state!.terminated!.startedAt && cs.state!.terminated!.finishedAt);
    assert.equal(await logs('exit3'), 'hi\n');
    assert.ok(pod.status!.podIP && pod.status!.hostIP && pod.status!.startTime);
    assert.equal(pod.spec!.nodeName, 'floe-dev-node-1');
    const conds = Object.fromEntries(pod.status!.conditions!.map((c) => [c.type, c.status]));
    assert.deepEqual({ s: conds.PodScheduled, i: conds.Initialized, r: conds.Ready }, { s: 'True', i: 'True', r: 'False' });
    const ev = await events('exit3');
    for (const r of ['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']) assert.ok(ev.some((e) => e.startsWith(`${r}:`)), `${r} in ${ev}`);
  });

  it('runs command+args with env, $(VAR) expansion, workingDir, pathPrepend and the cluster env', async () => {
    const work = mkdtempSync(path.join(os.tmpdir(), 'floe-dc-wd-'));
    try {
      const body = podSpec('envs', ['sh', '-c'], {}, { team: 'data' });
      body.spec!.containers[0].args = ['echo "$A|$B|$(A)|$POD|$NS|$LBL|$(pwd)|$HOSTNAME"; floe-hello "$A"'];
      body.spec!.containers[0].workingDir = work;
      body.spec!.containers[0].env = [
        { name: 'A', value: 'one' },
        { name: 'B', value: '$(A)-two' },
        { name: 'POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'NS', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
        { name: 'LBL', valueFrom: { fieldRef: { fieldPath: "metadata.labels['team']" } } },
      ];
      await h.core.createNamespacedPod({ namespace: ns, body });
      const pod = await waitPhase(h.core, 'envs', ['Succeeded', 'Failed']);
      assert.equal(pod.status!.phase, 'Succeeded', await logs('envs'));
      assert.equal(await logs('envs'), `one|one-two|one|envs|default|data|${work}|envs\nhello from floe one\n`);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });

  it('stdout and stderr both reach the log; tailLines and previous work', async () => {
    await h.core.createNamespacedPod({
      namespace: ns,
      body: podSpec('restarts', ['sh', '-c', 'echo "run $(cat n 2>/dev/null || echo 0)"; echo oops >&2; n=$(cat n 2>/dev/null || echo 0); echo $((n+1)) > n; [ "$n" -ge 1 ]'], { restartPolicy: 'OnFailure' }),
    });
    const pod = await waitPhase(h.core, 'restarts', ['Succeeded', 'Failed']);
    assert.equal(pod.status!.phase, 'Succeeded');
    const cs = pod.status!.containerStatuses![0];
    assert.equal(cs.restartCount, 1);
    assert.equal(cs.lastState!.terminated!.exitCode, 1);
    assert.equal(cs.state!.terminated!.reason, 'Completed');
    assert.equal(await logs('restarts'), 'run 1\noops\n');
    assert.equal(await logs('restarts', 'base', { previous: true }), 'run 0\noops\n');
    assert.equal(await logs('restarts', 'base', { tailLines: 1 }), 'oops\n');
  });

  it('restartPolicy Always restarts a finished container with back-off (CrashLoopBackOff), Never does not', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('always', ['sh', '-c', 'exit 1'], { restartPolicy: 'Always' }) });
    const looping = await waitFor('restartCount >= 2', async () => {
      const p = await h.core.readNamespacedPod({ name: 'always', namespace: ns });
      return (p.status?.containerStatuses?.[0]?.restartCount ?? 0) >= 2 ? p : undefined;
    });
    assert.equal(looping.status!.phase, 'Running');
    await waitFor('CrashLoopBackOff', async () => {
      const p = await h.core.readNamespacedPod({ name: 'always', namespace: ns });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff';
    });
    assert.ok((await events('always')).some((e) => e.startsWith('BackOff: Back-off restarting failed container base')));
    await h.core.deleteNamespacedPod({ name: 'always', namespace: ns, gracePeriodSeconds: 0 });
  });

  it('init containers run first, in order; the pod succeeds when all containers do', async () => {
    const marker = path.join(mkdtempSync(path.join(os.tmpdir(), 'floe-dc-init-')), 'order');
    const step = (n: string) => ['sh', '-c', `echo ${n} >> ${marker}`];
    const body: V1Pod = {
      metadata: { name: 'inits' },
      spec: {
        restartPolicy: 'Never',
        initContainers: [
          { name: 'i1', image: 'busybox', command: ['sh', '-c', `sleep 0.2; echo i1 >> ${marker}`] },
          { name: 'i2', image: 'busybox', command: step('i2') },
        ],
        containers: [
          { name: 'main', image: 'busybox', command: step('main') },
          { name: 'side', image: 'busybox', command: ['sh', '-c', `sleep 0.1; echo side >> ${marker}`] },
        ],
      },
    };
    await h.core.createNamespacedPod({ namespace: ns, body });
    const pod = await waitPhase(h.core, 'inits', ['Succeeded', 'Failed']);
    assert.equal(pod.status!.phase, 'Succeeded');
    assert.deepEqual(readFileSync(marker, 'utf8').trim().split('\n').slice(0, 2), ['i1', 'i2']);
    assert.deepEqual(readFileSync(marker, 'utf8').trim().split('\n').slice(2).sort(), ['main', 'side']);
    assert.deepEqual(pod.status!.initContainerStatuses!.map((s) => [s.name, s.state!.terminated!.reason]), [['i1', 'Completed'], ['i2', 'Completed']]);
    rmSync(path.dirname(marker), { recursive: true, force: true });
  });

  it('a failing init container with restartPolicy Never fails the pod; the containers never start', async () => {
    const body: V1Pod = {
      metadata: { name: 'badinit' },
      spec: { restartPolicy: 'Never', initContainers: [{ name: 'i', image: 'busybox', command: ['sh', '-c', 'exit 7'] }], containers: [{ name: 'main', image: 'busybox', command: ['true'] }] },
    };
    await h.core.createNamespacedPod({ namespace: ns, body });
    const pod = await waitPhase(h.core, 'badinit', ['Failed']);
    assert.equal(pod.status!.initContainerStatuses![0].state!.terminated!.exitCode, 7);
    assert.equal(pod.status!.containerStatuses![0].state!.waiting!.reason, 'PodInitializing');
  });

  it('an unknown executable is a StartError (exit 128)', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('noexec', ['/definitely/not/here']) });
    const pod = await waitPhase(h.core, 'noexec', ['Failed']);
    const t = pod.status!.containerStatuses![0].state!.terminated!;
    assert.equal(t.reason, 'StartError');
    assert.equal(t.exitCode, 128);
    assert.match(t.message!, /\/definitely\/not\/here/);
  });
});

describe('images, config and resources', () => {
  it('a missing image gives ErrImagePull, then ImagePullBackOff, with events', async () => {
    const body = podSpec('noimage', ['true']);
    body.spec!.containers[0].image = 'missing/thing:1';
    await h.core.createNamespacedPod({ namespace: ns, body });
    const reasons = new Set<string>();
    await waitFor('ImagePullBackOff', async () => {
      const p = await h.core.readNamespacedPod({ name: 'noimage', namespace: ns });
      const r = p.status?.containerStatuses?.[0]?.state?.waiting?.reason;
      if (r) reasons.add(r);
      return r === 'ImagePullBackOff' ? p : undefined;
    });
    const pod = await h.core.readNamespacedPod({ name: 'noimage', namespace: ns });
    assert.equal(pod.status!.phase, 'Pending');
    const ev = await events('noimage');
    assert.ok(ev.some((e) => e.startsWith('Failed: Failed to pull image "missing/thing:1"')), ev.join('\n'));
    assert.ok(ev.includes('Failed: Error: ErrImagePull'));
    assert.ok(ev.includes('BackOff: Back-off pulling image "missing/thing:1"'));
    assert.ok(ev.includes('Failed: Error: ImagePullBackOff'));
    const evList = await h.core.listNamespacedEvent({ namespace: ns, fieldSelector: 'involvedObject.name=noimage,reason=Failed' });
    const io = evList.items[0].involvedObject;
    assert.deepEqual([io.kind, io.name, io.namespace, io.uid, io.fieldPath], ['Pod', 'noimage', ns, pod.metadata!.uid, 'spec.containers{base}']);
    assert.equal(evList.items[0].source!.component, 'kubelet');
    const logErr = await fetch(`${h.cluster.url}/api/v1/namespaces/${ns}/pods/noimage/log`);
    assert.equal(logErr.status, 400);
    assert.match(((await logErr.json()) as { message: string }).message, /is waiting to start: (ErrImagePull|ImagePullBackOff)/);
  });

  it('env from ConfigMaps and Secrets; a missing one is CreateContainerConfigError until it appears', async () => {
    const body = podSpec('cfg', ['sh', '-c', 'echo "$FROM_CM $FROM_SECRET $P_x $OPT"']);
    body.spec!.containers[0].env = [
      { name: 'FROM_CM', valueFrom: { configMapKeyRef: { name: 'app-cfg', key: 'greeting' } } },
      { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'app-secret', key: 'token' } } },
      { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'nope', key: 'k', optional: true } } },
    ];
    body.spec!.containers[0].envFrom = [{ prefix: 'P_', configMapRef: { name: 'app-cfg' } }];
    await h.core.createNamespacedPod({ namespace: ns, body });
    const waiting = await waitFor('CreateContainerConfigError', async () => {
      const p = await h.core.readNamespacedPod({ name: 'cfg', namespace: ns });
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    });
    assert.equal(waiting.message, 'configmap "app-cfg" not found');
    await h.core.createNamespacedConfigMap({ namespace: ns, body: { metadata: { name: 'app-cfg' }, data: { greeting: 'hello', x: 'X' } } });
    const w2 = await waitFor('secret error', async () => {
      const p = await h.core.readNamespacedPod({ name: 'cfg', namespace: ns });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.message?.includes('secret') ? p.status!.containerStatuses![0].state!.waiting : undefined;
    });
    assert.equal(w2!.message, 'secret "app-secret" not found');
    await h.core.createNamespacedSecret({ namespace: ns, body: { metadata: { name: 'app-secret' }, stringData: { other: 'y' } } });
    await waitFor('missing key error', async () => {
      const p = await h.core.readNamespacedPod({ name: 'cfg', namespace: ns });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.message === `couldn't find key token in Secret ${ns}/app-secret`;
    });
    await h.core.replaceNamespacedSecret({ name: 'app-secret', namespace: ns, body: { metadata: { name: 'app-secret' }, stringData: { token: 's3cret' } } });
    const pod = await waitPhase(h.core, 'cfg', ['Succeeded', 'Failed']);
    assert.equal(pod.status!.phase, 'Succeeded');
    assert.equal(await logs('cfg'), 'hello s3cret X \n');
    assert.ok((await events('cfg')).includes('Failed: Error: configmap "app-cfg" not found'));
  });

  it('a container over its memory limit is OOMKilled (exit 137)', async () => {
    // Grows ~400 MB/s, sampled every 50 ms: it is caught a few MB over the limit.
    const body = podSpec('oom', [process.execPath, '-e', 'const a = []; setInterval(() => a.push(Buffer.alloc(8 * 1024 * 1024, 1)), 20);']);
    body.spec!.containers[0].resources = { limits: { memory: '96Mi' } };
    await h.core.createNamespacedPod({ namespace: ns, body });
    const pod = await waitPhase(h.core, 'oom', ['Failed'], ns, 30_000);
    const t = pod.status!.containerStatuses![0].state!.terminated!;
    assert.deepEqual([t.reason, t.exitCode], ['OOMKilled', 137]);
  });

  it('pods whose requests do not fit stay Pending (Unschedulable) until capacity frees up', async () => {
    const hog = podSpec('hog', ['sleep', '30']);
    hog.spec!.containers[0].resources = { requests: { cpu: '1500m' } };
    await h.core.createNamespacedPod({ namespace: ns, body: hog });
    await waitPhase(h.core, 'hog', ['Running']);
    const big = podSpec('big', ['true']);
    big.spec!.containers[0].resources = { requests: { cpu: '1' } };
    await h.core.createNamespacedPod({ namespace: ns, body: big });
    const cond = await waitFor('Unschedulable', async () => {
      const p = await h.core.readNamespacedPod({ name: 'big', namespace: ns });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.reason === 'Unschedulable');
    });
    assert.equal(cond.status, 'False');
    assert.match(cond.message!, /^0\/2 nodes are available: 1 Insufficient cpu, 1 node\(s\) had untolerated taint \{dedicated: gpu\}\./);
    assert.ok((await events('big')).some((e) => e.startsWith('FailedScheduling: 0/2 nodes are available')));
    assert.equal((await h.core.readNamespacedPod({ name: 'big', namespace: ns })).status!.phase, 'Pending');
    await h.core.deleteNamespacedPod({ name: 'hog', namespace: ns, gracePeriodSeconds: 0 });
    const done = await waitPhase(h.core, 'big', ['Succeeded']);
    assert.equal(done.spec!.nodeName, 'floe-dev-node-1');
  });

  it('nodeSelector and tolerations choose the tainted node', async () => {
    const body = podSpec('gpu', ['true'], {
      nodeSelector: { accel: 'gpu' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }],
    });
    await h.core.createNamespacedPod({ namespace: ns, body });
    const pod = await waitPhase(h.core, 'gpu', ['Succeeded']);
    assert.equal(pod.spec!.nodeName, 'gpu-node');
    assert.equal(pod.status!.hostIP, '127.0.0.2');
  });
});

describe('deletion, deadlines, pause', () => {
  it('deleting a running pod sends SIGTERM, sets deletionTimestamp, and removes it when the process exits', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('term', ['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo ready; while true; do sleep 0.1; done']) });
    await waitFor('ready', async () => (await logs('term').catch(() => '')).includes('ready'));
    const deleting = (await h.core.deleteNamespacedPod({ name: 'term', namespace: ns })) as V1Pod;
    assert.ok(deleting.metadata!.deletionTimestamp, 'a graceful deletion answers with deletionTimestamp set');
    assert.equal(deleting.metadata!.deletionGracePeriodSeconds, 30);
    await waitFor('pod gone', async () => (await expectApiError(h.core.readNamespacedPod({ name: 'term', namespace: ns }))).code === 404);
  });

  it('a process ignoring SIGTERM is SIGKILLed after the grace period', async () => {
    const pidFile = path.join(os.tmpdir(), `floe-dc-stubborn-${process.pid}`);
    // `$$$$`: Kubernetes expands `$$` in command/args to `$`, so the shell sees `$$` (its pid).
    try {
      await h.core.createNamespacedPod({ namespace: ns, body: podSpec('stubborn', ['sh', '-c', `trap "" TERM; echo $$$$ > ${pidFile}; while true; do sleep 0.1; done`]) });
      const pid = await waitFor('pid file', () => (existsSync(pidFile) && /^\d+\n$/.test(readFileSync(pidFile, 'utf8')) ? Number(readFileSync(pidFile, 'utf8')) : undefined));
      const deleting = (await h.core.deleteNamespacedPod({ name: 'stubborn', namespace: ns, gracePeriodSeconds: 1 })) as V1Pod;
      assert.equal(deleting.metadata!.deletionGracePeriodSeconds, 1);
      await waitFor('pod gone', async () => (await expectApiError(h.core.readNamespacedPod({ name: 'stubborn', namespace: ns }))).code === 404);
      assert.throws(() => process.kill(pid, 0), /ESRCH/);
      assert.ok((await events('stubborn')).includes('Killing: Stopping container base'));
    } finally {
      rmSync(pidFile, { force: true });
    }
  });

  it('activeDeadlineSeconds fails the pod with DeadlineExceeded', async () => {
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('deadline', ['sleep', '30'], { activeDeadlineSeconds: 1, terminationGracePeriodSeconds: 1 }) });
    const pod = await waitPhase(h.core, 'deadline', ['Failed']);
    assert.equal(pod.status!.reason, 'DeadlineExceeded');
  });

  it('a paused kubelet leaves new pods Pending; resume runs them', async () => {
    h.cluster.kubelet.pause();
    assert.equal(h.cluster.kubelet.paused, true);
    await h.core.createNamespacedPod({ namespace: ns, body: podSpec('paused', ['true']) });
    await new Promise((r) => setTimeout(r, 300));
    const p = await h.core.readNamespacedPod({ name: 'paused', namespace: ns });
    assert.equal(p.status!.phase, 'Pending');
    assert.equal(p.spec!.nodeName, undefined);
    h.cluster.kubelet.resume();
    await waitPhase(h.core, 'paused', ['Succeeded']);
  });
});
