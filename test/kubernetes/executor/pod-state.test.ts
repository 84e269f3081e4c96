// podVerdict: what a worker pod's state means for its try (pure).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { V1Pod } from '@kubernetes/client-node';
import { DEFAULT_FAST_FAIL_REASONS, podVerdict } from '../../../src/executors/kubernetes/pod-state.ts';

const NOW = Date.parse('2026-01-01T00:10:00Z');
const opts = { fastFailReasons: DEFAULT_FAST_FAIL_REASONS, pendingTimeoutMs: 300_000, now: NOW };
const pod = (status: V1Pod['status'], created = '2026-01-01T00:09:00Z'): V1Pod => ({ metadata: { name: 'p', creationTimestamp: new Date(created) }, status });
const running = { name: 'base', ready: true, restartCount: 0, image: 'i', imageID: '', state: { running: { startedAt: new Date(NOW) } } };

test('phases and terminations', () => {
  assert.deepEqual(podVerdict(pod({ phase: 'Succeeded' }), opts), { kind: 'succeeded' });
  assert.deepEqual(podVerdict(pod({ phase: 'Running', containerStatuses: [running] }), opts), { kind: 'running' });
  const oom = pod({ phase: 'Failed', containerStatuses: [{ ...running, state: { terminated: { exitCode: 137, reason: 'OOMKilled' } } }] });
  assert.match((podVerdict(oom, opts) as { reason: string }).reason, /^OOMKilled: container base exceeded its memory limit/);
  assert.equal(podVerdict(oom, opts).kind, 'failed');
  const exit3 = pod({ phase: 'Failed', containerStatuses: [{ ...running, state: { terminated: { exitCode: 3, reason: 'Error' } } }] });
  assert.match((podVerdict(exit3, opts) as { reason: string }).reason, /exit code 3 \(Error\)/);
});

test('waiting reasons fail fast only before the task runner started', () => {
  const pull = { ...running, state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "x"' } } };
  const v = podVerdict(pod({ phase: 'Pending', containerStatuses: [pull] }), opts);
  assert.deepEqual(v, { kind: 'infra_failed', reason: 'ImagePullBackOff: container base: Back-off pulling image "x"' });
  const sidecar = { ...pull, name: 'sidecar' };
  assert.deepEqual(podVerdict(pod({ phase: 'Running', containerStatuses: [running, sidecar] }), opts), { kind: 'running' });
});

test('pending timeout applies to Pending pods only, with the scheduling reason', () => {
  const old = '2026-01-01T00:00:00Z';
  const unsched = pod({ phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/1 nodes are available' }] }, old);
  assert.match((podVerdict(unsched, opts) as { reason: string }).reason, /^pending timeout: Unschedulable: 0\/1 nodes are available/);
  assert.deepEqual(podVerdict(pod({ phase: 'Pending' }), opts), { kind: 'pending' }, 'young pending pod waits');
  assert.deepEqual(podVerdict(pod({ phase: 'Unknown', containerStatuses: [running] }, old), opts), { kind: 'running' }, 'node lost: Kubernetes decides');
});

test('deleted pods: before the runner started is infrastructure, after is the task', () => {
  assert.equal(podVerdict(pod({ phase: 'Pending' }), { ...opts, deleted: true }).kind, 'infra_failed');
  assert.equal(podVerdict(pod({ phase: 'Running', containerStatuses: [running] }), { ...opts, deleted: true }).kind, 'failed');
});
