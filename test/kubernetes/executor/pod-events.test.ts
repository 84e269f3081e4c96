// A failed pod's events, as the executor records them: selection, rendering, bounds, a listing that fails or
// hangs, and telling the executor's own task-log lines from the runner's.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { CoreV1Event } from '@kubernetes/client-node';
import type { KubeApi } from '../../../src/kubernetes/client.ts';
import { eventLogLines, listPodEvents, recentEvents, reasonWithEvents } from '../../../src/kubernetes/pod-events.ts';
import { appendExecutorLines, runnerWroteLog } from '../../../src/kubernetes/pod-logs.ts';

const ev = (reason: string, message: string, at: string, extra: Partial<CoreV1Event> = {}): CoreV1Event => ({
  metadata: { name: reason },
  involvedObject: { kind: 'Pod' },
  type: 'Normal',
  reason,
  message,
  lastTimestamp: new Date(at),
  ...extra,
});

test('the newest events are kept, oldest first, with their count; times from any of the event time fields', () => {
  const items = [
    ev('Pulling', 'Pulling image "x"', '2026-01-01T00:00:02Z'),
    ev('Scheduled', 'assigned', '2026-01-01T00:00:01Z'),
    ev('Failed', 'Error: ImagePullBackOff', '2026-01-01T00:00:09Z', { type: 'Warning', count: 4 }),
    ev('BackOff', 'Back-off pulling image "x"', '2026-01-01T00:00:08Z', { count: 3 }),
    // events.k8s.io writers: no lastTimestamp, a series.
    { metadata: { name: 'n' }, involvedObject: {}, type: 'Warning', reason: 'Failed', message: 'Failed to pull image "x":\n  not found', eventTime: new Date('2026-01-01T00:00:05Z'), series: { count: 2, lastObservedTime: new Date('2026-01-01T00:00:06Z') } },
    ev('Created', 'old', '2026-01-01T00:00:00Z'),
  ];
  const got = recentEvents(items, 5);
  assert.deepEqual(
    got.map((e) => [e.reason, e.count]),
    [['Scheduled', 1], ['Pulling', 1], ['Failed', 2], ['BackOff', 3], ['Failed', 4]],
  );
  assert.equal(got[2].message, 'Failed to pull image "x": not found', 'one line each');
  assert.deepEqual(eventLogLines(got.slice(-1)), ['  2026-01-01T00:00:09.000Z Warning Failed: Error: ImagePullBackOff (x4)']);
});

test('the reason gets the Warning events only (none when there is none), bounded in length', () => {
  const evs = recentEvents([
    ev('Scheduled', 'assigned', '2026-01-01T00:00:01Z'),
    ev('FailedScheduling', '0/2 nodes are available: 2 Insufficient cpu.', '2026-01-01T00:00:02Z', { type: 'Warning' }),
  ]);
  assert.equal(reasonWithEvents('pending timeout: Unschedulable', evs), 'pending timeout: Unschedulable | recent pod events: Warning FailedScheduling: 0/2 nodes are available: 2 Insufficient cpu.');
  assert.equal(reasonWithEvents('r', evs.slice(0, 1)), 'r', 'Normal events explain no failure');
  const normal = recentEvents([ev('Pulled', 'Container image "floe:latest" already present on machine and can be accessed by the pod. Image size: 0 bytes.', '2026-01-01T00:00:01Z'), ev('Started', 'Started container base', '2026-01-01T00:00:02Z')]);
  assert.equal(reasonWithEvents('container base terminated with exit code 7 (Error)', normal), 'container base terminated with exit code 7 (Error)');
  assert.equal(reasonWithEvents('r', []), 'r');
  const long = recentEvents(Array.from({ length: 5 }, (_, i) => ev('Failed', `${i} ${'x'.repeat(1000)}`, `2026-01-01T00:00:0${i}Z`, { type: 'Warning' })));
  const r = reasonWithEvents('r', long);
  assert.ok(r.length < 1100, `bounded: ${r.length}`);
  assert.match(r, /Warning Failed: 4 x+…$/, 'the newest event is the one kept');
});

test('a listing that fails or hangs returns its error within the timeout instead of throwing', async () => {
  const hangs = { call: () => new Promise<never>(() => {}) } as unknown as Pick<KubeApi, 'call'>;
  const t0 = Date.now();
  const r = await listPodEvents(hangs, { namespace: 'default', uid: 'u' }, 200);
  assert.equal(r.events, null);
  assert.match(r.error!, /took over 0.2s/);
  assert.ok(Date.now() - t0 < 2000);
  const fails = { call: () => Promise.reject(new Error('connect ECONNREFUSED')) } as unknown as Pick<KubeApi, 'call'>;
  assert.deepEqual(await listPodEvents(fails, { namespace: 'default', uid: 'u' }), { events: null, error: 'connect ECONNREFUSED' });
  let selector = '';
  const lists = {
    call: (fn: (c: { listNamespacedEvent(a: { namespace: string; fieldSelector: string }): Promise<{ items: CoreV1Event[] }> }) => Promise<unknown>) =>
      fn({ listNamespacedEvent: async (a) => ((selector = a.fieldSelector), { items: [ev('Started', 's', '2026-01-01T00:00:00Z')] }) }),
  } as unknown as Pick<KubeApi, 'call'>;
  const ok = await listPodEvents(lists, { namespace: 'default', uid: 'abc' });
  assert.equal(selector, 'involvedObject.uid=abc');
  assert.equal(ok.events?.[0].reason, 'Started');
});

test("a task log holding only the executor's lines is not the runner's", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'floe-evlog-'));
  const file = path.join(dir, 'a', 'attempt=1.log');
  assert.equal(runnerWroteLog(file), false, 'no file');
  await appendExecutorLines(file, ['pod default/p ended this try: ErrImagePull', '  2026-01-01T00:00:00.000Z Warning Failed: x']);
  assert.equal(runnerWroteLog(file), false);
  await appendExecutorLines(file, ['x'.repeat(100_000)]);
  assert.equal(runnerWroteLog(file), false, 'across read chunks');
  writeFileSync(file, '[2026-01-01T00:00:00.000Z] INFO starting try 1\n', { flag: 'a' });
  assert.equal(runnerWroteLog(file), true);
  const plain = path.join(dir, 'plain.log');
  writeFileSync(plain, 'a pod log without a trailing newline');
  assert.equal(runnerWroteLog(plain), true);
});
