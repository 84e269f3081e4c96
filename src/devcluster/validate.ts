// Semantic validation of what clients send, following k8s.io/kubernetes/pkg/apis/core/validation for the
// rules Floe depends on: names, labels, annotations, containers, images, resources, env, restart policy,
// node selectors, tolerations, and the pod-update immutability rule. Pure: returns FieldErrors.
import {
  duplicate,
  forbidden,
  invalid,
  notSupported,
  required,
  tooLong,
  type FieldError,
} from './field-errors.ts';
import { canonicalJson } from './json.ts';
import { isDns1123Label, isDns1123Subdomain, isEnvVarName, isQualifiedName, isValidLabelValue } from './names.ts';
import { parseQuantity, QUANTITY_REGEX_TEXT } from './quantity.ts';
import type { Container, KObject, ObjectMeta, Pod, Toleration } from './types.ts';
import { isRecord } from './types.ts';

export type NameRule = 'subdomain' | 'label';

const TOTAL_ANNOTATION_BYTES = 256 * 1024;

export function validateObjectMeta(meta: ObjectMeta, namespaced: boolean, nameRule: NameRule): FieldError[] {
  const errs: FieldError[] = [];
  const check = nameRule === 'label' ? isDns1123Label : isDns1123Subdomain;
  if (!meta.name && !meta.generateName) {
    errs.push(required('metadata.name', 'name or generateName is required'));
  }
  if (meta.name) for (const m of check(meta.name)) errs.push(invalid('metadata.name', meta.name, m));
  if (!meta.name && meta.generateName) {
    // generateName is a prefix: a trailing '-' is fine, so check it as if a suffix followed.
    for (const m of check(meta.generateName.replace(/-$/, '') + 'a')) {
      errs.push(invalid('metadata.generateName', meta.generateName, m));
    }
  }
  if (namespaced) {
    if (!meta.namespace) errs.push(required('metadata.namespace'));
    else for (const m of isDns1123Label(meta.namespace)) errs.push(invalid('metadata.namespace', meta.namespace, m));
  } else if (meta.namespace) {
    errs.push(forbidden('metadata.namespace', 'not allowed on this type'));
  }
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  if (meta.annotations !== undefined) {
    let total = 0;
    for (const [k, v] of Object.entries(meta.annotations)) {
      for (const m of isQualifiedName(k.toLowerCase())) errs.push(invalid('metadata.annotations', k, m));
      total += k.length + (typeof v === 'string' ? v.length : 0);
    }
    if (total > TOTAL_ANNOTATION_BYTES) errs.push(tooLong('metadata.annotations', TOTAL_ANNOTATION_BYTES));
  }
  (meta.finalizers ?? []).forEach((f, i) => {
    for (const m of isQualifiedName(f)) errs.push(invalid(`metadata.finalizers[${i}]`, f, m));
  });
  return errs;
}

export function validateLabels(labels: Record<string, string> | undefined, field: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [k, v] of Object.entries(labels ?? {})) {
    for (const m of isQualifiedName(k)) errs.push(invalid(field, k, m));
    for (const m of isValidLabelValue(String(v))) errs.push(invalid(field, v, m));
  }
  return errs;
}

const RESTART_POLICIES = ['Always', 'OnFailure', 'Never'];
const PULL_POLICIES = ['Always', 'IfNotPresent', 'Never'];
const FIELD_REF_PATHS = [
  'metadata.name',
  'metadata.namespace',
  'metadata.uid',
  'metadata.labels',
  'metadata.annotations',
  'spec.nodeName',
  'spec.serviceAccountName',
  'status.hostIP',
  'status.hostIPs',
  'status.podIP',
  'status.podIPs',
];

function isSupportedFieldRef(p: string): boolean {
  return FIELD_REF_PATHS.includes(p) || /^metadata\.(labels|annotations)\['[^']+'\]$/.test(p);
}

function isStandardResourceName(name: string): boolean {
  if (['cpu', 'memory', 'ephemeral-storage', 'storage'].includes(name)) return true;
  if (name.startsWith('hugepages-')) return true;
  // Extended resources must be domain-qualified ("example.com/gpu").
  return name.includes('/') && isQualifiedName(name).length === 0;
}

function validateResources(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const parsed: Record<'limits' | 'requests', Record<string, number>> = { limits: {}, requests: {} };
  for (const kind of ['limits', 'requests'] as const) {
    const m = c.resources?.[kind];
    if (m === undefined || m === null) continue;
    for (const [name, raw] of Object.entries(m)) {
      const field = `${path}.resources.${kind}[${name}]`;
      if (!isStandardResourceName(name)) {
        errs.push(invalid(field, name, 'must be a standard resource type or fully qualified'));
        continue;
      }
      const q = parseQuantity(raw);
      if (q === null) {
        errs.push(invalid(field, String(raw), `quantities must match the regular expression '${QUANTITY_REGEX_TEXT}'`));
      } else if (q < 0) {
        errs.push(invalid(field, String(raw), 'must be greater than or equal to 0'));
      } else {
        parsed[kind][name] = q;
      }
    }
  }
  for (const [name, req] of Object.entries(parsed.requests)) {
    const lim = parsed.limits[name];
    if (lim !== undefined && req > lim) {
      errs.push(
        invalid(
          `${path}.resources.requests`,
          String(c.resources!.requests![name]),
          `must be less than or equal to ${name} limit of ${String(c.resources!.limits![name])}`,
        ),
      );
    }
  }
  return errs;
}

function validateEnv(c: Container, path: string): FieldError[] {
  const errs: FieldError[] = [];
  (c.env ?? []).forEach((e, i) => {
    const p = `${path}.env[${i}]`;
    if (!e || typeof e !== 'object') return;
    if (!e.name) errs.push(required(`${p}.name`));
    else for (const m of isEnvVarName(e.name)) errs.push(invalid(`${p}.name`, e.name, m));
    const vf = e.valueFrom;
    if (vf) {
      const sources = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter(
        (s) => (vf as Record<string, unknown>)[s] != null,
      );
      if (e.value) errs.push(invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
      if (sources.length === 0) errs.push(invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      if (sources.length > 1) errs.push(invalid(`${p}.valueFrom`, '', 'may not have more than one field specified at a time'));
      for (const ref of ['configMapKeyRef', 'secretKeyRef'] as const) {
        const r = vf[ref];
        if (!r) continue;
        if (!r.name) errs.push(required(`${p}.valueFrom.${ref}.name`));
        if (!r.key) errs.push(required(`${p}.valueFrom.${ref}.key`));
      }
      if (vf.fieldRef) {
        const fp = vf.fieldRef.fieldPath;
        if (!fp) errs.push(required(`${p}.valueFrom.fieldRef.fieldPath`));
        else if (!isSupportedFieldRef(fp)) errs.push(notSupported(`${p}.valueFrom.fieldRef.fieldPath`, fp, FIELD_REF_PATHS));
      }
    }
  });
  (c.envFrom ?? []).forEach((s, i) => {
    const p = `${path}.envFrom[${i}]`;
    const n = (s.configMapRef ? 1 : 0) + (s.secretRef ? 1 : 0);
    if (n !== 1) errs.push(invalid(p, '', 'must specify exactly one of: `configMapRef` or `secretRef`'));
    if (s.configMapRef && !s.configMapRef.name) errs.push(required(`${p}.configMapRef.name`));
    if (s.secretRef && !s.secretRef.name) errs.push(required(`${p}.secretRef.name`));
  });
  return errs;
}

function validateContainers(list: Container[], path: string, seen: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  list.forEach((c, i) => {
    const p = `${path}[${i}]`;
    if (!isRecord(c)) {
      errs.push(invalid(p, c, 'must be an object'));
      return;
    }
    if (!c.name) errs.push(required(`${p}.name`));
    else {
      for (const m of isDns1123Label(c.name)) errs.push(invalid(`${p}.name`, c.name, m));
      if (seen.has(c.name)) errs.push(duplicate(`${p}.name`, c.name));
      seen.add(c.name);
    }
    if (!c.image || String(c.image).trim() === '') errs.push(required(`${p}.image`));
    if (c.imagePullPolicy !== undefined && !PULL_POLICIES.includes(c.imagePullPolicy)) {
      errs.push(notSupported(`${p}.imagePullPolicy`, c.imagePullPolicy, PULL_POLICIES));
    }
    errs.push(...validateResources(c, p));
    errs.push(...validateEnv(c, p));
    (c.ports ?? []).forEach((port, j) => {
      const cp = port?.containerPort;
      // 0 is the Go zero value: "Required", as the real validation says (IsValidPortNum for the rest).
      if (cp === undefined || cp === null || cp === 0) errs.push(required(`${p}.ports[${j}].containerPort`));
      else if (typeof cp !== 'number' || cp < 1 || cp > 65535) {
        errs.push(invalid(`${p}.ports[${j}].containerPort`, cp ?? null, 'must be between 1 and 65535, inclusive'));
      }
    });
  });
  return errs;
}

function validateTolerations(ts: Toleration[] | undefined): FieldError[] {
  const errs: FieldError[] = [];
  (ts ?? []).forEach((t, i) => {
    const p = `spec.tolerations[${i}]`;
    if (t.key) for (const m of isQualifiedName(t.key)) errs.push(invalid(`${p}.key`, t.key, m));
    const op = t.operator ?? 'Equal';
    if (op !== 'Equal' && op !== 'Exists') errs.push(notSupported(`${p}.operator`, op, ['Equal', 'Exists']));
    if (op === 'Exists' && t.value) errs.push(invalid(`${p}.operator`, t.value, 'value must be empty when `operator` is \'Exists\''));
    if (!t.key && op !== 'Exists') errs.push(invalid(`${p}.operator`, op, 'operator must be Exists when `key` is empty, which means "match all values and all keys"'));
    if (t.effect && !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect)) {
      errs.push(notSupported(`${p}.effect`, t.effect, ['NoExecute', 'NoSchedule', 'PreferNoSchedule']));
    }
  });
  return errs;
}

export function validatePod(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, true, 'subdomain');
  const spec = pod.spec;
  if (!isRecord(spec)) return [...errs, required('spec.containers')];
  const seen = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) errs.push(required('spec.containers'));
  if (Array.isArray(spec.initContainers)) errs.push(...validateContainers(spec.initContainers, 'spec.initContainers', seen));
  if (Array.isArray(spec.containers)) errs.push(...validateContainers(spec.containers, 'spec.containers', seen));
  if (spec.restartPolicy !== undefined && !RESTART_POLICIES.includes(spec.restartPolicy)) {
    errs.push(notSupported('spec.restartPolicy', spec.restartPolicy, RESTART_POLICIES));
  }
  errs.push(...validateLabels(spec.nodeSelector, 'spec.nodeSelector'));
  errs.push(...validateTolerations(spec.tolerations));
  if (spec.activeDeadlineSeconds !== undefined && !(spec.activeDeadlineSeconds >= 1)) {
    errs.push(invalid('spec.activeDeadlineSeconds', spec.activeDeadlineSeconds, 'must be between 1 and 2147483647, inclusive'));
  }
  if (spec.terminationGracePeriodSeconds !== undefined && spec.terminationGracePeriodSeconds < 0) {
    errs.push(invalid('spec.terminationGracePeriodSeconds', spec.terminationGracePeriodSeconds, 'must be greater than or equal to 0'));
  }
  if (spec.nodeName) for (const m of isDns1123Subdomain(spec.nodeName)) errs.push(invalid('spec.nodeName', spec.nodeName, m));
  return errs;
}

/** Pod specs are immutable except container images, activeDeadlineSeconds and added tolerations. */
export function validatePodUpdate(next: Pod, prev: Pod): FieldError[] {
  const errs = validatePod(next);
  const strip = (p: Pod) => {
    const s = structuredClone(p.spec) as Record<string, unknown> & Pod['spec'];
    for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) if (isRecord(c)) delete c.image;
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    return canonicalJson(s);
  };
  if (strip(next) !== strip(prev)) {
    errs.push(
      forbidden(
        'spec',
        'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
      ),
    );
  }
  const prevTol = (prev.spec.tolerations ?? []).map((t) => canonicalJson(t));
  const nextTol = new Set((next.spec.tolerations ?? []).map((t) => canonicalJson(t)));
  if (prevTol.some((t) => !nextTol.has(t))) {
    errs.push(forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'));
  }
  return errs;
}

export function validateConfigMapLike(obj: KObject, kind: 'ConfigMap' | 'Secret'): FieldError[] {
  const errs = validateObjectMeta(obj.metadata, true, 'subdomain');
  const keyRe = /^[-._a-zA-Z0-9]+$/;
  const fields = kind === 'ConfigMap' ? ['data', 'binaryData'] : ['data', 'stringData'];
  const seen = new Set<string>();
  for (const f of fields) {
    const m = obj[f];
    if (m === undefined || m === null) continue;
    if (!isRecord(m)) {
      errs.push(invalid(f, m, 'must be a map of string keys to string values'));
      continue;
    }
    for (const k of Object.keys(m)) {
      if (!keyRe.test(k) || k.length > 253) {
        errs.push(invalid(`${f}[${k}]`, k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
      }
      if (kind === 'ConfigMap' && seen.has(k)) errs.push(invalid(`${f}[${k}]`, k, 'duplicate of key present in data'));
      seen.add(k);
    }
  }
  if (kind === 'Secret' && isRecord(obj.data)) {
    for (const [k, v] of Object.entries(obj.data)) {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
        errs.push(invalid(`data[${k}]`, '<secret contents redacted>', 'illegal base64 data'));
      }
    }
  }
  return errs;
}
