// Runs `floe kubernetes migrate-airflow-cfg` through commander exactly as the CLI registers it.
import { Command } from '@commander-js/extra-typings';
import { registerMigrate } from '../../../src/cli/commands/kubernetes-migrate.ts';

const program = new Command().name('floe').option('--verbose');
registerMigrate(program.command('kubernetes'));
await program.parseAsync(process.argv);
