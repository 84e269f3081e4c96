// The scheduler's warning when Redis cannot be reached: what Floe tried, the cause, what to check — not
// ioredis' "maxRetriesPerRequest". Needs no Redis: it points the executor at a port nothing listens on.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import pino from 'pino';
import type { Db } from '../../src/db/connect.ts';
import { QueueExecutor, redisFailureCause, redisOutageMessage } from '../../src/executors/queue/queue-executor.ts';
import type { Workload } from '../../src/executors/types.ts';

async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

test('an unreachable Redis gives one warning naming the step, the connection error and what to check', async () => {
  const port = await closedPort();
  const lines: { level: number; msg: string; err?: unknown }[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _e, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { level: number; msg: string });
      done();
    },
  });
  const url = `redis://127.0.0.1:${port}`;
  // The add path never reads the metadata DB: an empty stand-in is enough.
  const ex = new QueueExecutor({ redisUrl: url, prefix: 'outage', parallelism: 4, log: pino({ level: 'debug' }, sink) }, {} as Db, { wake: () => {} });
  const work = (taskId: string): Workload => ({
    key: { dagId: 'd', runId: 'r', taskId, mapIndex: -1 },
    tryNumber: 1,
    launchId: '1.1',
    command: [],
    queue: 'default',
    executorConfig: null,
    fileloc: '/dags/d.ts',
    executionTimeout: null,
    task: {} as Workload['task'],
  });
  try {
    ex.queue(work('a'));
    ex.queue(work('b'));
    for (let i = 0; i < 200 && !lines.some((l) => l.level === 40); i++) await new Promise((r) => setTimeout(r, 50));
    const warns = lines.filter((l) => l.level === 40);
    assert.equal(warns.length, 1, JSON.stringify(lines));
    assert.equal(
      warns[0].msg,
      `queue executor: reading the event stream of queue "default" (before adding 2 tries) failed on Redis at ${url}: ` +
        `connection refused (nothing accepts connections at that address): connect ECONNREFUSED 127.0.0.1:${port}. ` +
        '2 tries stay queued and are added again every 0.25–10 s until Redis answers. ' +
        'Check that Redis is running and reachable from this scheduler at that address (queue.redisUrl or FLOE__QUEUE__REDIS_URL).',
    );
    assert.equal(warns[0].err, undefined, 'no stack at warn level');
    assert.ok(lines.some((l) => l.level === 20 && l.err), 'the failed call, with its stack, at debug level');
    assert.deepEqual(ex.inFlight().map((e) => e.sent), [false, false], 'the tries stay queued');
  } finally {
    await ex.stop();
  }
});

test('redisFailureCause looks past ioredis giving up to the connection error; messages name credentials when they are the cause', () => {
  const maxRetries = new Error('Reached the max retries per request limit (which is 3). Refer to "maxRetriesPerRequest" option for details.');
  const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND redis.internal'), { code: 'ENOTFOUND' });
  assert.equal(redisFailureCause(maxRetries, notFound), 'host name not found: getaddrinfo ENOTFOUND redis.internal');
  assert.equal(redisFailureCause(maxRetries, null), 'the connection to Redis is down');
  assert.equal(redisFailureCause(new Error('adding a try to queue "x": no answer from Redis within 5s'), null), 'no answer within 5s');
  const noauth = new Error('NOAUTH Authentication required.');
  assert.equal(redisFailureCause(noauth, notFound), 'NOAUTH Authentication required.');
  assert.match(redisOutageMessage({ url: 'redis://***@r:6379', tried: 'adding a try to queue "default"', cause: 'NOAUTH Authentication required.', waiting: 1 }), /1 try stays queued and is added again .*\(queue\.redisUrl or FLOE__QUEUE__REDIS_URL, and its user and password\)\.$/);
});
