// `floe worker` as bin/floe.js runs it: the real command registration, in a program of its own, so the
// tests exercise the command before (and regardless of how) src/cli/main.ts wires it in.
import { Command } from '@commander-js/extra-typings';
import { registerWorkerCommands } from '../../src/cli/commands/worker.ts';

const program = new Command().name('floe');
registerWorkerCommands(program);
try {
  await program.parseAsync(process.argv);
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  process.exitCode = 1;
}
