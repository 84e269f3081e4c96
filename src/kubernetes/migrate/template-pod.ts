// An Airflow 2.x pod_template_file taken over as a Floe pod template: kept as written, with the two
// [kubernetes] options Airflow still applies on top of it (image, namespace) and Floe's own environment.
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { IContainer } from 'kubernetes-models/v1/Container';
import { parseAllDocuments } from 'yaml';
import { MigrationError } from './airflow-config.ts';
import { floeEnv, withEnv } from './legacy-pod.ts';

export interface TemplateOverrides {
  /** worker_container_repository:worker_container_tag, when both are set. */
  image?: string;
  namespace: string;
  dagsFolder: string;
}

export interface AdaptedTemplate {
  pod: IPod;
  /** What was changed, for the report. */
  notes: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parses the YAML text of an Airflow pod template file into one Pod-shaped object. */
export function parseTemplate(text: string, file: string): Record<string, unknown> {
  const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
  if (docs.length === 0) throw new MigrationError(`${file}: the pod template is empty`);
  if (docs.length > 1) throw new MigrationError(`${file}: expected one Pod, found ${docs.length} YAML documents`);
  const doc = docs[0];
  if (doc.errors.length) {
    const e = doc.errors[0];
    const line = e.linePos?.[0]?.line;
    throw new MigrationError(`${file}${line ? `:${line}` : ''}: not valid YAML: ${e.message.split('\n')[0]}`);
  }
  const obj: unknown = doc.toJS();
  if (!isRecord(obj)) throw new MigrationError(`${file}: expected a Pod (a mapping with spec.containers), found ${typeof obj}`);
  return obj;
}

/** Pure: the template with Airflow's overrides applied and Floe's environment added to `base`. */
export function adaptTemplate(template: Record<string, unknown>, file: string, o: TemplateOverrides): AdaptedTemplate {
  const notes: string[] = [];
  const pod = structuredClone(template) as Record<string, unknown>;
  if (pod.kind !== undefined && pod.kind !== 'Pod') {
    throw new MigrationError(`${file}: kind: expected Pod, found ${JSON.stringify(pod.kind)}`);
  }
  if (pod.apiVersion !== undefined && pod.apiVersion !== 'v1') {
    throw new MigrationError(`${file}: apiVersion: expected v1, found ${JSON.stringify(pod.apiVersion)}`);
  }
  if (pod.apiVersion === undefined || pod.kind === undefined) notes.push('added apiVersion: v1 and kind: Pod');
  const spec = pod.spec;
  if (!isRecord(spec) || !Array.isArray(spec.containers)) {
    throw new MigrationError(`${file}: spec.containers: expected a list of containers`);
  }
  const containers = spec.containers as unknown[];
  const base = containers.find((c): c is IContainer => isRecord(c) && c.name === 'base');
  if (!base) {
    const names = containers.map((c) => (isRecord(c) ? JSON.stringify(c.name) : '?')).join(', ');
    throw new MigrationError(
      `${file}: spec.containers: no container named "base" (found ${names || 'none'}); ` +
        'the worker container must be named base, as Airflow also requires',
    );
  }
  if (o.image && base.image !== o.image) {
    notes.push(`base image ${base.image ? JSON.stringify(base.image) : '(none)'} → ${o.image} (worker_container_repository/tag)`);
    base.image = o.image;
  }
  for (const field of ['command', 'args'] as const) {
    if (base[field] !== undefined) {
      notes.push(`removed base.${field}: Floe sets the base container's command (floe tasks run …)`);
      delete base[field];
    }
  }
  const airflowEnv = (base.env ?? []).filter((e) => e.name.startsWith('AIRFLOW'));
  if (airflowEnv.length) {
    notes.push(`kept ${airflowEnv.map((e) => e.name).join(', ')} on base: Airflow settings that Floe does not read`);
  }
  base.env = withEnv(base.env ?? [], floeEnv(o.dagsFolder, null));
  const metadata = isRecord(pod.metadata) ? pod.metadata : {};
  if (metadata.namespace !== o.namespace) {
    if (metadata.namespace !== undefined) notes.push(`metadata.namespace ${JSON.stringify(metadata.namespace)} → ${o.namespace} ([kubernetes] namespace wins, as in Airflow)`);
    metadata.namespace = o.namespace;
  }
  const result = { apiVersion: 'v1', kind: 'Pod', ...pod, metadata } as IPod;
  return { pod: result, notes };
}
