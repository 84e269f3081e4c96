// The core/v1 resources the dev cluster serves: discovery facts, field-selector labels, patch metadata,
// validation and create/update preparation per kind. Everything kind-specific lives here.
import { defaultPod, qosClass } from './defaults.ts';
import type { FieldError } from './field-errors.ts';
import {
  GENERIC_PATCH_SCHEMA,
  NODE_PATCH_SCHEMA,
  POD_PATCH_SCHEMA,
  type PatchSchema,
} from './patch.ts';
import type { KObject, Pod, SecretObject } from './types.ts';
import { isRecord } from './types.ts';
import { validateConfigMapLike, validateObjectMeta, validatePod, validatePodUpdate } from './validate.ts';

export interface ResourceDef {
  name: string;
  singularName: string;
  kind: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  subresources: string[];
  categories?: string[];
  /** Field labels accepted in fieldSelector. */
  fieldLabels: ReadonlySet<string>;
  fields(obj: KObject): Record<string, string>;
  patchSchema: PatchSchema;
  /** Pods and namespaces answer DELETE with the object; the others with a Success Status. */
  returnDeletedObject: boolean;
  /** Clients may not create or delete these (nodes belong to the dev cluster). */
  clientReadOnly?: boolean;
  validate(obj: KObject): FieldError[];
  validateUpdate(next: KObject, prev: KObject): FieldError[];
  /** Defaulting and server-owned fields on create. Mutates `obj`. */
  prepareCreate(obj: KObject): void;
  /** Server-owned fields carried over on update of the main resource. Mutates `next`. */
  prepareUpdate(next: KObject, prev: KObject): void;
}

const ALL_VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function metaFields(o: KObject, namespaced: boolean): Record<string, string> {
  const f: Record<string, string> = { 'metadata.name': o.metadata.name ?? '' };
  if (namespaced) f['metadata.namespace'] = o.metadata.namespace ?? '';
  return f;
}

const str = (v: unknown): string => (v === undefined || v === null ? '' : String(v));

const keepStatus = (next: KObject, prev: KObject): void => {
  if (prev.status !== undefined) next.status = structuredClone(prev.status);
  else delete next.status;
};

const pods: ResourceDef = {
  name: 'pods',
  singularName: 'pod',
  kind: 'Pod',
  namespaced: true,
  shortNames: ['po'],
  verbs: ALL_VERBS,
  subresources: ['binding', 'log', 'status'],
  categories: ['all'],
  fieldLabels: new Set([
    'metadata.name',
    'metadata.namespace',
    'spec.nodeName',
    'spec.restartPolicy',
    'spec.schedulerName',
    'spec.serviceAccountName',
    'spec.hostNetwork',
    'status.phase',
    'status.podIP',
    'status.podIPs',
    'status.nominatedNodeName',
  ]),
  fields(o) {
    const p = o as Pod;
    return {
      ...metaFields(o, true),
      'spec.nodeName': str(p.spec?.nodeName),
      'spec.restartPolicy': str(p.spec?.restartPolicy),
      'spec.schedulerName': str(p.spec?.schedulerName),
      'spec.serviceAccountName': str(p.spec?.serviceAccountName),
      'spec.hostNetwork': String(Boolean(p.spec?.hostNetwork)),
      'status.phase': str(p.status?.phase),
      'status.podIP': str(p.status?.podIP),
      'status.podIPs': str(p.status?.podIP),
      'status.nominatedNodeName': str(p.status?.nominatedNodeName),
    };
  },
  patchSchema: POD_PATCH_SCHEMA,
  returnDeletedObject: true,
  validate: (o) => validatePod(o as Pod),
  validateUpdate: (n, p) => validatePodUpdate(n as Pod, p as Pod),
  prepareCreate(o) {
    const pod = o as Pod;
    defaultPod(pod);
    pod.status = { phase: 'Pending', qosClass: qosClass(pod) };
  },
  prepareUpdate: keepStatus,
};

const namespaces: ResourceDef = {
  name: 'namespaces',
  singularName: 'namespace',
  kind: 'Namespace',
  namespaced: false,
  shortNames: ['ns'],
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: ['status'],
  fieldLabels: new Set(['metadata.name', 'status.phase']),
  fields: (o) => ({ ...metaFields(o, false), 'status.phase': str(isRecord(o.status) ? o.status.phase : '') }),
  patchSchema: GENERIC_PATCH_SCHEMA,
  returnDeletedObject: true,
  validate: (o) => validateObjectMeta(o.metadata, false, 'label'),
  validateUpdate: (o) => validateObjectMeta(o.metadata, false, 'label'),
  prepareCreate(o) {
    o.metadata.labels = { ...(o.metadata.labels ?? {}), 'kubernetes.io/metadata.name': o.metadata.name! };
    o.spec = { finalizers: ['kubernetes'] };
    o.status = { phase: 'Active' };
  },
  prepareUpdate(n, p) {
    keepStatus(n, p);
    n.spec = structuredClone(p.spec);
    n.metadata.labels = { ...(n.metadata.labels ?? {}), 'kubernetes.io/metadata.name': n.metadata.name! };
  },
};

const configmaps: ResourceDef = {
  name: 'configmaps',
  singularName: 'configmap',
  kind: 'ConfigMap',
  namespaced: true,
  shortNames: ['cm'],
  verbs: ALL_VERBS,
  subresources: [],
  fieldLabels: new Set(['metadata.name', 'metadata.namespace']),
  fields: (o) => metaFields(o, true),
  patchSchema: GENERIC_PATCH_SCHEMA,
  returnDeletedObject: false,
  validate: (o) => validateConfigMapLike(o, 'ConfigMap'),
  validateUpdate: (o) => validateConfigMapLike(o, 'ConfigMap'),
  prepareCreate: () => {},
  prepareUpdate: () => {},
};

/** stringData is write-only: merged into data (base64) on every write, as the real server does. */
function foldStringData(o: KObject): void {
  const s = o as SecretObject;
  if (s.stringData && isRecord(s.stringData)) {
    s.data = { ...(s.data ?? {}) };
    for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  }
  delete s.stringData;
}

const secrets: ResourceDef = {
  name: 'secrets',
  singularName: 'secret',
  kind: 'Secret',
  namespaced: true,
  shortNames: [],
  verbs: ALL_VERBS,
  subresources: [],
  fieldLabels: new Set(['metadata.name', 'metadata.namespace', 'type']),
  fields: (o) => ({ ...metaFields(o, true), type: str((o as SecretObject).type) }),
  patchSchema: GENERIC_PATCH_SCHEMA,
  returnDeletedObject: false,
  validate: (o) => validateConfigMapLike(o, 'Secret'),
  validateUpdate: (o) => validateConfigMapLike(o, 'Secret'),
  prepareCreate(o) {
    foldStringData(o);
    (o as SecretObject).type ||= 'Opaque';
  },
  prepareUpdate(n) {
    foldStringData(n);
    (n as SecretObject).type ||= 'Opaque';
  },
};

const events: ResourceDef = {
  name: 'events',
  singularName: 'event',
  kind: 'Event',
  namespaced: true,
  shortNames: ['ev'],
  verbs: ALL_VERBS,
  subresources: [],
  fieldLabels: new Set([
    'metadata.name',
    'metadata.namespace',
    'involvedObject.kind',
    'involvedObject.namespace',
    'involvedObject.name',
    'involvedObject.uid',
    'involvedObject.apiVersion',
    'involvedObject.resourceVersion',
    'involvedObject.fieldPath',
    'reason',
    'reportingComponent',
    'source',
    'type',
  ]),
  fields(o) {
    const io = (isRecord(o.involvedObject) ? o.involvedObject : {}) as Record<string, unknown>;
    const src = (isRecord(o.source) ? o.source : {}) as Record<string, unknown>;
    return {
      ...metaFields(o, true),
      'involvedObject.kind': str(io.kind),
      'involvedObject.namespace': str(io.namespace),
      'involvedObject.name': str(io.name),
      'involvedObject.uid': str(io.uid),
      'involvedObject.apiVersion': str(io.apiVersion),
      'involvedObject.resourceVersion': str(io.resourceVersion),
      'involvedObject.fieldPath': str(io.fieldPath),
      reason: str(o.reason),
      reportingComponent: str(o.reportingComponent),
      source: str(src.component),
      type: str(o.type),
    };
  },
  patchSchema: GENERIC_PATCH_SCHEMA,
  returnDeletedObject: false,
  validate: (o) => validateObjectMeta(o.metadata, true, 'subdomain'),
  validateUpdate: (o) => validateObjectMeta(o.metadata, true, 'subdomain'),
  prepareCreate: () => {},
  prepareUpdate: () => {},
};

const nodes: ResourceDef = {
  name: 'nodes',
  singularName: 'node',
  kind: 'Node',
  namespaced: false,
  shortNames: ['no'],
  // Created by kubelets registering (`floe dev kubelet` attached to the dev cluster), as on a real server.
  verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: ['status'],
  fieldLabels: new Set(['metadata.name', 'spec.unschedulable']),
  fields: (o) => ({
    ...metaFields(o, false),
    'spec.unschedulable': String(Boolean(isRecord(o.spec) && o.spec.unschedulable)),
  }),
  patchSchema: NODE_PATCH_SCHEMA,
  returnDeletedObject: true,
  validate: (o) => validateObjectMeta(o.metadata, false, 'subdomain'),
  validateUpdate: (o) => validateObjectMeta(o.metadata, false, 'subdomain'),
  prepareCreate: () => {},
  prepareUpdate: keepStatus,
};

export const RESOURCES: readonly ResourceDef[] = [pods, namespaces, configmaps, secrets, events, nodes];

const BY_NAME = new Map(RESOURCES.map((r) => [r.name, r]));

export function resourceByName(name: string): ResourceDef | undefined {
  return BY_NAME.get(name);
}

export const POD_RESOURCE = pods;
export const EVENT_RESOURCE = events;
export const NODE_RESOURCE = nodes;
export const NAMESPACE_RESOURCE = namespaces;
