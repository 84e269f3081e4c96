// One scheduler per SQLite database. SQLite has no row locks, so the multi-scheduler critical section
// (queueing.ts) is only sound on PostgreSQL; a second `floe scheduler`/`standalone` on the same SQLite
// file must refuse to start instead of double-queueing.
//
// The lock is an OS file lock, not a pid file: a small SQLite database beside the metadata DB
// (`<db>.scheduler-lock`) on which the holder keeps a write transaction open (`BEGIN IMMEDIATE`, a
// RESERVED lock) for its whole life. The kernel drops the lock when the process ends however it ends
// (SIGKILL, OOM, power loss on reboot), so there is no stale lock to clean up and no pid-reuse guess.
// The holder's pid/host are committed in the file before the lock is taken, so a refused scheduler can
// name the process in the way (readers are not blocked by a RESERVED lock).
//
// The lock file is never deleted: deleting it while a contender has it open would let two processes
// lock two different files of the same name.
import { mkdirSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { dialectOf } from '../db/connect.ts';

export interface SchedulerLock {
  /** Lets the next scheduler start. Idempotent. */
  release(): Promise<void>;
}

/** Who holds the lock, as the holder recorded it. */
export interface LockHolder {
  pid: number;
  hostname: string;
  home: string;
  startedAt: string;
}

export class SchedulerLockError extends Error {
  constructor(
    message: string,
    readonly lockFile: string,
    readonly holder: LockHolder | null,
  ) {
    super(message);
    this.name = 'SchedulerLockError';
  }
}

/** The SQLite file of a `sqlite://…` URL or plain path, absolute (as openDb resolves it); null for `:memory:`. */
export function sqliteFileOf(dbUrl: string): string | null {
  const file = dbUrl.startsWith('sqlite://') ? dbUrl.slice('sqlite://'.length) : dbUrl;
  if (file === ':memory:' || file === '') return null;
  return path.resolve(file);
}

export const lockFileFor = (dbFile: string): string => `${dbFile}.scheduler-lock`;

const noLock: SchedulerLock = { release: async () => {} };
const BUSY_WAIT_MS = 500;

function isBusy(e: unknown): boolean {
  const code = (e as { code?: string }).code ?? '';
  return code === 'SQLITE_BUSY' || code.startsWith('SQLITE_BUSY_') || code === 'SQLITE_LOCKED';
}

function readHolder(db: SqliteDatabase.Database): LockHolder | null {
  try {
    const row = db.prepare('select pid, hostname, home, started_at as startedAt from holder where id = 1').get() as LockHolder | undefined;
    return row ?? null;
  } catch {
    // The holder may still be between creating the file and recording itself: name no one.
    return null;
  }
}

export function describeHolder(h: LockHolder | null): string {
  if (!h) return 'another process (it has not recorded its pid yet)';
  return `pid ${h.pid} on host ${h.hostname} (started ${h.startedAt}, FLOE_HOME ${h.home})`;
}

/**
 * Takes the one-scheduler lock of a SQLite metadata DB, or throws a SchedulerLockError naming the process
 * that holds it. PostgreSQL URLs and in-memory SQLite need no lock (a no-op lock is returned): several
 * schedulers on PostgreSQL are supported, and an in-memory DB cannot be shared by another process.
 * `home` (FLOE_HOME) is recorded so the message tells which installation the other scheduler belongs to.
 */
export async function acquireSqliteSchedulerLock(dbUrl: string, home: string): Promise<SchedulerLock> {
  if (dialectOf(dbUrl) !== 'sqlite') return noLock;
  const dbFile = sqliteFileOf(dbUrl);
  if (!dbFile) return noLock;
  const lockFile = lockFileFor(dbFile);
  let db: SqliteDatabase.Database;
  try {
    mkdirSync(path.dirname(lockFile), { recursive: true });
    // A short busy timeout rides out other starters' brief reads and commits; the holder's long-lived
    // lock still refuses us, after this wait.
    db = new SqliteDatabase(lockFile, { timeout: BUSY_WAIT_MS });
  } catch (e) {
    throw new SchedulerLockError(`cannot open the scheduler lock file ${lockFile} (beside the SQLite database ${dbFile}): ${(e as Error).message}`, lockFile, null);
  }
  const refuse = (): never => {
    const holder = readHolder(db);
    db.close();
    throw new SchedulerLockError(
      `another Floe scheduler is already running on the SQLite database ${dbFile}: ${describeHolder(holder)}. ` +
        'SQLite supports one scheduler at a time: stop that process first, or use PostgreSQL (FLOE_DATABASE_URL=postgres://…) ' +
        `to run several schedulers (docs/multiple-schedulers.md). Lock file: ${lockFile}`,
      lockFile,
      holder,
    );
  };
  try {
    // Rollback journal, not WAL: no -wal/-shm side files, and the RESERVED lock is a plain fcntl lock.
    db.pragma('journal_mode = DELETE');
    db.exec('create table if not exists holder (id integer primary key check (id = 1), pid integer not null, hostname text not null, home text not null, started_at text not null)');
    // Record ourselves, then take the lock. If a contender slips in between, it overwrites the record and
    // wins the lock; our BEGIN IMMEDIATE below fails and we report it: one holder either way.
    const me: LockHolder = { pid: process.pid, hostname: hostname(), home, startedAt: new Date().toISOString() };
    db.exec('begin immediate');
    db.prepare('insert or replace into holder (id, pid, hostname, home, started_at) values (1, ?, ?, ?, ?)').run(me.pid, me.hostname, me.home, me.startedAt);
    db.exec('commit');
    db.exec('begin immediate');
  } catch (e) {
    // A failed commit leaves our own record pending: drop it, so the message names the other process.
    try {
      if (db.inTransaction) db.exec('rollback');
    } catch {
      /* nothing to roll back */
    }
    if (isBusy(e)) return refuse();
    db.close();
    throw new SchedulerLockError(`cannot use the scheduler lock file ${lockFile}: ${(e as Error).message}`, lockFile, null);
  }
  let released = false;
  return {
    async release() {
      if (released) return;
      released = true;
      try {
        db.exec('rollback');
      } finally {
        db.close();
      }
    },
  };
}
