// Opens the metadata DB: better-sqlite3 for `sqlite://…` (the embedded default) or pg for `postgres://…`.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type SqliteDatabase from 'better-sqlite3';
import { CompiledQuery, type DatabaseConnection, type Driver, Kysely, PostgresDialect, SqliteDialect, SqliteDriver } from 'kysely';
import { type Dialect, migrateToLatest } from './migrations.ts';
import type { Database } from './schema.ts';

export interface Db {
  kysely: Kysely<Database>;
  dialect: Dialect;
  url: string;
  close(): Promise<void>;
}

/**
 * SQLite transactions start with BEGIN IMMEDIATE: a deferred transaction that reads, then writes, fails with
 * SQLITE_BUSY_SNAPSHOT (which busy_timeout cannot wait out) when a task runner in another process committed
 * in between. Taking the write lock up front makes writers queue instead.
 */
class ImmediateSqliteDialect extends SqliteDialect {
  createDriver(): Driver {
    const driver = super.createDriver() as SqliteDriver;
    driver.beginTransaction = async (connection: DatabaseConnection) => {
      await connection.executeQuery(CompiledQuery.raw('begin immediate'));
    };
    const acquire = driver.acquireConnection.bind(driver);
    const retrying = new WeakSet<DatabaseConnection>();
    driver.acquireConnection = async () => {
      const connection = await acquire();
      if (!retrying.has(connection)) {
        retrying.add(connection);
        const execute = connection.executeQuery.bind(connection);
        connection.executeQuery = (<R>(q: CompiledQuery) => retryWhileBusy(() => execute<R>(q))) as DatabaseConnection['executeQuery'];
      }
      return connection;
    };
    return driver;
  }
}

const BUSY_WAIT_MS = 10_000;
const pause = new Int32Array(new SharedArrayBuffer(4));

function isBusy(e: unknown): boolean {
  const code = (e as { code?: unknown }).code;
  return code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED';
}

/**
 * Waits out another process's write lock in short steps. SQLite's own busy handler sleeps 1, 2, 5, 10, 15,
 * 20, 25… ms between tries: with a scheduler and many task runners writing sub-millisecond transactions,
 * those sleeps, not the work, set the pace. A statement that got SQLITE_BUSY did nothing, so trying it
 * again is safe (transactions take the lock up front, at BEGIN IMMEDIATE).
 */
async function retryWhileBusy<T>(run: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + BUSY_WAIT_MS;
  for (let attempt = 0; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (!isBusy(e) || Date.now() > deadline) throw e;
      // 50 µs doubling to 1 ms, with jitter so waiting processes do not retry in step; then let the event
      // loop run, in case the lock holder is this very process (another connection, a timer to commit).
      const us = Math.min(1000, 50 * 2 ** Math.min(attempt, 5)) * (0.5 + Math.random());
      Atomics.wait(pause, 0, 0, us / 1000);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}

/**
 * better-sqlite3 behind a prepared-statement cache: Kysely prepares every query again, which is a sixth of the
 * scheduler's CPU on SQLite; the scheduler runs the same few dozen statements over and over.
 */
function withStatementCache(db: SqliteDatabase.Database, max = 512): { close(): void; prepare(sql: string): SqliteDatabase.Statement } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => db.close(),
    prepare(sql: string) {
      let stmt = cache.get(sql);
      if (stmt) {
        // Re-insert: Map order is recency order, the oldest goes first when full.
        cache.delete(sql);
      } else {
        stmt = db.prepare(sql);
        if (cache.size >= max) cache.delete(cache.keys().next().value!);
      }
      cache.set(sql, stmt);
      return stmt;
    },
  };
}

// Socket errors, pg's own messages for a dropped connection (a client whose socket broke stays unusable, and
// the pool replaces it when released), and PostgreSQL's "cannot connect now" / "admin shutdown" / "too many connections" classes.
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH', 'EPIPE', '57P01', '57P02', '57P03', '53300', '08000', '08001', '08003', '08006']);
const TRANSIENT_CODES = new Set(['40P01', '40001']);
/** A failure to reach the database (not an answer from it): worth trying again once it is back. */
export const isConnectionError = (e: unknown): boolean => {
  const code = (e as { code?: unknown })?.code;
  return (typeof code === 'string' && CONNECTION_CODES.has(code)) || /Connection terminated|timeout exceeded when trying to connect|encountered a connection error and is not queryable/.test((e as Error)?.message ?? '');
};

/**
 * Runs `write` again while it fails because the database cannot be reached (a restart, a failover), for up to
 * `forMs`: a write that matters — a try's outcome after its body ran — must not be lost to a dropped connection.
 * Writes retried this way must be safe to repeat (Floe's are conditional: a repeat changes nothing).
 */
export async function retryWhileUnreachable<T>(write: () => Promise<T>, forMs = 120_000): Promise<T> {
  const deadline = Date.now() + forMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      // A deadlock or serialization failure rolled the transaction back: as safe, and as worth, to repeat.
      const transient = isConnectionError(e) || TRANSIENT_CODES.has(String((e as { code?: unknown })?.code));
      if (!transient || Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, Math.min(2000, 100 * 2 ** attempt)));
    }
  }
}

export function dialectOf(url: string): Dialect {
  if (/^postgres(ql)?:\/\//.test(url)) return 'postgres';
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('sqlite://'))
    throw new Error(`database.url "${url}": expected sqlite://PATH, a file path, or postgres://…`);
  return 'sqlite';
}

function sqlitePath(url: string): string {
  return url.startsWith('sqlite://') ? url.slice('sqlite://'.length) : url;
}

export async function openDb(url: string, opts: { migrate?: boolean; poolSize?: number } = {}): Promise<Db> {
  const dialect = dialectOf(url);
  let kysely: Kysely<Database>;
  // Each driver loads only when its database is used.
  if (dialect === 'postgres') {
    const { default: pg } = await import('pg');
    const pool = new pg.Pool({ connectionString: url, max: opts.poolSize ?? 5 });
    // An idle connection dropped by the server (restart, failover) must not crash the process; the pool
    // replaces it and the next query reconnects.
    pool.on('error', () => {});
    // Nor one dropped while checked out between two statements (pg emits 'error' on the client then, and an
    // 'error' without a listener ends the process): the next statement on it fails, and is retried or reported.
    pool.on('connect', (client) => client.on('error', () => {}));
    kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  } else {
    const file = sqlitePath(url);
    if (file !== ':memory:') mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    const { default: Sqlite } = await import('better-sqlite3');
    const sqlite = new Sqlite(file);
    // WAL lets task runners in other processes write while the scheduler reads; busy_timeout queues writers.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = NORMAL');
    // No SQLite busy wait: retryWhileBusy waits in finer steps (see there).
    sqlite.pragma('busy_timeout = 0');
    kysely = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: withStatementCache(sqlite) }) });
  }
  if (opts.migrate) await migrateToLatest(kysely, dialect);
  return { kysely, dialect, url, close: () => kysely.destroy() };
}
