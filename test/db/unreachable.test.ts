// A try's outcome is written again while PostgreSQL cannot be reached: a connection the server dropped in the
// middle of a transaction must count as "unreachable", whichever error pg surfaces for it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sql } from 'kysely';
import { isConnectionError, openDb, retryWhileUnreachable } from '../../src/db/connect.ts';
import { PG_ADMIN_URL, postgresAvailable } from '../helpers/floe.ts';

test('a transaction whose connection the server terminates fails as unreachable, and is written on a new connection when retried', async (t) => {
  if (!(await postgresAvailable())) return t.skip('no PostgreSQL');
  const db = await openDb(PG_ADMIN_URL, { poolSize: 2 });
  const killer = await openDb(PG_ADMIN_URL, { poolSize: 1 });
  try {
    let attempts = 0;
    const errors: unknown[] = [];
    const result = await retryWhileUnreachable(async () => {
      attempts++;
      try {
        return await db.kysely.transaction().execute(async (trx) => {
          const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx);
          // The first attempt's backend is ended by "the administrator", as a PostgreSQL restart does.
          // The client learns of it between two statements (as while a task body runs), so pg answers the next
          // statement — and the rollback — with its own "not queryable" error rather than a server code.
          if (attempts === 1) {
            await sql`select pg_terminate_backend(${rows[0].pid})`.execute(killer.kysely);
            await new Promise((r) => setTimeout(r, 300));
          }
          await sql`select 1`.execute(trx);
          return rows[0].pid;
        });
      } catch (e) {
        errors.push(e);
        throw e;
      }
    }, 10_000);
    assert.equal(attempts, 2, `one retry: ${errors.map(String).join(' | ')}`);
    assert.ok(errors.every(isConnectionError), errors.map(String).join(' | '));
    assert.equal(typeof result, 'number');
  } finally {
    await db.close();
    await killer.close();
  }
});

test('an answer from the database (a bad statement) is not taken for unreachable: no retry', async (t) => {
  if (!(await postgresAvailable())) return t.skip('no PostgreSQL');
  const db = await openDb(PG_ADMIN_URL, { poolSize: 1 });
  try {
    let attempts = 0;
    await assert.rejects(retryWhileUnreachable(async () => {
      attempts++;
      await sql`select * from no_such_table_anywhere`.execute(db.kysely);
    }, 5_000), /no_such_table_anywhere/);
    assert.equal(attempts, 1);
  } finally {
    await db.close();
  }
});
