// The task runner on its own (no executor around it). What a caller tells it about a try (TryHints) saves it
// work without changing what it does: the executor's handle is recorded with the claim, and a DAG version the
// runner already holds is not read. A return value that cannot be stored fails the try with the reason.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Workload } from '../../src/executors/types.ts';
import { runTaskTry } from '../../src/worker/runner.ts';
import { queuedWorkloads } from '../helpers/capture.ts';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

for (const dialect of await dialects()) {
  describe(`task runner on ${dialect}`, () => {
    let h: FloeHarness;
    let work: Map<string, Workload>;
    before(async () => {
      h = await startFloe(dialect);
      h.writeDag('hints.ts', `${SDK_IMPORT}\ndag({ dagId: 'hints', schedule: null }, () => { task('a', async () => 1)(); task('b', async () => 2)(); task('c', async () => 3)(); task('big', async () => 10n)(); task('cl', async () => ({ x: 1 }))(); });\n`);
      assert.deepEqual((await h.parse()).errors, []);
      work = await queuedWorkloads(h, 'hints', 5);
    });
    after(async () => h.close());

    const deps = () => ({ db: h.rt.db, logsFolder: h.rt.cfg.logging.logsFolder!, heartbeatSeconds: 5 });

    test('the external id given with a try is recorded by its claim, on the task instance and its history row', async () => {
      const a = work.get('a')!;
      assert.ok(a.dagHash, 'the scheduler hands over the hash of the DAG version it queued from');
      const out = await runTaskTry(deps(), a.key, a.tryNumber, 'run', { externalId: 'test:a-1', dagHash: a.dagHash });
      assert.deepEqual([out.ran, out.ran && out.state], [true, 'success']);
      const db = h.rt.db.kysely;
      const ti = await db.selectFrom('task_instance').select('external_executor_id').where('dag_id', '=', 'hints').where('task_id', '=', 'a').executeTakeFirstOrThrow();
      const hist = await db.selectFrom('task_instance_history').select('external_executor_id').where('dag_id', '=', 'hints').where('task_id', '=', 'a').executeTakeFirstOrThrow();
      assert.deepEqual([ti.external_executor_id, hist.external_executor_id], ['test:a-1', 'test:a-1']);
    });

    test("'claimed' mode runs the try and returns its end and return value, writing none of the try's state", async () => {
      const cl = work.get('cl')!;
      const out = await runTaskTry(deps(), cl.key, cl.tryNumber, 'claimed', { dagHash: cl.dagHash });
      assert.equal(out.ran, true);
      assert.deepEqual(out.ran && [out.end, out.returnJson], [{ state: 'success', reason: null }, '{"x":1}']);
      assert.equal((await h.tis('hints', cl.key.runId)).get('cl')!.state, 'queued', 'the caller claims and records');
      const x = await h.rt.db.kysely.selectFrom('xcom').select('value').where('dag_id', '=', 'hints').where('task_id', '=', 'cl').executeTakeFirst();
      assert.equal(x, undefined);
    });

    test('a DAG version the runner holds (same hash) is not read again; without the hint it is', async () => {
      // The runner holds the DAG from the previous test. With its row gone, only a runner that skips the read
      // can still run b; c, given no hint, reads the row and finds nothing.
      await h.rt.db.kysely.deleteFrom('dag').where('dag_id', '=', 'hints').execute();
      const b = work.get('b')!;
      const outB = await runTaskTry(deps(), b.key, b.tryNumber, 'run', { dagHash: b.dagHash });
      assert.deepEqual([outB.ran, outB.ran && outB.state], [true, 'success']);
      const c = work.get('c')!;
      const outC = await runTaskTry(deps(), c.key, c.tryNumber, 'run');
      assert.equal(outC.ran, false);
      assert.match(outC.reason ?? '', /no DAG run .* or task c of DAG hints in the database/);
      const outStale = await runTaskTry(deps(), c.key, c.tryNumber, 'run', { dagHash: 'another-version' });
      assert.equal(outStale.ran, false, 'a hash the runner does not hold means reading the DAG row');
      // A claimed try whose records are gone must still end: failed, with the reason.
      const claimed = await runTaskTry(deps(), c.key, c.tryNumber, 'claimed');
      assert.equal(claimed.ran && claimed.end.state, 'failed');
      assert.match((claimed.ran && claimed.end.reason) || '', /no DAG run .* or task c of DAG hints/);
    });

    test('a return value JSON cannot hold fails the try with a reason naming the task, not a lost try', async () => {
      const big = work.get('big')!;
      const out = await runTaskTry(deps(), big.key, big.tryNumber, 'run', { dagHash: big.dagHash }); // (the DAG row is gone: see above)
      assert.equal(out.ran, true);
      assert.equal(out.ran && out.state, 'failed');
      assert.match(out.reason ?? '', /task big returned a value that cannot be stored as its XCom \(JSON\).*BigInt/);
      const ti = (await h.tis('hints', big.key.runId)).get('big')!;
      assert.equal(ti.state, 'failed');
    });
  });
}
