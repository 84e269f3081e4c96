// A container's environment as the kubelet builds it (makeEnvironmentVariables): envFrom sources in order,
// then env entries (value, configMapKeyRef, secretKeyRef, fieldRef, resourceFieldRef), with $(VAR)
// expansion; a missing ConfigMap/Secret or key that is not optional is a CreateContainerConfigError.
import { parseQuantity } from './quantity.ts';
import type { ConfigMapObject, Container, Pod, SecretObject } from './types.ts';

export interface EnvLookups {
  configMap(namespace: string, name: string): ConfigMapObject | undefined;
  secret(namespace: string, name: string): SecretObject | undefined;
}

/** Runtime facts fieldRef/resourceFieldRef can read that are not in the stored pod yet. */
export interface EnvRuntime {
  podIP: string;
  hostIP: string;
  nodeName: string;
  nodeCpu: number;
  nodeMemory: number;
}

export type EnvResult = { ok: true; env: Record<string, string> } | { ok: false; message: string };

/** Expands $(VAR) references to already-defined variables; $$ escapes, unknown references stay as written. */
export function expandVars(input: string, vars: Record<string, string>): string {
  return input.replace(/\$\$|\$\(([^)]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && Object.prototype.hasOwnProperty.call(vars, name) ? vars[name] : m;
  });
}

function formatMap(m: Record<string, string> | undefined): string {
  return Object.keys(m ?? {})
    .sort()
    .map((k) => `${k}=${JSON.stringify(m![k])}`)
    .join('\n');
}

function fieldRefValue(pod: Pod, path: string, rt: EnvRuntime): string | undefined {
  const sub = /^metadata\.(labels|annotations)\['([^']+)'\]$/.exec(path);
  if (sub) return (sub[1] === 'labels' ? pod.metadata.labels : pod.metadata.annotations)?.[sub[2]] ?? '';
  switch (path) {
    case 'metadata.name':
      return pod.metadata.name;
    case 'metadata.namespace':
      return pod.metadata.namespace;
    case 'metadata.uid':
      return pod.metadata.uid;
    case 'metadata.labels':
      return formatMap(pod.metadata.labels);
    case 'metadata.annotations':
      return formatMap(pod.metadata.annotations);
    case 'spec.nodeName':
      return rt.nodeName;
    case 'spec.serviceAccountName':
      return pod.spec.serviceAccountName ?? 'default';
    case 'status.hostIP':
    case 'status.hostIPs':
      return rt.hostIP;
    case 'status.podIP':
    case 'status.podIPs':
      return rt.podIP;
  }
  return undefined;
}

function resourceFieldValue(pod: Pod, c: Container, ref: { containerName?: string; resource: string; divisor?: string }, rt: EnvRuntime): string {
  const target = ref.containerName ? pod.spec.containers.find((x) => x.name === ref.containerName) ?? c : c;
  const [kind, res] = ref.resource.split('.') as ['limits' | 'requests', string];
  const raw = target.resources?.[kind]?.[res];
  let v = raw !== undefined ? parseQuantity(raw) ?? 0 : res === 'cpu' ? rt.nodeCpu : res === 'memory' ? rt.nodeMemory : 0;
  const divisor = parseQuantity(ref.divisor ?? '1') || 1;
  v = Math.ceil(v / divisor);
  return String(v);
}

function decode(secretValue: string): string {
  return Buffer.from(secretValue, 'base64').toString('utf8');
}

export function resolveContainerEnv(pod: Pod, c: Container, lookups: EnvLookups, rt: EnvRuntime): EnvResult {
  const ns = pod.metadata.namespace!;
  const env: Record<string, string> = {};
  for (const src of c.envFrom ?? []) {
    const prefix = src.prefix ?? '';
    if (src.configMapRef) {
      const cm = lookups.configMap(ns, src.configMapRef.name ?? '');
      if (!cm) {
        if (src.configMapRef.optional) continue;
        return { ok: false, message: `configmap "${src.configMapRef.name}" not found` };
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) env[prefix + k] = v;
    } else if (src.secretRef) {
      const s = lookups.secret(ns, src.secretRef.name ?? '');
      if (!s) {
        if (src.secretRef.optional) continue;
        return { ok: false, message: `secret "${src.secretRef.name}" not found` };
      }
      for (const [k, v] of Object.entries(s.data ?? {})) env[prefix + k] = decode(v);
    }
  }
  for (const e of c.env ?? []) {
    const vf = e.valueFrom;
    if (!vf) {
      env[e.name] = expandVars(e.value ?? '', env);
      continue;
    }
    if (vf.configMapKeyRef) {
      const r = vf.configMapKeyRef;
      const cm = lookups.configMap(ns, r.name ?? '');
      if (!cm) {
        if (r.optional) continue;
        return { ok: false, message: `configmap "${r.name}" not found` };
      }
      const v = cm.data?.[r.key];
      if (v === undefined) {
        if (r.optional) continue;
        return { ok: false, message: `couldn't find key ${r.key} in ConfigMap ${ns}/${r.name}` };
      }
      env[e.name] = v;
    } else if (vf.secretKeyRef) {
      const r = vf.secretKeyRef;
      const s = lookups.secret(ns, r.name ?? '');
      if (!s) {
        if (r.optional) continue;
        return { ok: false, message: `secret "${r.name}" not found` };
      }
      const v = s.data?.[r.key];
      if (v === undefined) {
        if (r.optional) continue;
        return { ok: false, message: `couldn't find key ${r.key} in Secret ${ns}/${r.name}` };
      }
      env[e.name] = decode(v);
    } else if (vf.fieldRef) {
      const v = fieldRefValue(pod, vf.fieldRef.fieldPath, rt);
      if (v === undefined) return { ok: false, message: `unsupported fieldPath: ${vf.fieldRef.fieldPath}` };
      env[e.name] = v;
    } else if (vf.resourceFieldRef) {
      env[e.name] = resourceFieldValue(pod, c, vf.resourceFieldRef, rt);
    }
  }
  return { ok: true, env };
}

/** The process argv: command + args with $(VAR) expanded from the container's environment. */
export function containerArgv(c: Container, env: Record<string, string>): string[] {
  return [...(c.command ?? []), ...(c.args ?? [])].map((a) => expandVars(a, env));
}
