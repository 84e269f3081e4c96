// `floe dev kubelet` attached to an API server over HTTP — here the dev cluster itself, so it runs in every
// `npm test`; test/conformance runs the same kubelet against a real kube-apiserver. It registers its node,
// binds pending pods (the dev cluster's scheduler is paused), runs them, serves their logs over HTTPS, and
// finishes graceful deletions.
import assert from 'node:assert/strict';
import https from 'node:https';
import { after, before, describe, it } from 'node:test';
import { startDevKubelet, type DevKubelet } from '../../src/devcluster/dev-kubelet.ts';
import { podSpec, startHarness, waitFor, waitPhase, type Harness } from './helpers.ts';

const NODE = 'dk-test-1';
let h: Harness;
let k: DevKubelet;

function kubeletGet(path: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    https
      .get({ host: '127.0.0.1', port: k.port, path, rejectUnauthorized: false }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      })
      .on('error', reject);
  });
}

before(async () => {
  // The cluster's own scheduler and kubelet stay paused: everything below is the dev kubelet's doing.
  h = await startHarness({ faults: { kubeletPaused: true } });
  k = await startDevKubelet({ kubeconfigPath: h.cluster.kubeconfigPath, nodeName: NODE, startupDelay: 0, restartBackoffMs: 200, warn: () => {} });
});
after(async () => {
  await k?.stop();
  await h?.cluster.stop();
});

describe('floe dev kubelet', () => {
  it('registers a Ready node that advertises 127.0.0.1 and its kubelet endpoint', async () => {
    const node = await h.core.readNode({ name: NODE });
    assert.equal(node.status!.addresses!.find((a) => a.type === 'InternalIP')?.address, '127.0.0.1');
    assert.equal(node.status!.daemonEndpoints!.kubeletEndpoint!.Port, k.port);
    assert.equal(node.status!.conditions!.find((c) => c.type === 'Ready')!.status, 'True');
  });

  it('binds a pending pod through pods/binding, runs it, reports its status and serves its log', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: podSpec('dk-echo', ['sh', '-c', 'echo hello from the dev kubelet']) });
    const pod = await waitPhase(h.core, 'dk-echo', ['Succeeded']);
    assert.equal(pod.spec!.nodeName, NODE);
    assert.equal(pod.status!.conditions!.find((c) => c.type === 'PodScheduled')!.status, 'True');
    assert.equal(pod.status!.containerStatuses![0].state!.terminated!.exitCode, 0);
    const log = await kubeletGet('/containerLogs/default/dk-echo/base');
    assert.deepEqual(log, { status: 200, text: 'hello from the dev kubelet\n' });
    const events = await h.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=dk-echo' });
    assert.deepEqual(new Set(events.items.map((e) => e.reason)), new Set(['Scheduled', 'Pulling', 'Pulled', 'Created', 'Started']));
  });

  it('a pod that does not fit is Unschedulable with the scheduler message', async () => {
    await h.core.createNamespacedPod({
      namespace: 'default',
      body: podSpec('dk-big', ['true'], { containers: [{ name: 'base', image: 'busybox', command: ['true'], resources: { requests: { cpu: '64' } } }] }),
    });
    const cond = await waitFor('PodScheduled=False', async () => {
      const p = await h.core.readNamespacedPod({ namespace: 'default', name: 'dk-big' });
      return p.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False');
    });
    assert.equal(cond.reason, 'Unschedulable');
    assert.match(cond.message!, /^0\/1 nodes are available: 1 Insufficient cpu\./);
    await h.core.deleteNamespacedPod({ namespace: 'default', name: 'dk-big' });
  });

  it('a deleted running pod gets SIGTERM, its final status, and is removed by the kubelet', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: podSpec('dk-sleep', ['sleep', '60']) });
    await waitPhase(h.core, 'dk-sleep', ['Running']);
    await h.core.deleteNamespacedPod({ namespace: 'default', name: 'dk-sleep' });
    await waitFor('pod gone', async () => {
      try {
        await h.core.readNamespacedPod({ namespace: 'default', name: 'dk-sleep' });
        return false;
      } catch (e) {
        return (e as { code?: number }).code === 404;
      }
    });
    const log = await kubeletGet('/containerLogs/default/dk-sleep/base');
    assert.equal(log.status, 404);
  });
});

describe('floe dev kubelet restarted', () => {
  it('takes its node over, and fails a pod whose processes died with the old kubelet instead of running it again', async () => {
    await h.core.createNamespacedPod({ namespace: 'default', body: podSpec('dk-lost', ['sleep', '60']) });
    await waitPhase(h.core, 'dk-lost', ['Running']);
    await k.stop();
    k = await startDevKubelet({ kubeconfigPath: h.cluster.kubeconfigPath, nodeName: NODE, startupDelay: 0, warn: () => {} });
    const pod = await waitPhase(h.core, 'dk-lost', ['Failed']);
    assert.equal(pod.status!.reason, 'ContainersLost');
    const t = pod.status!.containerStatuses![0].state!.terminated!;
    assert.equal(t.exitCode, 137);
    assert.equal(pod.status!.containerStatuses![0].restartCount, 0, 'not started again');
    assert.equal((await h.core.readNode({ name: NODE })).status!.daemonEndpoints!.kubeletEndpoint!.Port, k.port);
  });
});

describe('floe dev kubelet: decisions', () => {
  it('a status merge patch nulls the keys the new status dropped', async () => {
    const { statusMergePatch } = await import('../../src/devcluster/remote-host.ts');
    assert.deepEqual(statusMergePatch({ phase: 'Pending', message: 'x', reason: 'y' }, { phase: 'Running' }), { phase: 'Running', message: null, reason: null });
    assert.deepEqual(statusMergePatch(undefined, { phase: 'Running' }), { phase: 'Running' });
  });

  it('binding plans: highest priority first, pods that no longer fit are unschedulable, bound or deleting pods skipped', async () => {
    const { planBindings } = await import('../../src/devcluster/binder.ts');
    const { kubeletNode } = await import('../../src/devcluster/dev-kubelet.ts');
    const node = kubeletNode({ name: 'n1', cpu: '2' }, 1);
    const p = (name: string, cpu: string, extra: Record<string, unknown> = {}) =>
      ({ metadata: { name, namespace: 'default', uid: name, creationTimestamp: '2026-01-01T00:00:00Z' }, spec: { containers: [{ name: 'c', resources: { requests: { cpu } } }], ...extra } }) as never;
    const plan = planBindings([p('low', '1.5'), p('high', '1', { priority: 10 }), p('bound', '1', { nodeName: 'x' }), p('other', '1', { schedulerName: 'custom' })], node, [p('running', '0.5', { nodeName: 'n1' })]);
    assert.deepEqual(plan.bind.map((x) => x.metadata.name), ['high']);
    assert.deepEqual(plan.unschedulable.map((u) => [u.pod.metadata.name, u.message.split('.')[0]]), [['low', '0/1 nodes are available: 1 Insufficient cpu']]);
  });
});
