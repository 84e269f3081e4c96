// The hybrid executor's decisions (routing, shared slots, adoption order) and how it drives its two halves,
// with recording stand-ins for the halves (the halves themselves are tested against real Redis and the dev cluster).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import pino from 'pino';
import { writeKubeconfig } from '../../src/devcluster/kubeconfig.ts';
import { createHybridExecutor, HybridExecutor } from '../../src/executors/hybrid/hybrid-executor.ts';
import { adoptionOrder, halfFor, sharedOpenSlots } from '../../src/executors/hybrid/routing.ts';
import type { Executor, ExecutorEvent, TaskRef, Workload } from '../../src/executors/types.ts';
import type { SerializedTask } from '../../src/dag/model.ts';
import { startFloe } from '../helpers/floe.ts';

const key = (taskId: string) => ({ dagId: 'd', runId: 'r', taskId, mapIndex: -1 });
const ref = (taskId: string, externalId: string | null = null): TaskRef => ({ key: key(taskId), tryNumber: 1, launchId: '1.1', externalId });
const work = (taskId: string, queue: string): Workload => ({
  key: key(taskId),
  tryNumber: 1,
  launchId: '1.1',
  command: ['floe', 'tasks', 'run', 'd', taskId, 'r'],
  queue,
  executorConfig: null,
  fileloc: '/dags/d.ts',
  executionTimeout: null,
  task: { taskId, queue } as unknown as SerializedTask,
});
const event = (taskId: string): ExecutorEvent => ({ key: key(taskId), tryNumber: 1, state: 'success' });

/** A half that records what it is asked and answers as told. */
class FakeHalf implements Executor {
  queued: string[] = [];
  offered: string[][] = [];
  events: ExecutorEvent[] = [];
  started = 0;
  stopped = 0;
  inFlight = 0;
  syncError: Error | null = null;
  startError: Error | null = null;
  stopError: Error | null = null;
  /** Which task ids it can adopt; `throwOn`: a batch containing this task id throws. */
  has = new Set<string>();
  throwOn: string | null = null;
  /** Return copies of the refs it does not adopt instead of the objects it was given. */
  copies = false;
  constructor(
    readonly name: string,
    private readonly parallelism: number,
  ) {}
  async start(): Promise<void> {
    this.started++;
    if (this.startError) throw this.startError;
  }
  queue(w: Workload): void {
    this.queued.push(w.key.taskId);
    this.inFlight++;
  }
  async sync(): Promise<ExecutorEvent[]> {
    if (this.syncError) throw this.syncError;
    const out = this.events;
    this.events = [];
    return out;
  }
  openSlots(): number {
    return Math.max(0, this.parallelism - this.inFlight);
  }
  async revoke(): Promise<void> {}
  async adopt(refs: TaskRef[]): Promise<TaskRef[]> {
    this.offered.push(refs.map((r) => r.key.taskId));
    if (this.throwOn && refs.some((r) => r.key.taskId === this.throwOn)) throw new Error(`${this.name}: API down`);
    const left = refs.filter((r) => !this.has.has(r.key.taskId));
    return this.copies ? left.map((r) => ({ ...r, key: { ...r.key } })) : left;
  }
  async stop(): Promise<void> {
    this.stopped++;
    if (this.stopError) throw this.stopError;
  }
}

function hybrid(opts: { parallelism?: number; kubernetesQueue?: string; queuesOf?: (refs: TaskRef[]) => Promise<(string | null)[]> } = {}) {
  const parallelism = opts.parallelism ?? 4;
  const q = new FakeHalf('queue', parallelism);
  const k = new FakeHalf('kubernetes', parallelism);
  const records: Record<string, unknown>[] = [];
  const log = pino({ level: 'debug' }, { write: (l: string) => void records.push(JSON.parse(l) as Record<string, unknown>) });
  const ex = new HybridExecutor({ queue: q, kubernetes: k }, { kubernetesQueue: opts.kubernetesQueue ?? 'kubernetes', parallelism, log, queuesOf: opts.queuesOf });
  return { ex, q, k, records };
}

describe('hybrid routing decisions', () => {
  test('a try runs in a pod exactly when its queue is hybrid.kubernetesQueue', () => {
    assert.equal(halfFor('kubernetes', 'kubernetes'), 'kubernetes');
    assert.equal(halfFor('default', 'kubernetes'), 'queue');
    assert.equal(halfFor('Kubernetes', 'kubernetes'), 'queue', 'queue names are compared exactly');
    assert.equal(halfFor('kubernetes', 'pods'), 'queue');
    assert.equal(halfFor('pods', 'pods'), 'kubernetes');
  });

  test('one pool of parallelism for both halves', () => {
    assert.equal(sharedOpenSlots(8, [8, 8]), 8, 'nothing in flight');
    assert.equal(sharedOpenSlots(8, [5, 6]), 3, '3 tries on the queue half and 2 pods');
    assert.equal(sharedOpenSlots(8, [0, 8]), 0, 'the queue half alone fills the pool');
    assert.equal(sharedOpenSlots(8, [4, 4]), 0);
    assert.equal(sharedOpenSlots(8, [0, 0]), 0, 'both over (adopted tries): still 0, never negative');
    assert.equal(sharedOpenSlots(8, [3, 2]), 0);
  });

  test('adoption asks the half an external id names, else the half the task instance queue points at first', () => {
    assert.deepEqual(adoptionOrder('bullmq:default/d|r|t|-1|1', 'default', 'kubernetes'), ['queue']);
    assert.deepEqual(adoptionOrder('bullmq:kubernetes/d|r|t|-1|1', 'kubernetes', 'kubernetes'), ['queue'], 'the external id wins over the queue');
    assert.deepEqual(adoptionOrder('default/d-t-abc12/0f4e-11', 'default', 'kubernetes'), ['kubernetes']);
    assert.deepEqual(adoptionOrder(null, 'kubernetes', 'kubernetes'), ['kubernetes', 'queue']);
    assert.deepEqual(adoptionOrder(null, 'default', 'kubernetes'), ['queue', 'kubernetes']);
    assert.deepEqual(adoptionOrder(null, null, 'kubernetes'), ['queue', 'kubernetes'], 'unknown task instance');
    assert.deepEqual(adoptionOrder('pid:4242', 'pods', 'pods'), ['kubernetes', 'queue'], 'an id of another executor says nothing');
  });
});

describe('HybridExecutor', () => {
  test('queue() hands each try to the half its queue names', () => {
    const { ex, q, k } = hybrid({ kubernetesQueue: 'pods' });
    for (const [t, queue] of [['a', 'default'], ['b', 'pods'], ['c', 'etl'], ['d', 'kubernetes']]) ex.queue(work(t, queue));
    assert.deepEqual(q.queued, ['a', 'c', 'd']);
    assert.deepEqual(k.queued, ['b']);
  });

  test('openSlots counts the tries in flight on both halves against one parallelism', () => {
    const { ex, q, k } = hybrid({ parallelism: 4 });
    assert.equal(ex.openSlots(), 4);
    ex.queue(work('a', 'default'));
    ex.queue(work('b', 'kubernetes'));
    ex.queue(work('c', 'kubernetes'));
    assert.equal(ex.openSlots(), 1);
    ex.queue(work('d', 'default'));
    assert.equal(ex.openSlots(), 0);
    k.inFlight = 0;
    q.inFlight = 6; // adopted beyond parallelism
    assert.equal(ex.openSlots(), 0);
  });

  test('sync merges both halves; a failing half is logged and does not hold back the other', async () => {
    const { ex, q, k, records } = hybrid();
    q.events.push(event('a'));
    k.events.push(event('b'), event('c'));
    assert.deepEqual((await ex.sync()).map((e) => e.key.taskId), ['a', 'b', 'c']);
    assert.deepEqual(await ex.sync(), []);
    k.events.push(event('p'));
    k.syncError = new Error('watch cache broken');
    q.events.push(event('x'));
    assert.deepEqual((await ex.sync()).map((e) => e.key.taskId), ['x']);
    const logged = records.find((r) => r.half === 'kubernetes')!;
    assert.match(String(logged.msg), /the kubernetes half failed to report its events/);
    k.syncError = null;
    assert.deepEqual((await ex.sync()).map((e) => e.key.taskId), ['p'], 'kept by the half until it could report');
  });

  test('adopt: each ref to its half first, the rest to the other half unless its external id names the half; the given objects come back', async () => {
    const queues: Record<string, string> = { j1: 'default', p1: 'kubernetes', j2: 'default', p2: 'kubernetes', lost: 'default', gone: 'kubernetes' };
    const { ex, q, k } = hybrid({ queuesOf: async (refs) => refs.map((r) => queues[r.key.taskId] ?? null) });
    q.has = new Set(['j1', 'j2', 'p2']);
    k.has = new Set(['p1']);
    const refs = [
      ref('j1', 'bullmq:default/d|r|j1|-1|1'), // a running job
      ref('p1', 'default/d-p1-x/uid-1'), // a running pod
      ref('j2'), // a job waiting in Redis, never reported running
      ref('p2'), // the pod queue's task, but its job is in Redis (its queue was changed)
      ref('lost', 'bullmq:default/d|r|lost|-1|1'), // its job is gone: not a pod's either
      ref('gone'), // neither a pod nor a job
    ];
    const left = await ex.adopt(refs);
    assert.deepEqual(left.map((r) => r.key.taskId), ['lost', 'gone']);
    assert.ok(left.every((r) => refs.includes(r)), 'the very objects given');
    assert.deepEqual(q.offered, [['j1', 'j2', 'lost'], ['p2', 'gone']]);
    assert.deepEqual(k.offered, [['p1', 'p2', 'gone']]);
  });

  test('adopt: a half answering with copies still gets the given objects back to the scheduler', async () => {
    const { ex, q, k } = hybrid();
    q.copies = true;
    k.copies = true;
    const refs = [ref('a'), ref('b')];
    k.has = new Set(['b']);
    const left = await ex.adopt(refs);
    assert.equal(left.length, 1);
    assert.equal(left[0], refs[0]);
  });

  test('adopt: a half that throws is asked one ref at a time; only the ref it fails on counts as not adopted', async () => {
    const { ex, q, k, records } = hybrid({ queuesOf: async (refs) => refs.map(() => 'kubernetes') });
    k.has = new Set(['a', 'c']);
    k.throwOn = 'b';
    const refs = [ref('a'), ref('b'), ref('c')];
    const left = await ex.adopt(refs);
    assert.deepEqual(left, [refs[1]]);
    assert.deepEqual(k.offered, [['a', 'b', 'c'], ['a'], ['b'], ['c']]);
    assert.deepEqual(q.offered, [['b']], 'then offered to the other half');
    assert.ok(records.some((r) => /offering them one at a time/.test(String(r.msg))));
  });

  test('adopt: without the task instances\' queues, the queue half is asked first', async () => {
    const { ex, q, k, records } = hybrid({
      queuesOf: async () => {
        throw new Error('database is locked');
      },
    });
    k.has = new Set(['a']);
    assert.deepEqual(await ex.adopt([ref('a')]), []);
    assert.deepEqual([q.offered, k.offered], [[['a']], [['a']]]);
    assert.ok(records.some((r) => /cannot read the queues/.test(String(r.msg))));
    assert.deepEqual(await ex.adopt([]), []);
  });

  test('start starts both; a Kubernetes half that cannot start stops the queue half and names itself', async () => {
    const { ex, q, k } = hybrid();
    k.startError = new Error('connect ECONNREFUSED 127.0.0.1:6443');
    await assert.rejects(ex.start({ schedulerId: '1' }), /hybrid executor: the Kubernetes half could not start: connect ECONNREFUSED/);
    assert.deepEqual([q.started, q.stopped, k.started], [1, 1, 1]);

    const other = hybrid();
    other.q.startError = new Error('bad redis url');
    await assert.rejects(other.ex.start({ schedulerId: '1' }), /the queue \(BullMQ\) half could not start: bad redis url/);
    assert.equal(other.k.started, 0);
  });

  test('stop stops both halves even when one fails, then reports the failure', async () => {
    const { ex, q, k } = hybrid();
    q.stopError = new Error('redis gone');
    await assert.rejects(ex.stop(), /redis gone/);
    assert.deepEqual([q.stopped, k.stopped], [1, 1]);
  });
});

describe('createHybridExecutor', () => {
  test('builds a queue half and a Kubernetes half from the configuration, sharing core.parallelism', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'floe-hybrid-'));
    const kubeconfig = path.join(dir, 'kubeconfig');
    writeKubeconfig(kubeconfig, { server: 'http://127.0.0.1:1', token: 't' });
    const h = await startFloe('sqlite', { config: { core: { executor: 'hybrid', parallelism: 5 }, hybrid: { kubernetesQueue: 'pods' }, kubernetes: { kubeconfig } } });
    try {
      const ex = createHybridExecutor(h.rt, { wake: () => {} });
      assert.deepEqual([ex.name, ex.half('queue').name, ex.half('kubernetes').name], ['hybrid', 'queue', 'kubernetes']);
      assert.equal(ex.openSlots(), 5);
      assert.deepEqual([ex.half('queue').openSlots(), ex.half('kubernetes').openSlots()], [5, 5], 'each half built with core.parallelism');
      // Routing uses hybrid.kubernetesQueue: a "pods" try is the Kubernetes half's (a launch waiting for its next sync).
      ex.queue(work('t', 'pods'));
      assert.deepEqual([ex.half('kubernetes').openSlots(), ex.openSlots()], [4, 4]);
    } finally {
      await h.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
