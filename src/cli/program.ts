// Every floe command. Commands are thin: parse, call a module, print.
import { Command } from '@commander-js/extra-typings';
import { registerApiCommands } from './commands/api.ts';
import { registerDagsCommands } from './commands/dags.ts';
import { registerKubernetesCommands } from './commands/kubernetes.ts';
import { registerDbCommands } from './commands/db.ts';
import { registerDevCommands } from './commands/dev.ts';
import { registerSchedulerCommands } from './commands/scheduler.ts';
import { registerOperationCommands } from './commands/operations.ts';
import { registerSecretsCommands } from './commands/secrets.ts';
import { registerTasksCommands } from './commands/tasks.ts';
import { registerWorkerCommands } from './commands/worker.ts';
import { floeVersion } from './version.ts';

export function buildProgram(): Command {
  const program = new Command().name('floe').description('Floe: TypeScript DAGs, scheduled, with a pod per task when you want one').version(floeVersion());
  registerDbCommands(program);
  registerDagsCommands(program);
  registerTasksCommands(program);
  registerSchedulerCommands(program);
  registerApiCommands(program);
  registerKubernetesCommands(program);
  registerWorkerCommands(program);
  registerDevCommands(program);
  registerOperationCommands(program);
  registerSecretsCommands(program);
  return program;
}
