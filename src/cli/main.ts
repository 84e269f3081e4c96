// The floe command line. Each command imports what it needs when it runs: `--version` loads nothing,
// `--help` only the command definitions, and `floe tasks run` (what every pod and queue worker starts per
// try) only the task runner.
import type { Command } from '@commander-js/extra-typings';

const argv = process.argv.slice(2);

async function program(): Promise<Command> {
  const { Command } = await import('@commander-js/extra-typings');
  if (argv[0] === 'tasks' && argv[1] === 'run') {
    const { registerTaskRun } = await import('./commands/task-run.ts');
    const p = new Command().name('floe');
    registerTaskRun(p.command('tasks'));
    return p;
  }
  return (await import('./program.ts')).buildProgram();
}

try {
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    const { floeVersion } = await import('./version.ts');
    console.log(floeVersion());
  } else await (await program()).parseAsync(process.argv);
} catch (e) {
  // With secrets read in this process (a connection, `tasks test`), the message shows them as *** (secrets/masker.ts).
  const masker = (globalThis as { [k: symbol]: { mask(s: string): string } | undefined })[Symbol.for('floe.secrets.masker')];
  const message = (e as Error).message;
  console.error(`error: ${masker ? masker.mask(message) : message}`);
  process.exitCode = 1;
}
