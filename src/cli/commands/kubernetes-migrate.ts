// `floe kubernetes migrate-airflow-cfg FILE [-o pod_template.yaml] [--floe-config floe.yaml]`
import type { Command } from '@commander-js/extra-typings';

export function registerMigrate(kubernetes: Command): void {
  const migrate = kubernetes
    .command('migrate-airflow-cfg')
    .description(
      "write a Floe worker pod template and floe.yaml keys equivalent to airflow.cfg's [kubernetes] sections " +
        '(AIRFLOW__KUBERNETES__* environment overrides applied), and report what became of every option',
    )
    .argument('<file>', 'the airflow.cfg to migrate')
    .option('-o, --output <file>', 'where to write the pod template', 'pod_template.yaml')
    .option('--floe-config <file>', 'floe.yaml to create or update with the migrated keys (default: print them)')
    .action(async (file, opts) => {
      // Output goes through commander's output configuration so callers (and tests) can redirect it.
      // Bad input (MigrationError / IniError naming file, line, section and key) propagates to main,
      // which prints it and exits 1; nothing is written before everything validated.
      const writeOut = migrate.configureOutput().writeOut ?? ((s: string) => process.stdout.write(s));
      const [{ migrateAirflowCfg, writeMigration }, { formatReport }] = await Promise.all([import('../../kubernetes/migrate/migrate.ts'), import('../../kubernetes/migrate/report.ts')]);
      const result = await migrateAirflowCfg({ cfgPath: file, templatePath: opts.output, floeConfigPath: opts.floeConfig ?? null });
      writeMigration(result);
      const out: string[] = [formatReport(result.report), `Wrote ${opts.output}`];
      if (opts.floeConfig) out.push(`Wrote ${opts.floeConfig}`);
      else out.push('', 'floe.yaml keys (or pass --floe-config floe.yaml to write them):', '', result.floeYaml.trimEnd());
      writeOut(out.join('\n') + '\n');
    });
}
