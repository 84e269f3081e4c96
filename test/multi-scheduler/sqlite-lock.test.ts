// One scheduler per SQLite database: the lock of src/scheduler/scheduler-lock.ts, across real processes.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { acquireSqliteSchedulerLock, lockFileFor, SchedulerLockError } from '../../src/scheduler/scheduler-lock.ts';
import { tsxExecArgv } from '../helpers/tsx.ts';
import { BIN, waitFor } from './helpers.ts';

const HOLDER = fileURLToPath(new URL('./lock-holder.ts', import.meta.url));

/** Starts a process that takes the lock; resolves once it holds it (or with its refusal). */
function holder(dbUrl: string, home: string): Promise<{ child: ChildProcess; line: string }> {
  const child = spawn(process.execPath, [...tsxExecArgv(), HOLDER, dbUrl, home], { stdio: ['pipe', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) resolve({ child, line: out.trim() });
    });
    child.once('exit', (code) => reject(new Error(`lock holder exited (${code}) before reporting: ${out}`)));
  });
}

const exited = (child: ChildProcess): Promise<void> =>
  child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));

describe('SQLite scheduler lock', () => {
  let dir: string;
  const children: ChildProcess[] = [];
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'floe-lock-'));
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await Promise.all(children.map(exited));
    rmSync(dir, { recursive: true, force: true });
  });

  test('a second process is refused with a message naming the holder; the lock frees when the holder is SIGKILLed', async () => {
    const db = path.join(dir, 'a', 'floe.db');
    const first = await holder(`sqlite://${db}`, '/srv/floe-home');
    children.push(first.child);
    assert.equal(first.line, `locked ${first.child.pid}`);
    // Another process, and this one, are refused while it lives; both spellings of the URL name one file.
    const second = await holder(db, dir);
    children.push(second.child);
    assert.match(second.line, /^refused another Floe scheduler is already running on the SQLite database /);
    assert.ok(second.line.includes(`${db}: pid ${first.child.pid} on host ${hostname()}`), second.line);
    assert.ok(second.line.includes('FLOE_HOME /srv/floe-home'), second.line);
    assert.ok(second.line.includes('PostgreSQL'), second.line);
    await assert.rejects(acquireSqliteSchedulerLock(`sqlite://${db}`, dir), (e: unknown) => {
      assert.ok(e instanceof SchedulerLockError);
      assert.equal(e.holder?.pid, first.child.pid);
      assert.equal(e.lockFile, lockFileFor(db));
      return true;
    });
    // No clean-up by the holder: the kernel drops its lock when it dies.
    first.child.kill('SIGKILL');
    await exited(first.child);
    const lock = await acquireSqliteSchedulerLock(`sqlite://${db}`, dir);
    const third = await holder(db, dir);
    children.push(third.child);
    assert.match(third.line, new RegExp(`pid ${process.pid} on host`));
    await lock.release();
    await lock.release(); // idempotent
    const fourth = await holder(db, dir);
    children.push(fourth.child);
    assert.equal(fourth.line, `locked ${fourth.child.pid}`);
    fourth.child.stdin!.end(); // graceful release
    await exited(fourth.child);
    assert.equal(fourth.child.exitCode, 0);
    const fifth = await acquireSqliteSchedulerLock(db, dir);
    await fifth.release();
  });

  test('processes starting at the same moment: exactly one gets the lock, the others name it', async () => {
    const db = path.join(dir, 'race', 'floe.db');
    const all = await Promise.all(Array.from({ length: 4 }, () => holder(db, dir)));
    children.push(...all.map((a) => a.child));
    const winners = all.filter((a) => a.line.startsWith('locked '));
    assert.equal(winners.length, 1, all.map((a) => a.line).join('\n'));
    const pid = winners[0].child.pid;
    for (const a of all.filter((x) => x !== winners[0])) assert.ok(a.line.includes(`: pid ${pid} on host `), a.line);
    for (const a of all) a.child.kill('SIGKILL');
  });

  test('different SQLite files do not share a lock; PostgreSQL and in-memory databases need none', async () => {
    const a = await acquireSqliteSchedulerLock(path.join(dir, 'one.db'), dir);
    const b = await acquireSqliteSchedulerLock(path.join(dir, 'two.db'), dir);
    const pg1 = await acquireSqliteSchedulerLock('postgres://floe@127.0.0.1:1/floe', dir);
    const pg2 = await acquireSqliteSchedulerLock('postgresql://floe@127.0.0.1:1/floe', dir);
    const m1 = await acquireSqliteSchedulerLock('sqlite://:memory:', dir);
    const m2 = await acquireSqliteSchedulerLock(':memory:', dir);
    for (const l of [a, b, pg1, pg2, m1, m2]) await l.release();
  });

  test('a lock file that cannot be used is a clear error naming it', async () => {
    // The DB's directory is a file: the lock file cannot be created there.
    writeFileSync(path.join(dir, 'not-a-dir'), '');
    await assert.rejects(acquireSqliteSchedulerLock(path.join(dir, 'not-a-dir', 'floe.db'), dir), (e: unknown) => {
      assert.ok(e instanceof SchedulerLockError);
      assert.match(e.message, /scheduler lock file .*not-a-dir\/floe\.db\.scheduler-lock/);
      return true;
    });
    // Something that is not a SQLite file sits where the lock file goes.
    const db = path.join(dir, 'junk', 'floe.db');
    mkdirSync(path.dirname(db));
    writeFileSync(lockFileFor(db), 'this is not a SQLite database, it is a text file of some length '.repeat(20));
    await assert.rejects(acquireSqliteSchedulerLock(db, dir), (e: unknown) => {
      assert.ok(e instanceof SchedulerLockError);
      assert.ok(e.message.startsWith(`cannot use the scheduler lock file ${lockFileFor(db)}: `), e.message);
      return true;
    });
    assert.equal(readFileSync(lockFileFor(db), 'utf8').slice(0, 9), 'this is n', 'a foreign file is left alone');
  });

  const wired = readFileSync(fileURLToPath(new URL('../../src/cli/commands/scheduler.ts', import.meta.url)), 'utf8').includes('acquireSqliteSchedulerLock');
  test(
    'floe scheduler: a second one on the same SQLite file refuses to start, naming the first',
    { todo: wired ? undefined : 'src/cli/commands/scheduler.ts does not call acquireSqliteSchedulerLock yet' },
    async () => {
      const home = path.join(dir, 'home');
      mkdirSync(path.join(home, 'dags'), { recursive: true });
      const env: Record<string, string | undefined> = { ...process.env, FLOE_HOME: home, FLOE_DAGS_FOLDER: path.join(home, 'dags'), FLOE_CONFIG: '', FLOE__LOGGING__LEVEL: 'info' };
      delete env.FLOE_DATABASE_URL;
      const start = () => {
        const child = spawn(process.execPath, [BIN, 'scheduler'], { cwd: home, env, stdio: ['ignore', 'ignore', 'pipe'] });
        children.push(child);
        const p = { child, log: '' };
        child.stderr!.on('data', (d: Buffer) => (p.log += d.toString()));
        return p;
      };
      const first = start();
      await waitFor(async () => first.log.includes('scheduler started'), 60_000, () => `first scheduler did not start: ${first.log}`, 100);
      // The second either exits with the refusal or (wrongly) starts scheduling too.
      const second = start();
      await waitFor(async () => second.child.exitCode !== null || second.log.includes('scheduler started'), 60_000, () => `second scheduler neither started nor exited: ${second.log}`, 100);
      assert.ok(!second.log.includes('scheduler started'), 'the second scheduler started on the same SQLite file');
      assert.notEqual(second.child.exitCode, 0);
      assert.ok(second.log.includes(`another Floe scheduler is already running on the SQLite database ${path.join(home, 'floe.db')}: pid ${first.child.pid}`), second.log);
      second.child.kill('SIGKILL');
      first.child.kill('SIGTERM');
      await exited(first.child);
    },
  );
});
