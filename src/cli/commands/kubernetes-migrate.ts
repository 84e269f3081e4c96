// `floe kubernetes migrate-airflow-cfg FILE [-o pod_template.yaml] [--floe-config floe.yaml]`
import type { Command } from '@commander-js/extra-typings';
import { migrateAirflowCfg, writeMigration } from '../../kubernetes/migrate/migrate.ts';
import { formatReport } from '../../kubernetes/migrate/report.ts';
import { MigrationError } from '../../kubernetes/migrate/airflow-config.ts';
import { IniError } from '../../kubernetes/migrate/ini.ts';

export function registerMigrate(kubernetes: Command): void {
  kubernetes
    .command('migrate-airflow-cfg')
    .description(
      "write a Floe worker pod template and floe.yaml keys equivalent to airflow.cfg's [kubernetes] sections " +
        '(AIRFLOW__KUBERNETES__* environment overrides applied), and report what became of every option',
    )
    .argument('<file>', 'the airflow.cfg to migrate')
    .option('-o, --output <file>', 'where to write the pod template', 'pod_template.yaml')
    .option('--floe-config <file>', 'floe.yaml to create or update with the migrated keys (default: print them)')
    .action(async (file, opts) => {
      try {
        const result = await migrateAirflowCfg({ cfgPath: file, templatePath: opts.output, floeConfigPath: opts.floeConfig ?? null });
        writeMigration(result);
        const out: string[] = [formatReport(result.report), `Wrote ${opts.output}`];
        if (opts.floeConfig) out.push(`Wrote ${opts.floeConfig}`);
        else out.push('', 'floe.yaml keys (or pass --floe-config floe.yaml to write them):', '', result.floeYaml);
        process.stdout.write(out.join('\n') + (out[out.length - 1].endsWith('\n') ? '' : '\n'));
      } catch (e) {
        if (e instanceof MigrationError || e instanceof IniError) {
          process.stderr.write(`floe kubernetes migrate-airflow-cfg: ${e.message}\n`);
          process.exitCode = 1;
          return;
        }
        throw e;
      }
    });
}
