// A real kubeconfig (cluster, user with a bearer token, context) for the dev cluster, written 0600.
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { stringify } from 'yaml';

export interface KubeconfigSpec {
  server: string;
  token: string;
  /** Cluster, user and context name (default "floe-dev"). */
  name?: string;
  namespace?: string;
}

export function kubeconfigYaml(spec: KubeconfigSpec): string {
  const name = spec.name ?? 'floe-dev';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    preferences: {},
    // Plain HTTP on loopback: client-node refuses http:// servers unless TLS verification is marked skipped.
    clusters: [{ name, cluster: { server: spec.server, 'insecure-skip-tls-verify': true } }],
    users: [{ name, user: { token: spec.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: spec.namespace ?? 'default' } }],
    'current-context': name,
  });
}

export function writeKubeconfig(file: string, spec: KubeconfigSpec): void {
  mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  writeFileSync(file, kubeconfigYaml(spec), { mode: 0o600 });
}
