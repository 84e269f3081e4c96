// Where the dev cluster follows the real API server (the cases recorded against kube-apiserver v1.20.2 in
// test/conformance/api-cases.ts, run here against the dev cluster alone), its periodic compaction, the
// modelled pod start, and the never-start annotation.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Watch } from '@kubernetes/client-node';
import { RawClient } from '../../src/devcluster/raw-client.ts';
import { compactionStep } from '../../src/devcluster/compactor.ts';
import { DEFAULT_STARTUP_DELAY, NEVER_START_ANNOTATION, parseStartupDelayFlag, resolveStartupDelay } from '../../src/devcluster/startup.ts';
import { API_CASES, CASE_COMPACTION_MS } from '../conformance/api-cases.ts';
import { podSpec, startHarness, waitFor, waitPhase, type Harness } from './helpers.ts';

describe('dev cluster answers as the real API server (recorded cases)', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ compactionIntervalMs: CASE_COMPACTION_MS, faults: { kubeletPaused: true } });
  });
  after(() => h.cluster.stop());
  API_CASES.forEach((c, i) => {
    it(c.name, async () => {
      const client = new RawClient(h.kc, 'floe-test');
      const ns = `fid-${i}`;
      await client.must('POST', '/api/v1/namespaces', { metadata: { name: ns } });
      assert.deepEqual(await c.run({ client, ns, compactionIntervalMs: CASE_COMPACTION_MS }), c.expect);
    });
  });

  it('after compaction a watch from an older resourceVersion gets a 410 ERROR event', async () => {
    const mark = h.cluster.resourceVersion();
    await h.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'compact-me' } } });
    await waitFor('two compactions', () => h.cluster.resourceVersion() > mark && compactedPast(mark), 3 * CASE_COMPACTION_MS + 2000);
    const events: { type: string; code?: number }[] = [];
    await new Promise<void>((resolve) => {
      void new Watch(h.kc).watch('/api/v1/namespaces/default/configmaps', { resourceVersion: String(mark) }, (type, o: { code?: number }) => events.push({ type, code: o.code }), () => resolve());
    });
    assert.deepEqual(events, [{ type: 'ERROR', code: 410 }]);
  });

  /** Whether `rv` is compacted: a list at it answers 410. */
  async function compactedPast(rv: number): Promise<boolean> {
    const r = await new RawClient(h.kc).request('GET', `/api/v1/namespaces/default/configmaps?resourceVersion=${rv}&resourceVersionMatch=Exact`);
    return r.status === 410;
  }
});

describe('compaction, startup delay: decisions', () => {
  it('each tick compacts to what the previous tick saw', () => {
    assert.deepEqual(compactionStep(undefined, 10), { compactTo: undefined, nextTickRv: 10 });
    assert.deepEqual(compactionStep(10, 25), { compactTo: 10, nextTickRv: 25 });
  });
  it('startup delay: default, 0, overrides, and the CLI form', () => {
    assert.deepEqual(resolveStartupDelay(undefined), DEFAULT_STARTUP_DELAY);
    assert.deepEqual(resolveStartupDelay(0), { schedulingMs: 0, sandboxMs: 0, pullMs: 0, containerStartMs: 0 });
    assert.equal(resolveStartupDelay({ pullMs: 5 }).pullMs, 5);
    assert.throws(() => resolveStartupDelay({ pullMs: -1 }), /startupDelay.pullMs: expected a non-negative number/);
    assert.deepEqual(parseStartupDelayFlag('sandbox=100,containerStart=50'), { ...DEFAULT_STARTUP_DELAY, sandboxMs: 100, containerStartMs: 50 });
    assert.deepEqual(parseStartupDelayFlag('0'), resolveStartupDelay(0));
    assert.throws(() => parseStartupDelayFlag('warp=3'), /--startup-delay: expected 0, default or KEY=MS/);
  });
});

describe('kubelet: modelled pod start and the never-start annotation', () => {
  let h: Harness;
  before(async () => {
    h = await startHarness({ startupDelay: { schedulingMs: 0, sandboxMs: 300, pullMs: 400, containerStartMs: 200 } });
  });
  after(() => h.cluster.stop());

  it('a pod starts after sandbox + pull + container start; a second one on the node skips the pull', async () => {
    const t0 = Date.now();
    await h.core.createNamespacedPod({ namespace: 'default', body: podSpec('slow1', ['sleep', '5']) });
    await waitFor('ContainerCreating while the sandbox is made', async () => {
      const p = await h.core.readNamespacedPod({ namespace: 'default', name: 'slow1' });
      return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ContainerCreating';
    });
    await waitPhase(h.core, 'slow1', ['Running']);
    const first = Date.now() - t0;
    assert.ok(first >= 900, `first start took ${first} ms, at least 300 + 400 + 200`);
    const t1 = Date.now();
    await h.core.createNamespacedPod({ namespace: 'default', body: podSpec('slow2', ['sleep', '5']) });
    await waitPhase(h.core, 'slow2', ['Running']);
    const second = Date.now() - t1;
    assert.ok(second >= 500 && second < first, `second start took ${second} ms (cached image), first ${first} ms`);
    const events = await h.core.listNamespacedEvent({ namespace: 'default', fieldSelector: 'involvedObject.name=slow1,reason=Pulled' });
    assert.match(events.items[0].message!, /Successfully pulled image "busybox:1.36" in 0.4s/);
  });

  it('a container named in the never-start annotation is Running with no process until the pod is deleted', async () => {
    const body = podSpec('hollow', ['sh', '-c', 'echo should-not-run; exit 3']);
    body.metadata!.annotations = { [NEVER_START_ANNOTATION]: 'base' };
    await h.core.createNamespacedPod({ namespace: 'default', body });
    await waitPhase(h.core, 'hollow', ['Running']);
    await new Promise((r) => setTimeout(r, 1500));
    const p = await h.core.readNamespacedPod({ namespace: 'default', name: 'hollow' });
    assert.equal(p.status!.phase, 'Running');
    assert.ok(p.status!.containerStatuses![0].state!.running, 'the container reports running');
    assert.equal(await h.core.readNamespacedPodLog({ namespace: 'default', name: 'hollow' }), '', 'its process never ran');
    await h.core.deleteNamespacedPod({ namespace: 'default', name: 'hollow', gracePeriodSeconds: 1 });
    await waitFor('pod gone', async () => {
      try {
        await h.core.readNamespacedPod({ namespace: 'default', name: 'hollow' });
        return false;
      } catch {
        return true;
      }
    });
  });
});
