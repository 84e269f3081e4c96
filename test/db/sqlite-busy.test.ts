// SQLite writers wait for another connection's write lock in short steps and let the event loop run meanwhile,
// so even a lock held by this very process (released by a timer) is waited out instead of failing.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import SqliteDatabase from 'better-sqlite3';
import { openDb } from '../../src/db/connect.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'floe-busy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a write waits while another connection holds the write lock, then goes through', async () => {
  const file = path.join(dir, 'floe.db');
  const db = await openDb(`sqlite://${file}`, { migrate: true });
  const other = new SqliteDatabase(file);
  try {
    other.exec('begin immediate');
    other.prepare("insert into pool (name, slots, description) values ('held', 1, '')").run();
    const order: string[] = [];
    setTimeout(() => {
      order.push('commit');
      other.exec('commit');
    }, 300);
    await db.kysely.insertInto('pool').values({ name: 'waiter', slots: 2, description: '' }).execute();
    order.push('insert');
    await db.kysely.transaction().execute(async (trx) => trx.updateTable('pool').set({ slots: 3 }).where('name', '=', 'waiter').execute());
    assert.deepEqual(order, ['commit', 'insert']);
    const rows = await db.kysely.selectFrom('pool').select(['name', 'slots']).where('name', 'in', ['held', 'waiter']).orderBy('name').execute();
    assert.deepEqual(rows, [{ name: 'held', slots: 1 }, { name: 'waiter', slots: 3 }]);
  } finally {
    other.close();
    await db.close();
  }
});
