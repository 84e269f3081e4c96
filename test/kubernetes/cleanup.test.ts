// floe kubernetes cleanup-pods against the dev cluster over HTTP: only finished Floe worker pods older than
// the limit go; pending/running pods, other pods, other namespaces and a pod recreated under the same name
// are left alone.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Command } from '@commander-js/extra-typings';
import { CoreV1Api, KubeConfig, PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { parseDuration, registerCleanup } from '../../src/cli/commands/kubernetes-cleanup.ts';
import { keepLogIn } from '../../src/cli/commands/kubernetes-cleanup-action.ts';
import { cleanupPods, isCleanupCandidate, podFinishedAt, type CleanupLog } from '../../src/kubernetes/cleanup.ts';
import { KubeApi } from '../../src/kubernetes/client.ts';
import { type DevCluster, startDevCluster } from '../../src/devcluster/index.ts';
import { taskLogPath } from '../../src/worker/task-log.ts';

const FLOE = { 'floe.dev/worker': 'true', 'floe.dev/dag-id': 'd', 'floe.dev/task-id': 't' };
const quiet: CleanupLog = { info() {}, warn() {} };
const HOUR = 3600;

function pod(name: string, command: string[], labels: Record<string, string> = FLOE, extra: Partial<V1Pod['spec']> = {}): V1Pod {
  return { metadata: { name, labels }, spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'floe:latest', command }], ...extra } as V1Pod['spec'] };
}

async function waitPhase(core: CoreV1Api, namespace: string, name: string, phases: string[]): Promise<V1Pod> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const p = await core.readNamespacedPod({ namespace, name });
    if (phases.includes(p.status?.phase ?? '')) return p;
    if (Date.now() > deadline) throw new Error(`pod ${namespace}/${name} still ${p.status?.phase}, expected ${phases.join('/')}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function names(core: CoreV1Api, namespace: string): Promise<string[]> {
  return (await core.listNamespacedPod({ namespace })).items.map((p) => p.metadata!.name!).sort();
}

describe('cleanup-pods: pure decisions', () => {
  const now = Date.parse('2026-01-01T12:00:00Z');
  const finished = (phase: string, finishedAt?: string, extra: Partial<NonNullable<V1Pod['metadata']>> = {}): V1Pod => ({
    metadata: { name: 'p', uid: 'u1', labels: FLOE, creationTimestamp: new Date('2026-01-01T08:00:00Z'), ...extra },
    status: { phase, containerStatuses: finishedAt ? [{ name: 'base', image: 'i', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, finishedAt: new Date(finishedAt) } } }] : [] },
  });

  test('age is taken from the latest container finishedAt, else creationTimestamp', () => {
    assert.equal(podFinishedAt(finished('Succeeded', '2026-01-01T11:30:00Z'))!.toISOString(), '2026-01-01T11:30:00.000Z');
    assert.equal(podFinishedAt(finished('Failed'))!.toISOString(), '2026-01-01T08:00:00.000Z');
    assert.equal(isCleanupCandidate(finished('Succeeded', '2026-01-01T11:30:00Z'), HOUR, now), false);
    assert.equal(isCleanupCandidate(finished('Succeeded', '2026-01-01T11:00:00Z'), HOUR, now), true);
    assert.equal(isCleanupCandidate(finished('Failed'), 3 * HOUR, now), true);
  });

  test('never a pod that is not finished, not Floe\'s, already being deleted, or without a UID', () => {
    for (const phase of ['Pending', 'Running', 'Unknown', undefined]) assert.equal(isCleanupCandidate({ ...finished('x', '2025-01-01T00:00:00Z'), status: { phase } }, 0, now), false, String(phase));
    assert.equal(isCleanupCandidate(finished('Succeeded', '2025-01-01T00:00:00Z', { labels: { app: 'x' } }), 0, now), false);
    assert.equal(isCleanupCandidate(finished('Succeeded', '2025-01-01T00:00:00Z', { labels: { 'floe.dev/worker': 'false' } }), 0, now), false);
    assert.equal(isCleanupCandidate(finished('Succeeded', '2025-01-01T00:00:00Z', { deletionTimestamp: new Date(now) }), 0, now), false);
    assert.equal(isCleanupCandidate(finished('Succeeded', '2025-01-01T00:00:00Z', { uid: undefined }), 0, now), false);
  });

  test('--older-than accepts seconds and s/m/h/d units, and names itself when wrong', () => {
    assert.equal(parseDuration('3600'), 3600);
    assert.equal(parseDuration('30m'), 1800);
    assert.equal(parseDuration('1h30m'), 5400);
    assert.equal(parseDuration('2d'), 172_800);
    assert.equal(parseDuration('0'), 0);
    for (const bad of ['', '1x', '-5', 'h', '1 h', '1h-'])
      assert.throws(() => parseDuration(bad), /--older-than: expected a duration such as 3600 \(seconds\), 90s, 30m, 1h, 2d or 1h30m, got/);
  });
});

describe('cleanup-pods against the dev cluster', () => {
  let cluster: DevCluster;
  let core: CoreV1Api;
  let api: KubeApi;
  let kc: KubeConfig;

  before(async () => {
    cluster = await startDevCluster({ cpu: '4', memory: '8Gi', startupDelay: 0 });
    kc = new KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
    api = new KubeApi(kc, { qps: 1000, burst: 1000 });
    await core.createNamespace({ body: { metadata: { name: 'other-ns' } } });
  });
  const logs = mkdtempSync(path.join(tmpdir(), 'floe-cleanup-logs-'));
  after(async () => {
    await cluster.stop();
    rmSync(logs, { recursive: true, force: true });
  });

  test('deletes finished Floe pods only; dry run deletes nothing; other namespaces need --namespace', async () => {
    const ns = 'default';
    await core.createNamespacedPod({ namespace: ns, body: pod('ok', ['true']) });
    await core.createNamespacedPod({ namespace: ns, body: pod('fail', ['false']) });
    await core.createNamespacedPod({ namespace: ns, body: pod('running', ['sleep', '60']) });
    await core.createNamespacedPod({ namespace: ns, body: pod('pending', ['true'], FLOE, { containers: [{ name: 'base', image: 'floe:latest', command: ['true'], resources: { requests: { cpu: '64' } } }] }) });
    await core.createNamespacedPod({ namespace: ns, body: pod('not-floe', ['true'], { app: 'other' }) });
    await core.createNamespacedPod({ namespace: 'other-ns', body: pod('elsewhere', ['true']) });
    await waitPhase(core, ns, 'ok', ['Succeeded']);
    await waitPhase(core, ns, 'fail', ['Failed']);
    await waitPhase(core, ns, 'running', ['Running']);
    await waitPhase(core, ns, 'not-floe', ['Succeeded']);
    await waitPhase(core, 'other-ns', 'elsewhere', ['Succeeded']);
    const all = ['fail', 'not-floe', 'ok', 'pending', 'running'];

    const dry = await cleanupPods(api, { namespaces: [ns], olderThanSeconds: 0, dryRun: true, log: quiet });
    assert.deepEqual(dry.deleted.sort(), ['default/fail', 'default/ok']);
    assert.equal(dry.kept, 2, 'running + pending (the non-Floe pod is not even listed)');
    assert.deepEqual(await names(core, ns), all);

    const young = await cleanupPods(api, { namespaces: [ns], olderThanSeconds: HOUR, log: quiet });
    assert.deepEqual(young, { deleted: [], kept: 4, failed: [] });
    assert.deepEqual(await names(core, ns), all);

    // Transient API errors on the deletes are retried.
    cluster.faults.set({ failNext: 2, errorCodes: [503], errorMethods: ['DELETE'], retryAfterSeconds: 0 });
    const r = await cleanupPods(api, { namespaces: [ns], olderThanSeconds: 0, log: quiet });
    cluster.faults.clear();
    assert.deepEqual(r.deleted.sort(), ['default/fail', 'default/ok']);
    assert.equal(r.kept, 2);
    assert.deepEqual(r.failed, []);
    assert.deepEqual(await names(core, ns), ['not-floe', 'pending', 'running']);
    assert.equal((await core.readNamespacedPod({ namespace: ns, name: 'running' })).status!.phase, 'Running');
    assert.deepEqual(await names(core, 'other-ns'), ['elsewhere']);

    const both = await cleanupPods(api, { namespaces: [ns, 'other-ns'], olderThanSeconds: 0, log: quiet });
    assert.deepEqual(both.deleted, ['other-ns/elsewhere']);
    assert.deepEqual(await names(core, 'other-ns'), []);
    for (const name of ['running', 'pending', 'not-floe']) await core.deleteNamespacedPod({ namespace: ns, name, gracePeriodSeconds: 0 });
  });

  test('age comes from the container finishedAt, else the creation time', async () => {
    // With the kubelet paused, the statuses written here stay as written.
    cluster.kubelet.pause();
    try {
      const ns = 'other-ns';
      const ago = (s: number) => new Date(Date.now() - s * 1000);
      const terminated = (at: Date) => [{ name: 'base', image: 'floe:latest', imageID: '', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed', finishedAt: at, startedAt: at } } }];
      for (const name of ['aged', 'fresh', 'no-containers']) await core.createNamespacedPod({ namespace: ns, body: pod(name, ['true']) });
      const setStatus = (name: string, status: V1Pod['status']) =>
        core.patchNamespacedPodStatus({ namespace: ns, name, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
      await setStatus('aged', { phase: 'Succeeded', containerStatuses: terminated(ago(2 * HOUR)) });
      await setStatus('fresh', { phase: 'Failed', containerStatuses: terminated(ago(600)) });
      await setStatus('no-containers', { phase: 'Failed', reason: 'Evicted' });

      const r = await cleanupPods(api, { namespaces: [ns], olderThanSeconds: 1800, log: quiet });
      assert.deepEqual(r, { deleted: ['other-ns/aged'], kept: 2, failed: [] });
      // Two hours later both remaining pods are old enough (no-containers by its creation time).
      const later = await cleanupPods(api, { namespaces: [ns], olderThanSeconds: 1800, log: quiet, now: Date.now() + 2 * HOUR * 1000 });
      assert.deepEqual(later.deleted.sort(), ['other-ns/fresh', 'other-ns/no-containers']);
      assert.deepEqual(await names(core, ns), []);
    } finally {
      cluster.kubelet.resume();
    }
  });

  test('a pod recreated under the same name between the list and the delete is left alone (UID precondition)', async () => {
    const ns = 'default';
    await core.createNamespacedPod({ namespace: ns, body: pod('swap', ['true']) });
    const old = await waitPhase(core, ns, 'swap', ['Succeeded']);
    // A KubeApi that, right before cleanup's delete of "swap", replaces it with a new running pod (real HTTP).
    class RacingApi extends KubeApi {
      override async call<T>(fn: (c: CoreV1Api) => Promise<T>): Promise<T> {
        const racing = new Proxy(this.core, {
          get: (target, prop, recv) => {
            if (prop !== 'deleteNamespacedPod') return Reflect.get(target, prop, recv);
            return async (req: Parameters<CoreV1Api['deleteNamespacedPod']>[0]) => {
              if (req.name === 'swap') {
                await target.deleteNamespacedPod({ namespace: ns, name: 'swap', gracePeriodSeconds: 0 });
                await target.createNamespacedPod({ namespace: ns, body: pod('swap', ['sleep', '60']) });
              }
              return target.deleteNamespacedPod(req);
            };
          },
        });
        return fn(racing);
      }
    }
    const r = await cleanupPods(new RacingApi(kc, { qps: 1000, burst: 1000 }), { namespaces: [ns], olderThanSeconds: 0, log: quiet });
    assert.deepEqual(r.deleted, []);
    assert.equal(r.kept, 1);
    const now = await core.readNamespacedPod({ namespace: ns, name: 'swap' });
    assert.notEqual(now.metadata!.uid, old.metadata!.uid);
    assert.equal(now.metadata!.deletionTimestamp, undefined);
    await core.deleteNamespacedPod({ namespace: ns, name: 'swap', gracePeriodSeconds: 0 });
  });

  test('floe kubernetes cleanup-pods prints what it deleted; --dry-run deletes nothing; bad flags are named', async () => {
    await core.createNamespacedPod({ namespace: 'default', body: pod('cli-done', ['true']) });
    await waitPhase(core, 'default', 'cli-done', ['Succeeded']);
    const out: string[] = [];
    const root = new Command().name('floe').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) });
    registerCleanup(root.command('kubernetes'), { api: () => api, namespaces: () => ['default'] });
    const run = (...args: string[]) => root.parseAsync(['node', 'floe', 'kubernetes', 'cleanup-pods', ...args]);

    await run('--older-than', '1h');
    assert.equal(out.join(''), 'deleted 0 finished Floe worker pod(s) older than 1h in default; kept 1\n', 'it finished seconds ago');
    out.length = 0;
    await run('--older-than', '0', '--dry-run');
    assert.equal(out.join(''), 'would delete pod default/cli-done\ndry run: would delete 1 finished Floe worker pod(s) older than 0 in default; kept 0\n');
    assert.deepEqual(await names(core, 'default'), ['cli-done']);
    out.length = 0;
    await run('--older-than', '0', '--namespace', 'default', '--namespace', 'other-ns');
    assert.equal(out.join(''), 'deleted pod default/cli-done\ndeleted 1 finished Floe worker pod(s) older than 0 in default, other-ns; kept 0\n');
    assert.deepEqual(await names(core, 'default'), []);

    await assert.rejects(run('--older-than', 'soon'), /--older-than: expected a duration such as 3600 \(seconds\), 90s, 30m, 1h, 2d or 1h30m, got "soon"/);
    await assert.rejects(run('--namespace', 'Bad_NS'), /--namespace: "Bad_NS" is not a valid namespace name/);
  });

  test('with a logs folder, each pod log is copied to its task log file first; a pod whose log cannot be read is kept', async () => {
    const ns = 'default';
    const tryPod = (name: string, taskId: string, text: string): V1Pod => {
      const p = pod(name, ['sh', '-c', `echo ${text}`], { ...FLOE, 'floe.dev/task-id': taskId });
      p.metadata!.annotations = { 'floe.dev/dag-id': 'd', 'floe.dev/task-id': taskId, 'floe.dev/run-id': 'manual__1', 'floe.dev/try-number': '2', 'floe.dev/map-index': '-1' };
      return p;
    };
    const key = (taskId: string) => ({ dagId: 'd', taskId, runId: 'manual__1', mapIndex: -1 });
    await core.createNamespacedPod({ namespace: ns, body: tryPod('log-copied', 'copied', 'hello-from-the-pod') });
    await core.createNamespacedPod({ namespace: ns, body: tryPod('log-exists', 'exists', 'not-this') });
    for (const name of ['log-copied', 'log-exists']) await waitPhase(core, ns, name, ['Succeeded']);
    const existing = taskLogPath(logs, key('exists'), 2);
    mkdirSync(path.dirname(existing), { recursive: true });
    writeFileSync(existing, 'written by the runner\n');
    const out: string[] = [];
    const root = new Command().name('floe').exitOverride().configureOutput({ writeOut: (s) => out.push(s), writeErr: (s) => out.push(s) });
    registerCleanup(root.command('kubernetes'), { api: () => api, namespaces: () => [ns], logsFolder: () => logs });
    await root.parseAsync(['node', 'floe', 'kubernetes', 'cleanup-pods', '--older-than', '0']);
    assert.match(out.join(''), /deleted 2 finished Floe worker pod\(s\)/);
    assert.equal(readFileSync(taskLogPath(logs, key('copied'), 2), 'utf8'), 'hello-from-the-pod\n');
    assert.equal(readFileSync(existing, 'utf8'), 'written by the runner\n', 'a log the runner wrote is not overwritten');

    await core.createNamespacedPod({ namespace: ns, body: tryPod('log-unreadable', 'unreadable', 'x') });
    await waitPhase(core, ns, 'log-unreadable', ['Succeeded']);
    cluster.faults.set({ failNext: 1, errorCodes: [500], errorPathPattern: '/log$' });
    try {
      const r = await cleanupPods(api, { namespaces: [ns], olderThanSeconds: 0, log: quiet, keepLog: keepLogIn(api, logs) });
      assert.deepEqual(r.deleted, []);
      assert.equal(r.failed.length, 1);
      assert.equal(r.failed[0].pod, 'default/log-unreadable');
      assert.match(r.failed[0].error, /^not deleted: could not keep its log: HTTP 500/);
    } finally {
      cluster.faults.clear();
    }
    assert.deepEqual(await names(core, ns), ['log-unreadable']);
    assert.equal(existsSync(taskLogPath(logs, key('unreadable'), 2)), false);
    await core.deleteNamespacedPod({ namespace: ns, name: 'log-unreadable', gracePeriodSeconds: 0 });
  });
});
