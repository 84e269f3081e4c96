// Child process for scheduler-jobs.test.ts: opens the metadata DB as a scheduler does (openDb), prints the
// PostgreSQL backend pid of its idle pooled connection, then on each stdin line queries again and prints
// "ok" — or dies, if losing a connection crashes the process.
import { createInterface } from 'node:readline';
import { sql } from 'kysely';
import { openDb } from '../../src/db/connect.ts';

const db = await openDb(process.argv[2]);
const pid = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db.kysely);
process.stdout.write(`backend ${pid.rows[0].pid}\n`);
for await (const _line of createInterface({ input: process.stdin })) {
  await sql`select 1`.execute(db.kysely);
  process.stdout.write('ok\n');
}
await db.close();
