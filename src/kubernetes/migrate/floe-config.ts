// The floe.yaml fragment the migration emits, checked against Floe's config schema, and merged into
// an existing floe.yaml (keeping its other keys and comments) when one is given.
import { isMap, parseDocument, stringify } from 'yaml';
import { configSchema } from '../../config/schema.ts';
import { formatZodIssues } from '../../config/load.ts';
import { MigrationError } from './airflow-config.ts';

export type DeleteWorkerPods = 'always' | 'onSuccess' | 'never';

export interface FloeFragment {
  core: { dagsFolder: string; executor: 'kubernetes' | 'hybrid' };
  kubernetes: {
    namespace: string;
    podTemplateFile: string;
    workerImage: string;
    podCreationBatchSize: number;
    deleteWorkerPods: DeleteWorkerPods;
    multiNamespaceMode: boolean;
    multiNamespaces: string[];
    podPendingTimeout: number;
    kubeconfig: string | null;
    context: string | null;
    inCluster: boolean;
    taskPublishMaxRetries?: number;
  };
  logging?: { logsFolder: string };
  hybrid?: { kubernetesQueue: string };
}

/** Airflow's delete_worker_pods + delete_worker_pods_on_failure as one Floe policy. */
export function deletePolicy(deletePods: boolean, onFailure: boolean): DeleteWorkerPods {
  if (!deletePods) return 'never';
  return onFailure ? 'always' : 'onSuccess';
}

/** Throws when the fragment is not a valid Floe configuration (a bug here, or a value out of range). */
export function checkFragment(fragment: FloeFragment, where: string): void {
  const r = configSchema.safeParse(fragment);
  if (!r.success) throw new MigrationError(formatZodIssues(r.error, where));
}

/** floe.yaml text: the fragment alone, or merged into `existing` (another floe.yaml's text). */
export function renderFloeYaml(fragment: FloeFragment, existing: string | null, file: string, header: string): string {
  if (existing === null || existing.trim() === '') {
    return `${header}\n${stringify(fragment)}`;
  }
  const doc = parseDocument(existing);
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new MigrationError(`${file}${line ? `:${line}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new MigrationError(`${file}: expected a mapping of sections (core:, kubernetes:, …) at the top level`);
  }
  for (const [section, values] of Object.entries(fragment) as [string, Record<string, unknown>][]) {
    for (const [key, value] of Object.entries(values)) doc.setIn([section, key], value);
  }
  const merged: unknown = doc.toJS();
  const r = configSchema.safeParse(merged);
  if (!r.success) throw new MigrationError(formatZodIssues(r.error, `${file} (after merging the migrated keys)`));
  return doc.toString();
}
