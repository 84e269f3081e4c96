// Which Airflow an airflow.cfg is for, from what it holds: 1.10.x builds worker pods from [kubernetes] options,
// Airflow 2 from pod_template_file alone, and each reads options the other does not.
import { AIRFLOW_1_ONLY, AIRFLOW_2_ONLY, DICT_SECTIONS, type AirflowVersion } from './known-options.ts';

export interface VersionEvidence {
  /** Section names in the file. */
  sections: readonly string[];
  /** Sections named by AIRFLOW__<SECTION>__<KEY> variables, lower-case. */
  envSections: readonly string[];
  /** Option names of [kubernetes] / [kubernetes_executor] in the file or the environment, as Airflow reads them. */
  options: readonly string[];
  /** pod_template_file has a value. */
  podTemplateFile: boolean;
}

export interface DetectedVersion {
  version: AirflowVersion;
  /** Why, for the report: `[kubernetes_executor] is an Airflow 2.5+ section`. */
  reason: string;
}

/**
 * Airflow 2 signs win over 1.10.x ones: a 1.10.x install never has them, while configs upgraded to 2 often keep
 * stale 1.10.x options. Without either, a set pod_template_file means 2 (its way of building pods); with nothing
 * at all, 1.10.x, whose options build a pod without a template (Airflow 2 cannot run without one).
 */
export function detectAirflowVersion(e: VersionEvidence): DetectedVersion {
  if (e.sections.includes('kubernetes_executor') || e.envSections.includes('kubernetes_executor')) {
    return { version: '2', reason: '[kubernetes_executor] is an Airflow 2.5+ section' };
  }
  const only2 = e.options.filter((o) => AIRFLOW_2_ONLY.has(o));
  if (only2.length) return { version: '2', reason: `${only2[0]} is an Airflow 2 option` };
  if (e.sections.includes('logging')) return { version: '2', reason: '[logging] is an Airflow 2 section' };
  const only1 = e.options.filter((o) => AIRFLOW_1_ONLY.has(o));
  if (only1.length) return { version: '1.10', reason: `${only1[0]} is an Airflow 1.10.x option` };
  const dict = DICT_SECTIONS.find((d) => e.sections.includes(d) || e.envSections.includes(d));
  if (dict) return { version: '1.10', reason: `[${dict}] is an Airflow 1.10.x section` };
  if (e.podTemplateFile) return { version: '2', reason: 'pod_template_file is set and no option is 1.10.x-only' };
  return { version: '1.10', reason: 'no option tells the versions apart; read as 1.10.x, whose [kubernetes] options build the pod' };
}
