// Airflow 1.10's `executor_config={"KubernetesExecutor": {...}}` converted to the equivalent podOverride.
import { PodPipelineError } from './errors.ts';
import { keySeg } from './paths.ts';
import { isObject, kindOf, type Obj } from './plain.ts';

export const LEGACY_WHERE = 'executorConfig.KubernetesExecutor';
const BASE = 'spec.containers[name=base]';

type Kind = 'string' | 'quantity' | 'object' | 'list' | 'boolean' | 'env' | 'pullSecrets' | 'names' | 'resources';
interface LegacyKey {
  /** Where it lands in the pod (a path in the docs' notation). */
  target: string;
  kind: Kind;
}

const RESOURCE_KEYS: Record<string, string> = {
  request_memory: 'requests.memory',
  request_cpu: 'requests.cpu',
  request_ephemeral_storage: 'requests.ephemeral-storage',
  limit_memory: 'limits.memory',
  limit_cpu: 'limits.cpu',
  limit_gpu: 'limits.nvidia.com/gpu',
  limit_ephemeral_storage: 'limits.ephemeral-storage',
};

/** Every legacy key Floe understands and where it goes. */
export const LEGACY_KEYS: Readonly<Record<string, LegacyKey>> = {
  image: { target: `${BASE}.image`, kind: 'string' },
  image_pull_policy: { target: `${BASE}.imagePullPolicy`, kind: 'string' },
  ...Object.fromEntries(
    Object.entries(RESOURCE_KEYS).map(([k, r]) => {
      const [map, ...name] = r.split('.');
      return [k, { target: `${BASE}.resources.${map}${keySeg(name.join('.'), false)}`, kind: 'quantity' as const }];
    }),
  ),
  resources: { target: `${BASE}.resources`, kind: 'resources' },
  env: { target: `${BASE}.env`, kind: 'env' },
  envs: { target: `${BASE}.env`, kind: 'env' },
  volume_mounts: { target: `${BASE}.volumeMounts`, kind: 'list' },
  configmaps: { target: `${BASE}.envFrom`, kind: 'names' },
  node_selectors: { target: 'spec.nodeSelector', kind: 'object' },
  affinity: { target: 'spec.affinity', kind: 'object' },
  tolerations: { target: 'spec.tolerations', kind: 'list' },
  volumes: { target: 'spec.volumes', kind: 'list' },
  security_context: { target: 'spec.securityContext', kind: 'object' },
  service_account_name: { target: 'spec.serviceAccountName', kind: 'string' },
  image_pull_secrets: { target: 'spec.imagePullSecrets', kind: 'pullSecrets' },
  hostnetwork: { target: 'spec.hostNetwork', kind: 'boolean' },
  dnspolicy: { target: 'spec.dnsPolicy', kind: 'string' },
  priority_class_name: { target: 'spec.priorityClassName', kind: 'string' },
  schedulername: { target: 'spec.schedulerName', kind: 'string' },
  namespace: { target: 'metadata.namespace', kind: 'string' },
  annotations: { target: 'metadata.annotations', kind: 'object' },
  labels: { target: 'metadata.labels', kind: 'object' },
};

function fail(key: string, message: string): never {
  throw new PodPipelineError({ stage: 'legacy', path: `${LEGACY_WHERE}.${key}`, message });
}

function unknownKey(key: string, known: string[]): never {
  fail(key, `unknown key; known keys: ${known.join(', ')}`);
}

interface Draft {
  metadata: Obj;
  spec: Obj;
  base: Obj;
}

function resources(d: Draft): Obj {
  return (d.base.resources ??= {}) as Obj;
}

function setResource(d: Draft, key: string, v: unknown, shown: string): void {
  if (typeof v !== 'string' && typeof v !== 'number') fail(shown, `expected a quantity such as "500m" or "1Gi", got ${kindOf(v)}`);
  const [map, ...rest] = RESOURCE_KEYS[key].split('.');
  const r = resources(d);
  ((r[map] ??= {}) as Obj)[rest.join('.')] = String(v);
}

function convert(d: Draft, key: string, spec: LegacyKey, v: unknown): void {
  const [section, ...fieldPath] = spec.target.replace(`${BASE}.`, 'base.').split('.');
  const field = fieldPath.join('.');
  const into = section === 'base' ? d.base : section === 'spec' ? d.spec : d.metadata;
  switch (spec.kind) {
    case 'string':
      if (typeof v !== 'string') fail(key, `expected a string, got ${kindOf(v)}`);
      into[field] = v;
      return;
    case 'boolean':
      if (typeof v !== 'boolean') fail(key, `expected true or false, got ${kindOf(v)}`);
      into[field] = v;
      return;
    case 'object':
      if (!isObject(v)) fail(key, `expected an object, got ${kindOf(v)}`);
      into[field] = v;
      return;
    case 'list':
      if (!Array.isArray(v)) fail(key, `expected a list, got ${kindOf(v)}`);
      into[field] = v;
      return;
    case 'quantity':
      setResource(d, key, v, key);
      return;
    case 'resources': {
      // Airflow 1.10 also accepted the request_*/limit_* keys nested under `resources`.
      if (!isObject(v)) fail(key, `expected an object of ${Object.keys(RESOURCE_KEYS).join(', ')}, got ${kindOf(v)}`);
      for (const [k, q] of Object.entries(v)) {
        if (!(k in RESOURCE_KEYS)) fail(`${key}.${k}`, `unknown key; known keys: ${Object.keys(RESOURCE_KEYS).join(', ')}`);
        if (q !== null && q !== undefined) setResource(d, k, q, `${key}.${k}`);
      }
      return;
    }
    case 'env': {
      if (isObject(v)) {
        d.base.env = [...((d.base.env as unknown[]) ?? []), ...Object.entries(v).map(([name, value]) => ({ name, value: typeof value === 'string' ? value : JSON.stringify(value) }))];
      } else if (Array.isArray(v)) {
        d.base.env = [...((d.base.env as unknown[]) ?? []), ...v];
      } else fail(key, `expected an object of NAME: value or a list of {name, value}, got ${kindOf(v)}`);
      return;
    }
    case 'names': {
      if (!Array.isArray(v) || !v.every((x) => typeof x === 'string')) fail(key, `expected a list of ConfigMap names, got ${kindOf(v)}`);
      d.base.envFrom = v.map((name) => ({ configMapRef: { name } }));
      return;
    }
    case 'pullSecrets': {
      // Airflow spelled these as one comma-separated string.
      const names = typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v;
      if (!Array.isArray(names)) fail(key, `expected "name1,name2" or a list, got ${kindOf(v)}`);
      d.spec.imagePullSecrets = names.map((n) => (typeof n === 'string' ? { name: n } : n));
      return;
    }
  }
}

/**
 * Converts a legacy `KubernetesExecutor` block to the equivalent podOverride (a plain pod object).
 * Unknown keys and wrongly typed values throw `PodPipelineError` (stage "legacy") naming the key.
 */
export function legacyToOverride(legacy: unknown): Obj {
  if (!isObject(legacy)) throw new PodPipelineError({ stage: 'legacy', path: LEGACY_WHERE, message: `expected an object of Airflow 1.10 settings, got ${kindOf(legacy)}` });
  const known = Object.keys(LEGACY_KEYS);
  const d: Draft = { metadata: {}, spec: {}, base: { name: 'base' } };
  for (const [key, v] of Object.entries(legacy)) {
    const spec = LEGACY_KEYS[key];
    if (!spec) unknownKey(key, known);
    // Python's None: "not set".
    if (v === null || v === undefined) continue;
    convert(d, key, spec, v);
  }
  const out: Obj = {};
  if (Object.keys(d.metadata).length) out.metadata = d.metadata;
  if (Object.keys(d.base).length > 1) d.spec.containers = [d.base];
  if (Object.keys(d.spec).length) out.spec = { containers: d.spec.containers, ...d.spec };
  if (out.spec && (out.spec as Obj).containers === undefined) delete (out.spec as Obj).containers;
  return out;
}
