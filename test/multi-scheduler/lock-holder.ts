// Child process for sqlite-lock.test.ts: takes the SQLite scheduler lock, says so on stdout, and holds it
// until stdin closes (the test ends it, or the test process went away) or it is killed.
import { acquireSqliteSchedulerLock } from '../../src/scheduler/scheduler-lock.ts';

const [dbUrl, home] = process.argv.slice(2);
try {
  const lock = await acquireSqliteSchedulerLock(dbUrl, home);
  process.stdout.write(`locked ${process.pid}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void lock.release().then(() => process.exit(0)));
} catch (e) {
  process.stdout.write(`refused ${(e as Error).message}\n`);
  process.exit(3);
}
