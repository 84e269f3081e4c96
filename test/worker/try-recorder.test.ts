// BatchedTryRecorder: the claims and outcomes a queue worker's task processes ask for in one turn are written
// in one transaction, each with its own answer; one write that fails does not fail the others.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sql } from 'kysely';
import type { Workload } from '../../src/executors/types.ts';
import { BatchedTryRecorder } from '../../src/worker/try-recorder.ts';
import { queuedWorkloads } from '../helpers/capture.ts';
import { dialects, type FloeHarness, SDK_IMPORT, startFloe } from '../helpers/floe.ts';

for (const dialect of await dialects()) {
  describe(`batched try recorder on ${dialect}`, () => {
    let h: FloeHarness;
    let work: Map<string, Workload>;
    before(async () => {
      h = await startFloe(dialect);
      h.writeDag('rec.ts', `${SDK_IMPORT}\ndag({ dagId: 'rec', schedule: null }, () => { for (const t of ['a', 'b', 'c', 'bad']) task(t, async () => 1)(); });\n`);
      assert.deepEqual((await h.parse()).errors, []);
      work = await queuedWorkloads(h, 'rec', 4);
    });
    after(async () => h.close());

    const info = { hostname: 'test', pid: 1 };

    test('claims and outcomes of one turn are each answered: a try claimed twice gets true once', async () => {
      const r = new BatchedTryRecorder(h.rt.db);
      const a = work.get('a')!;
      const b = work.get('b')!;
      const answers = await Promise.all([r.claim(a.key, a.tryNumber, info), r.claim(a.key, a.tryNumber, info), r.claim(b.key, b.tryNumber, { ...info, externalId: 'x:b' })]);
      assert.deepEqual(answers, [true, false, true]);
      const ends = await Promise.all([
        r.finish(a.key, a.tryNumber, { state: 'success', reason: null }, '{"n":1}'),
        r.finish(b.key, b.tryNumber, { state: 'failed', reason: 'boom' }, undefined),
        r.finish(b.key, b.tryNumber, { state: 'success', reason: null }, undefined),
      ]);
      assert.deepEqual(ends, [true, true, false]);
      const tis = await h.tis('rec', a.key.runId);
      assert.deepEqual([tis.get('a')!.state, tis.get('b')!.state, tis.get('b')!.reason], ['success', 'failed', 'boom']);
      const x = await h.rt.db.kysely.selectFrom('xcom').select('value').where('dag_id', '=', 'rec').where('task_id', '=', 'a').executeTakeFirstOrThrow();
      assert.equal(x.value, '{"n":1}');
      assert.equal((await h.history('rec', a.key.runId)).length, 2);
    });

    test('a write that fails is answered with its error; the others of its batch still land', async () => {
      const db = h.rt.db.kysely;
      if (dialect === 'sqlite') await sql`create trigger fail_bad before update on task_instance when new.task_id = 'bad' begin select raise(abort, 'refused by test trigger'); end`.execute(db);
      else {
        await sql`create function fail_bad() returns trigger language plpgsql as $$ begin if new.task_id = 'bad' then raise exception 'refused by test trigger'; end if; return new; end $$`.execute(db);
        await sql`create trigger fail_bad before update on task_instance for each row execute function fail_bad()`.execute(db);
      }
      try {
        const r = new BatchedTryRecorder(h.rt.db);
        const bad = work.get('bad')!;
        const c = work.get('c')!;
        const [badClaim, cClaim] = await Promise.allSettled([r.claim(bad.key, bad.tryNumber, info), r.claim(c.key, c.tryNumber, info)]);
        assert.equal(badClaim.status, 'rejected');
        assert.match(String((badClaim as PromiseRejectedResult).reason), /refused by test trigger/);
        assert.deepEqual(cClaim, { status: 'fulfilled', value: true });
        assert.equal((await h.tis('rec', c.key.runId)).get('c')!.state, 'running');
      } finally {
        if (dialect === 'sqlite') await sql`drop trigger fail_bad`.execute(db);
        else await sql`drop trigger fail_bad on task_instance; drop function fail_bad()`.execute(db);
      }
    });
  });
}
