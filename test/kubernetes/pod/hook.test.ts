// The podMutationHook stage, and its reuse for pods that are not worker pods (KubernetesPodOperator).
import { V1Pod } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { applyMutationHook, applyMutationHookToPod, loadMutationHook, PodPipelineError, type LoadedHook } from '../../../src/kubernetes/pod/index.ts';
import { FIXTURES } from './helpers.ts';

const operatorPod = (): V1Pod => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'op-pod', labels: { app: 'x' } }, spec: { containers: [{ name: 'main', image: 'alpine' }] } });
const hook = (fn: LoadedHook['fn']): LoadedHook => ({ path: '/etc/floe/hook.ts', fn });

describe('podMutationHook', () => {
  it('runs on any pod (no base container needed) and leaves the input alone', async () => {
    const h = await loadMutationHook(path.join(FIXTURES, 'hooks', 'add-label.ts'));
    const input = operatorPod();
    const out = await applyMutationHookToPod(input, h);
    assert.equal(out.metadata!.labels!['cost-center'], 'analytics');
    assert.equal(out.metadata!.annotations!['hook.example.com/saw-v1pod'], 'true');
    assert.deepEqual(out.spec!.tolerations, [{ key: 'spot', operator: 'Exists' }]);
    assert.deepEqual(input, operatorPod());
  });

  it('awaits async hooks and takes a returned pod instead of the input', async () => {
    const out = await applyMutationHookToPod(operatorPod(), hook(async (p) => ({ ...p, spec: { ...p.spec!, nodeName: 'n1' } })));
    assert.equal(out.spec!.nodeName, 'n1');
    assert.equal(out instanceof V1Pod, false, 'the result is plain JSON again');
  });

  it('names the hook when it throws a non-Error', async () => {
    await assert.rejects(applyMutationHookToPod(operatorPod(), hook(() => { throw { code: 42 }; })), { message: 'podMutationHook in /etc/floe/hook.ts: threw: {"code":42}' });
  });

  it('rejects a hook returning null', async () => {
    await assert.rejects(applyMutationHookToPod(operatorPod(), hook(() => null as unknown as V1Pod)), /returned null; return nothing/);
  });

  it('for worker pods, refuses changes to Floe identity but allows anything else', async () => {
    const worker: V1Pod = {
      metadata: { name: 'w-1', labels: { 'floe.dev/dag-id': 'd' }, annotations: { 'floe.dev/dag-id': 'd' } },
      spec: { restartPolicy: 'Never', containers: [{ name: 'base', image: 'i', command: ['floe', 'tasks', 'run'] }] },
    };
    const ok = await applyMutationHook(worker, hook((p) => { p.spec!.containers[0].image = 'other'; }));
    assert.equal(ok.spec!.containers[0].image, 'other');
    await assert.rejects(
      applyMutationHook(worker, hook((p) => { p.spec!.containers[0].command = ['sh']; })),
      (e: unknown) => e instanceof PodPipelineError && e.stage === 'hook' && e.path === 'spec.containers[name=base].command',
    );
    await assert.rejects(applyMutationHook(worker, hook((p) => { p.spec!.restartPolicy = 'Always'; })), (e: unknown) => e instanceof PodPipelineError && e.path === 'spec.restartPolicy');
    assert.deepEqual(await applyMutationHook(worker, null), worker);
  });
});
