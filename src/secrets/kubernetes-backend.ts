// The Kubernetes-Secret backend: connections and variables read from Secrets by name, so a task's pod needs
// neither the encryption key nor database rows it should not see — only `get` on the Secrets it uses (a Role
// with `resourceNames`). Connection `my_db` is Secret `floe-conn-my-db` (keys `uri`, or `conn_type`, `host`,
// `port`, `login`, `password`, `schema`, `extra`, `description`); variable `region` is Secret `floe-var-region`
// (key `value`). The Kubernetes client is loaded only when the backend is used.
import type { LoadedConfig } from '../config/load.ts';
import type { KubeApi } from '../kubernetes/client.ts';
import { type ConnectionFields, connectionFromAirflowJson, SecretInputError } from './connection.ts';

export type KubeSecretsConfig = Pick<LoadedConfig, 'secrets' | 'kubernetes'>;

/** The Secret name for a connection id or variable key: the prefix, then the id in lower case with `_` as `-`. */
export function secretName(prefix: string, id: string): string {
  return `${prefix}${id.toLowerCase().replaceAll('_', '-')}`;
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

let api: KubeApi | null = null;

async function kube(cfg: KubeSecretsConfig): Promise<KubeApi> {
  if (!api) {
    const { kubeApiFromConfig } = await import('../kubernetes/client.ts');
    api = kubeApiFromConfig(cfg);
  }
  return api;
}

/** A Secret's data, decoded (stringData is folded into data by the API server); null when it does not exist. */
async function readSecret(cfg: KubeSecretsConfig, name: string): Promise<Record<string, string> | null> {
  const namespace = cfg.secrets.kubernetesNamespace ?? cfg.kubernetes.namespace;
  if (!DNS_SUBDOMAIN.test(name) || name.length > 253) throw new SecretInputError(`Kubernetes Secret name "${name}" is not valid (lower-case letters, digits, - and .)`);
  const k = await kube(cfg);
  const { statusCode } = await import('../kubernetes/client.ts');
  try {
    const s = await k.call((core) => core.readNamespacedSecret({ name, namespace }));
    return Object.fromEntries(Object.entries(s.data ?? {}).map(([key, v]) => [key, Buffer.from(v, 'base64').toString('utf8')]));
  } catch (e) {
    const code = statusCode(e);
    if (code === 404) return null;
    if (code === 403)
      throw new Error(`the Kubernetes API refused to read Secret ${namespace}/${name} (403): give this pod's service account "get" on that Secret (a Role with resourceNames)`);
    throw new Error(`reading Kubernetes Secret ${namespace}/${name} failed: ${(e as Error).message}`);
  }
}

export interface FromSecret<T> {
  value: T;
  source: string;
}

export async function connectionFromKubernetes(cfg: KubeSecretsConfig, connId: string): Promise<FromSecret<ConnectionFields> | null> {
  const name = secretName(cfg.secrets.connectionsPrefix, connId);
  const data = await readSecret(cfg, name);
  if (!data) return null;
  const where = `Kubernetes Secret ${name}: `;
  const c = data.uri !== undefined ? connectionFromAirflowJson({ uri: data.uri, description: data.description }, where) : connectionFromAirflowJson(data, where);
  return { value: c, source: `kubernetes secret ${name}` };
}

export async function variableFromKubernetes(cfg: KubeSecretsConfig, key: string): Promise<FromSecret<string> | null> {
  const name = secretName(cfg.secrets.variablesPrefix, key);
  const data = await readSecret(cfg, name);
  if (!data) return null;
  if (data.value === undefined) throw new SecretInputError(`Kubernetes Secret ${name}: no "value" key (the variable's value goes under data.value)`);
  return { value: data.value, source: `kubernetes secret ${name}` };
}
