// The floe command line. `floe tasks run` (what every pod and queue worker starts) takes a fast path that
// loads only the task runner; everything else loads the full program.
import { Command } from '@commander-js/extra-typings';

/** `floe tasks run` starts every try (pods, queue workers): parse it without loading every other command. */
async function taskRunProgram(): Promise<Command> {
  const { registerTaskRun } = await import('./commands/task-run.ts');
  const program = new Command().name('floe');
  registerTaskRun(program.command('tasks'));
  return program;
}

try {
  const fast = process.argv[2] === 'tasks' && process.argv[3] === 'run';
  await (fast ? await taskRunProgram() : (await import('./program.ts')).buildProgram()).parseAsync(process.argv);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
}
