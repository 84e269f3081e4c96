// The human-readable migration report: every option read, grouped by what became of it.
import type { ReportEntry } from './airflow-config.ts';
import type { MigrationReport } from './migrate.ts';

const SECTION_ORDER = [
  'core',
  'logging',
  'kubernetes_executor',
  'kubernetes',
  'kubernetes_node_selectors',
  'kubernetes_annotations',
  'kubernetes_labels',
  'kubernetes_secrets',
  'kubernetes_environment_variables',
  'DEFAULT',
];

function order(a: ReportEntry, b: ReportEntry): number {
  const sa = SECTION_ORDER.indexOf(a.section);
  const sb = SECTION_ORDER.indexOf(b.section);
  if (sa !== sb) return sa - sb;
  const la = Number(/line (\d+)/.exec(a.where)?.[1] ?? Infinity);
  const lb = Number(/line (\d+)/.exec(b.where)?.[1] ?? Infinity);
  return la !== lb ? la - lb : a.key.localeCompare(b.key);
}

function line(e: ReportEntry, arrow: string): string {
  return `  [${e.section}] ${e.key} (${e.where}) ${arrow} ${e.detail}`;
}

export interface ReportCounts {
  mapped: number;
  defaults: number;
  ignored: number;
  unset: number;
  unknown: number;
}

export function countEntries(r: MigrationReport): ReportCounts {
  const c: ReportCounts = { mapped: 0, defaults: 0, ignored: 0, unset: 0, unknown: 0 };
  for (const e of r.entries) {
    if (e.disposition === 'mapped') c[e.where === 'Airflow default' ? 'defaults' : 'mapped']++;
    else c[e.disposition]++;
  }
  return c;
}

export function formatReport(r: MigrationReport): string {
  const out: string[] = [];
  const version = r.airflow.version === '2' ? 'Airflow 2.x' : 'Airflow 1.10.x';
  const pod =
    r.style === 'template'
      ? `worker pod from pod_template_file ${r.templateSource}`
      : r.style === 'minimal'
        ? 'no pod_template_file: a minimal worker pod (image, namespace)'
        : 'worker pod built from [kubernetes] options';
  out.push(`Migration of ${r.cfgFile}: ${version} configuration (${r.airflow.reason}); ${pod}`);
  const entries = [...r.entries].sort(order);
  const group = (title: string, list: ReportEntry[], arrow: string) => {
    if (!list.length) return;
    out.push('', `${title}:`, ...list.map((e) => line(e, arrow)));
  };
  const fromCfg = entries.filter((e) => e.where !== 'Airflow default');
  group('Mapped', fromCfg.filter((e) => e.disposition === 'mapped'), '→');
  group("Not set, Airflow's default used", entries.filter((e) => e.where === 'Airflow default' && e.disposition === 'mapped'), '→');
  group('Ignored', fromCfg.filter((e) => e.disposition === 'ignored'), '—');
  group('Unknown (WARNING: not migrated)', fromCfg.filter((e) => e.disposition === 'unknown'), '—');
  const unset = fromCfg.filter((e) => e.disposition === 'unset');
  if (unset.length) {
    out.push('', 'Empty (same as not set):');
    const bySection = new Map<string, string[]>();
    for (const e of unset) bySection.set(e.section, [...(bySection.get(e.section) ?? []), e.key]);
    for (const [section, keys] of bySection) out.push(`  [${section}] ${keys.join(', ')}`);
  }
  if (r.otherSections.length) {
    out.push('', 'Other sections (not part of the Kubernetes executor configuration, not migrated):');
    out.push(`  ${r.otherSections.map((s) => `[${s.name}] ${s.options} option${s.options === 1 ? '' : 's'}`).join(', ')}`);
  }
  if (r.notes.length) out.push('', 'Notes:', ...r.notes.map((n) => `  - ${n}`));
  if (r.warnings.length) out.push('', 'Warnings:', ...r.warnings.map((w) => `  - ${w}`));
  const c = countEntries(r);
  out.push(
    '',
    `${c.mapped} mapped, ${c.defaults} Airflow defaults, ${c.ignored} ignored, ${c.unset} empty, ${c.unknown} unknown; ${r.warnings.length} warning(s)`,
  );
  return out.join('\n') + '\n';
}
