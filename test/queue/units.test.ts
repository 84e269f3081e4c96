// Pure parts of the queue executor and worker: job ids, settings and flags, the Redis protocol, output.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { jobIdFor, parseJobId, queueNameProblem } from '../../src/executors/queue/job-id.ts';
import { isLostWorkerReason, parseTryJobData, parseTryJobResult } from '../../src/executors/queue/protocol.ts';
import { parseQueueList, queueSettings, resolveConcurrency } from '../../src/executors/queue/settings.ts';
import { tryIsOver } from '../../src/db/task-instances.ts';
import { formatStatusLine, formatWorkerEvent } from '../../src/worker/queue-status.ts';

test('job ids: BullMQ-safe, one per try, reversible', () => {
  const key = { dagId: 'etl:x', runId: 'manual__2024-01-01T00:00:00+00:00', taskId: 'load|1%', mapIndex: -1 };
  const id = jobIdFor(key, 3, '12.7');
  assert.equal(id, 'etl%3Ax|manual__2024-01-01T00%3A00%3A00+00%3A00|load%7C1%25|-1|3|12.7');
  assert.ok(!id.includes(':'));
  assert.deepEqual(parseJobId(id), { key, tryNumber: 3, launchId: '12.7' });
  assert.notEqual(jobIdFor(key, 4, '12.7'), id);
  assert.notEqual(jobIdFor({ ...key, mapIndex: 0 }, 3, '12.7'), id);
  // Another launch of the same try (taken back, queued again) is another job.
  assert.notEqual(jobIdFor(key, 3, '12.8'), id);
  // Jobs of schedulers that had no launch ids still parse.
  assert.deepEqual(parseJobId(jobIdFor(key, 3, null)), { key, tryNumber: 3, launchId: null });
  // Parts that would collide without escaping stay apart.
  assert.notEqual(jobIdFor({ dagId: 'a|b', runId: 'c', taskId: 'd', mapIndex: -1 }, 1, 'x'), jobIdFor({ dagId: 'a', runId: 'b|c', taskId: 'd', mapIndex: -1 }, 1, 'x'));
  assert.equal(parseJobId('42'), null);
  assert.equal(parseJobId('a|b|c|x|1'), null);
});

test('queue names: BullMQ refuses ":" and empty names', () => {
  assert.equal(queueNameProblem('etl'), null);
  assert.match(queueNameProblem('a:b')!, /queue name "a:b" contains ':'/);
  assert.match(queueNameProblem(' ')!, /cannot be empty/);
  assert.deepEqual(parseQueueList(' default, etl ,default'), ['default', 'etl']);
  assert.throws(() => parseQueueList(' , '), /--queues: expected a comma-separated list of queue names like "default,etl", got " , "/);
  assert.throws(() => parseQueueList('ok,x:y'), /--queues: queue name "x:y" contains ':'/);
});

test('concurrency: flag N, flag QUEUE=N, config per queue, config default', () => {
  const settings = { concurrency: 4, queueConcurrency: { etl: 2 } };
  assert.deepEqual(resolveConcurrency(['default', 'etl'], undefined, settings), [{ name: 'default', concurrency: 4 }, { name: 'etl', concurrency: 2 }]);
  assert.deepEqual(resolveConcurrency(['default', 'etl'], '8', settings), [{ name: 'default', concurrency: 8 }, { name: 'etl', concurrency: 8 }]);
  assert.deepEqual(resolveConcurrency(['default', 'etl'], 'default=3', settings), [{ name: 'default', concurrency: 3 }, { name: 'etl', concurrency: 2 }]);
  assert.deepEqual(resolveConcurrency(['default', 'etl'], '6, etl=1', settings), [{ name: 'default', concurrency: 6 }, { name: 'etl', concurrency: 1 }]);
  assert.throws(() => resolveConcurrency(['default'], 'abc', settings), /--concurrency: "abc" is not valid; expected a positive integer \(N\) or QUEUE=N/);
  assert.throws(() => resolveConcurrency(['default'], '0', settings), /"0" is not valid/);
  assert.throws(() => resolveConcurrency(['default'], 'etl=2', settings), /--concurrency: "etl" is not one of this worker's queues \(default\)/);
});

test('queue settings: defaults for keys the config section lacks; bad values named', () => {
  const s = queueSettings({ redisUrl: 'redis://r:6379', prefix: 'p' });
  assert.deepEqual(s, { redisUrl: 'redis://r:6379', prefix: 'p', concurrency: 4, queueConcurrency: {}, shutdownTimeout: 60, lockDuration: 30, stalledInterval: 30, reconcileInterval: 5 });
  assert.throws(() => queueSettings({ concurrency: 0 }), /queue\.concurrency: /);
});

test('job data from Redis is validated, naming the job and the field', () => {
  const ok = { key: { dagId: 'd', runId: 'r', taskId: 't', mapIndex: -1 }, tryNumber: 1, executionTimeout: null, queuedAt: '2024-01-01T00:00:00Z' };
  assert.deepEqual(parseTryJobData(ok, 'job x'), ok);
  assert.throws(() => parseTryJobData({ ...ok, tryNumber: 0 }, 'job 7 on queue "etl"'), /job 7 on queue "etl" is not a Floe task try \(data\.tryNumber: .*\); was it added by something other than Floe's queue executor\?/);
  assert.throws(() => parseTryJobData({ hello: 1 }, 'job 8'), /data\.key: /);
});

test('worker results and BullMQ failure reasons', () => {
  assert.deepEqual(parseTryJobResult({ ran: true, state: 'success', reason: null, worker: 'w', pid: 1 }), { ran: true, state: 'success', reason: null, worker: 'w', pid: 1 });
  assert.deepEqual(parseTryJobResult('{"ran":false,"reason":"not queued","worker":"w","pid":2}'), { ran: false, reason: 'not queued', worker: 'w', pid: 2 });
  assert.equal(parseTryJobResult({ ran: 'yes' }), null);
  assert.equal(parseTryJobResult('not json'), null);
  assert.ok(isLostWorkerReason('job stalled more than allowable limit'));
  assert.ok(isLostWorkerReason('job started more than allowable limit'));
  assert.ok(!isLostWorkerReason('task process (pid 3) was killed by SIGKILL before recording a result'));
});

test('a try is over once its row moved past it: another try, another launch, or a final state', () => {
  assert.equal(tryIsOver(undefined, 1), true);
  assert.equal(tryIsOver({ state: 'queued', try_number: 1, launch_id: '5.1' }, 1), false);
  assert.equal(tryIsOver({ state: 'running', try_number: 1, launch_id: '5.1' }, 1, '5.1'), false);
  assert.equal(tryIsOver({ state: 'running', try_number: 2, launch_id: '5.2' }, 1), true);
  // Taken back and queued again under the same number: the old launch is over.
  assert.equal(tryIsOver({ state: 'running', try_number: 1, launch_id: '6.1' }, 1, '5.1'), true);
  for (const state of ['success', 'failed', 'up_for_retry', 'scheduled', 'none', 'skipped']) assert.equal(tryIsOver({ state, try_number: 1, launch_id: null }, 1), true, state);
});

test('worker output: event lines and the live status line', () => {
  const now = new Date('2026-01-02T03:04:05.000Z');
  const key = { dagId: 'etl', runId: 'manual__x', taskId: 'load', mapIndex: -1 };
  assert.equal(formatWorkerEvent({ type: 'started', queue: 'etl', jobId: 'j', key, tryNumber: 2, pid: 99 }, now), '2026-01-02T03:04:05.000Z started etl.load run manual__x try 2 (queue etl, pid 99)');
  assert.equal(
    formatWorkerEvent({ type: 'finished', queue: 'etl', jobId: 'j', key: { ...key, mapIndex: 3 }, tryNumber: 1, outcome: 'up_for_retry', reason: 'Error: boom', ms: 1234 }, now),
    '2026-01-02T03:04:05.000Z finished etl.load[3] run manual__x try 1: up_for_retry (Error: boom) in 1.2s',
  );
  assert.equal(
    formatWorkerEvent({ type: 'finished', queue: 'etl', jobId: 'j', key, tryNumber: 1, outcome: 'not run', reason: 'try 1 is not queued (task instance is success at try 1)', ms: 5 }, now),
    '2026-01-02T03:04:05.000Z refused a second delivery of etl.load run manual__x try 1: try 1 is not queued (task instance is success at try 1)',
  );
  assert.equal(formatWorkerEvent({ type: 'problem', message: 'queue "etl": connect ECONNREFUSED' }, now), '2026-01-02T03:04:05.000Z problem: queue "etl": connect ECONNREFUSED');
  const status = { name: 'host-1', queues: [{ name: 'default', concurrency: 4, running: 1 }, { name: 'etl', concurrency: 2, running: 2 }], running: 3, succeeded: 10, failed: 1, stopping: false };
  assert.equal(formatStatusLine(status), 'worker host-1 · default 1/4 · etl 2/2 · running 3 · succeeded 10 · failed 1');
  assert.equal(formatStatusLine({ ...status, stopping: true }, 30), 'worker host-1 (stopping) · de…');
  assert.equal(formatStatusLine(status, 30).length, 30);
});
