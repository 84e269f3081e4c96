// Pod validation: the Kubernetes OpenAPI schema for core/v1 Pod (kubernetes-models, generated from the
// upstream spec) plus the rules the schema does not state but the API server enforces.
import { Pod } from 'kubernetes-models/v1/Pod';
import { unknownFields } from './models.ts';
import {
  checkDns1123Label,
  checkDns1123Subdomain,
  checkEnvName,
  checkLabelValue,
  checkPortName,
  checkQualifiedName,
} from './names.ts';
import { formatPath, pointerToSegs, valueAt, type PathSeg } from './paths.ts';
import { parseQuantity, QUANTITY_HELP } from './quantity.ts';

export interface PodIssue {
  /** `spec.containers[name=base].resources.limits.cpu`; '' for the pod itself. */
  path: string;
  message: string;
  /**
   * A request above its limit (reported at the request): where both are, so a caller that knows who set
   * which can name the field the user did set.
   */
  conflict?: ResourceConflict;
}

export interface ResourceConflict {
  request: { path: string; segs: PathSeg[]; value: unknown };
  limit: { path: string; segs: PathSeg[]; value: unknown };
}

export interface ValidatePodOptions {
  /** Containers allowed to have no image (a template's `base`, which gets `workerImage`). */
  imageOptional?: readonly string[];
}

interface AjvError {
  instancePath: string;
  keyword: string;
  params: Record<string, unknown>;
  message?: string;
}

type Obj = Record<string, unknown>;

function got(message: string | null, value: string): string | null {
  return message && `${message}, got ${JSON.stringify(value)}`;
}

function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v);
  return s.length > 60 ? `${s.slice(0, 57)}...` : s;
}

/** One readable message per field from ajv's errors (a oneOf reports each branch separately). */
function schemaIssues(pod: Obj): { segs: PathSeg[]; message: string }[] {
  let errors: AjvError[] = [];
  try {
    new Pod(pod as ConstructorParameters<typeof Pod>[0]).validate();
  } catch (e) {
    const errs = (e as { errors?: unknown }).errors;
    if (!Array.isArray(errs)) throw e;
    errors = errs as AjvError[];
  }
  const byPath = new Map<string, AjvError[]>();
  for (const e of errors) {
    const p = e.keyword === 'required' ? `${e.instancePath}/${String(e.params.missingProperty)}` : e.instancePath;
    byPath.set(p, [...(byPath.get(p) ?? []), e]);
  }
  const out: { segs: PathSeg[]; message: string }[] = [];
  for (const [pointer, errs] of byPath) {
    const segs = pointerToSegs(pointer);
    const got = show(valueAt(pod, segs));
    const kw = (k: string) => errs.find((e) => e.keyword === k);
    let message: string;
    if (kw('required')) message = 'is required';
    else if (errs.some((e) => e.keyword === 'format' && e.params.format === 'quantity')) message = `expected ${QUANTITY_HELP}, got ${got}`;
    else if (kw('enum')) message = `expected one of ${(kw('enum')!.params.allowedValues as unknown[]).map(show).join(', ')}, got ${got}`;
    else if (kw('oneOf')) {
      const types = errs.filter((e) => e.keyword === 'type').map((e) => String(e.params.type));
      message = `expected ${types.join(' or ')}, got ${got}`;
    } else if (kw('type')) message = `expected ${String(kw('type')!.params.type)}, got ${got}`;
    else if (kw('format')) message = `expected ${String(kw('format')!.params.format)} format, got ${got}`;
    else message = `${errs.map((e) => e.message ?? e.keyword).join('; ')}, got ${got}`;
    out.push({ segs, message });
  }
  return out;
}

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'] as const;
const RESOURCE_MAPS = ['requests', 'limits'] as const;

/** Checks `pod` and returns every problem found (empty when the pod is valid). */
export function validatePod(pod: unknown, opts: ValidatePodOptions = {}): PodIssue[] {
  if (!isObject(pod)) return [{ path: '', message: `expected a Pod object (a mapping with metadata and spec), got ${show(pod)}` }];
  const found: { segs: PathSeg[]; message: string; conflict?: { request: PathSeg[]; limit: PathSeg[] } }[] = [];
  const add: Add = (segs, message, conflict) => {
    if (message) found.push({ segs, message, conflict });
  };
  if (pod.spec === undefined) add(['spec'], 'is required');

  found.push(...schemaIssues(pod));
  for (const u of unknownFields(pod)) {
    add([...u.segs, u.key], `unknown field${u.suggestion ? `; did you mean "${u.suggestion}"?` : ''}`);
  }

  checkMetadata(pod.metadata, add);

  const spec = pod.spec;
  if (isObject(spec)) checkSpec(spec, opts, add);

  const seen = new Set<string>();
  const issues: PodIssue[] = [];
  for (const f of found) {
    const issue: PodIssue = { path: formatPath(pod, f.segs), message: f.message };
    if (f.conflict) {
      const end = (segs: PathSeg[]) => ({ path: formatPath(pod, segs), segs, value: valueAt(pod, segs) });
      issue.conflict = { request: end(f.conflict.request), limit: end(f.conflict.limit) };
    }
    const key = `${issue.path}\0${issue.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      issues.push(issue);
    }
  }
  return issues;
}

type Add = (segs: PathSeg[], m: string | null, conflict?: { request: PathSeg[]; limit: PathSeg[] }) => void;

function checkMetadata(meta: unknown, add: Add): void {
  if (!isObject(meta)) return;
  if (typeof meta.name === 'string') add(['metadata', 'name'], got(checkDns1123Subdomain(meta.name), meta.name));
  if (typeof meta.namespace === 'string') add(['metadata', 'namespace'], got(checkDns1123Label(meta.namespace), meta.namespace));
  if (isObject(meta.labels)) {
    for (const [k, v] of Object.entries(meta.labels)) {
      add(['metadata', 'labels', k], checkQualifiedName(k));
      if (typeof v === 'string') add(['metadata', 'labels', k], got(checkLabelValue(v), v));
    }
  }
  if (isObject(meta.annotations)) {
    let size = 0;
    for (const [k, v] of Object.entries(meta.annotations)) {
      add(['metadata', 'annotations', k], checkQualifiedName(k));
      size += k.length + (typeof v === 'string' ? v.length : 0);
    }
    if (size > 256 * 1024) add(['metadata', 'annotations'], `annotations may hold at most 256 KiB in total (hold ${size} bytes)`);
  }
}

/**
 * The metadata rules alone (name, namespace, labels, annotations). For a pod that differs from one that passed
 * validatePod only in its metadata values and base command (another try of a similar task): the schema and
 * spec rules cannot fail where they passed before.
 */
export function validatePodMetadata(pod: { metadata?: unknown }): PodIssue[] {
  const issues: PodIssue[] = [];
  checkMetadata(pod.metadata, (segs, message) => {
    if (message) issues.push({ path: formatPath(pod, segs), message });
  });
  return issues;
}

function checkSpec(spec: Obj, opts: ValidatePodOptions, add: Add): void {
  const at = (...s: PathSeg[]): PathSeg[] => ['spec', ...s];
  if (Array.isArray(spec.containers) && spec.containers.length === 0) add(at('containers'), 'a pod needs at least one container');

  const volumeNames = new Set<string>();
  if (Array.isArray(spec.volumes)) {
    spec.volumes.forEach((v, i) => {
      if (!isObject(v) || typeof v.name !== 'string') return;
      add(at('volumes', i, 'name'), got(checkDns1123Label(v.name), v.name));
      if (volumeNames.has(v.name)) add(at('volumes', i, 'name'), `duplicate volume name "${v.name}"`);
      volumeNames.add(v.name);
      const sources = Object.keys(v).filter((k) => k !== 'name');
      if (sources.length !== 1) {
        add(at('volumes', i), sources.length === 0 ? 'a volume needs exactly one source (e.g. emptyDir, configMap, secret, persistentVolumeClaim)' : `a volume needs exactly one source, has ${sources.length}: ${sources.join(', ')}`);
      }
    });
  }

  const containerNames = new Set<string>();
  for (const list of CONTAINER_LISTS) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    cs.forEach((c, i) => {
      if (!isObject(c)) return;
      const p = (...s: PathSeg[]) => at(list, i, ...s);
      if (typeof c.name === 'string') {
        add(p('name'), got(checkDns1123Label(c.name), c.name));
        if (containerNames.has(c.name)) add(p('name'), `duplicate container name "${c.name}" (names must be unique across containers, initContainers and ephemeralContainers)`);
        containerNames.add(c.name);
        if ((c.image === undefined || c.image === '') && !(opts.imageOptional ?? []).includes(c.name)) add(p('image'), 'is required');
      }
      checkContainer(c, p, volumeNames, Array.isArray(spec.volumes), add);
    });
  }

  if (isObject(spec.nodeSelector)) {
    for (const [k, v] of Object.entries(spec.nodeSelector)) {
      add(at('nodeSelector', k), checkQualifiedName(k));
      if (typeof v === 'string') add(at('nodeSelector', k), got(checkLabelValue(v), v));
    }
  }
  if (typeof spec.serviceAccountName === 'string' && spec.serviceAccountName !== '') add(at('serviceAccountName'), got(checkDns1123Subdomain(spec.serviceAccountName), spec.serviceAccountName));
  if (Array.isArray(spec.tolerations)) {
    spec.tolerations.forEach((t, i) => {
      if (isObject(t) && t.operator === 'Exists' && typeof t.value === 'string' && t.value !== '') add(at('tolerations', i, 'value'), 'must be empty when operator is "Exists"');
    });
  }
}

function checkContainer(
  c: Obj,
  p: (...s: PathSeg[]) => PathSeg[],
  volumeNames: Set<string>,
  haveVolumes: boolean,
  add: Add,
): void {
  if (Array.isArray(c.env)) {
    const names = new Set<string>();
    c.env.forEach((e, j) => {
      if (!isObject(e) || typeof e.name !== 'string') return;
      add(p('env', j, 'name'), got(checkEnvName(e.name), e.name));
      if (names.has(e.name)) add(p('env', j, 'name'), `duplicate environment variable "${e.name}"`);
      names.add(e.name);
      if (e.value !== undefined && e.valueFrom !== undefined) add(p('env', j), 'set either value or valueFrom, not both');
    });
  }
  if (Array.isArray(c.volumeMounts)) {
    const paths = new Set<string>();
    c.volumeMounts.forEach((m, j) => {
      if (!isObject(m)) return;
      if (typeof m.mountPath === 'string') {
        if (paths.has(m.mountPath)) add(p('volumeMounts', j, 'mountPath'), `duplicate mountPath "${m.mountPath}"`);
        paths.add(m.mountPath);
      }
      if (typeof m.name === 'string' && !volumeNames.has(m.name)) {
        add(p('volumeMounts', j, 'name'), `no volume named "${m.name}" in spec.volumes${haveVolumes ? ` (volumes: ${[...volumeNames].join(', ') || 'none'})` : ''}`);
      }
    });
  }
  if (Array.isArray(c.ports)) {
    const names = new Set<string>();
    const numbers = new Set<string>();
    c.ports.forEach((port, j) => {
      if (!isObject(port)) return;
      if (typeof port.name === 'string') {
        add(p('ports', j, 'name'), got(checkPortName(port.name), port.name));
        if (names.has(port.name)) add(p('ports', j, 'name'), `duplicate port name "${port.name}"`);
        names.add(port.name);
      }
      if (typeof port.containerPort === 'number') {
        if (port.containerPort < 1 || port.containerPort > 65535) add(p('ports', j, 'containerPort'), `must be between 1 and 65535, got ${port.containerPort}`);
        const key = `${port.containerPort}/${typeof port.protocol === 'string' ? port.protocol : 'TCP'}`;
        if (numbers.has(key)) add(p('ports', j, 'containerPort'), `duplicate port ${key}`);
        numbers.add(key);
      }
      if (typeof port.hostPort === 'number' && (port.hostPort < 1 || port.hostPort > 65535)) add(p('ports', j, 'hostPort'), `must be between 1 and 65535, got ${port.hostPort}`);
    });
  }
  const res = c.resources;
  if (isObject(res)) {
    const parsed: Record<string, Map<string, number>> = {};
    for (const kind of RESOURCE_MAPS) {
      parsed[kind] = new Map();
      const m = res[kind];
      if (!isObject(m)) continue;
      for (const [name, q] of Object.entries(m)) {
        const n = parseQuantity(q);
        // Non-quantities are reported by the schema; only the sign is left to check.
        if (n === null) continue;
        if (n < 0) add(p('resources', kind, name), `must not be negative, got ${JSON.stringify(q)}`);
        else parsed[kind].set(name, n);
      }
    }
    for (const [name, req] of parsed.requests) {
      const lim = parsed.limits.get(name);
      if (lim !== undefined && req > lim) {
        const r = (res.requests as Obj)[name];
        const l = (res.limits as Obj)[name];
        const conflict = { request: p('resources', 'requests', name), limit: p('resources', 'limits', name) };
        add(conflict.request, `request ${JSON.stringify(r)} exceeds the limit ${JSON.stringify(l)}`, conflict);
      }
    }
  }
}
