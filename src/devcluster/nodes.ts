// The dev cluster's Node objects, built from options: capacity, labels, taints, addresses and node info.
import os from 'node:os';
import { requireQuantity } from './quantity.ts';
import { SERVER_VERSION } from './discovery.ts';
import type { NodeObject, Taint } from './types.ts';
import { isDns1123Subdomain, isQualifiedName, isValidLabelValue } from './names.ts';

export interface NodeOptions {
  name?: string;
  /** CPU capacity (quantity), default the cluster-wide `cpu`. */
  cpu?: string;
  /** Memory capacity (quantity), default the cluster-wide `memory`. */
  memory?: string;
  /** Maximum pods (default 110, as the real kubelet). */
  pods?: number;
  labels?: Record<string, string>;
  taints?: Taint[];
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

/** Builds node `index` (0-based); throws an Error naming the bad option. */
export function buildNode(index: number, o: NodeOptions, defaults: { cpu: string; memory: string }): NodeObject {
  const name = o.name ?? `floe-dev-node-${index + 1}`;
  const where = `nodes[${index}]`;
  const nameErrs = isDns1123Subdomain(name);
  if (nameErrs.length) throw new Error(`${where}.name: "${name}" is not a valid node name: ${nameErrs.join('; ')}`);
  const cpu = o.cpu ?? defaults.cpu;
  const memory = o.memory ?? defaults.memory;
  requireQuantity(cpu, `${where}.cpu`);
  requireQuantity(memory, `${where}.memory`);
  const pods = o.pods ?? 110;
  if (!Number.isInteger(pods) || pods < 1) throw new Error(`${where}.pods: expected a positive integer, got ${String(pods)}`);
  for (const [k, v] of Object.entries(o.labels ?? {})) {
    const errs = [...isQualifiedName(k), ...isValidLabelValue(v)];
    if (errs.length) throw new Error(`${where}.labels: "${k}=${v}" is not a valid label: ${errs.join('; ')}`);
  }
  (o.taints ?? []).forEach((t, i) => {
    if (!t.key || isQualifiedName(t.key).length) throw new Error(`${where}.taints[${i}].key: expected a label-style key, got "${t.key}"`);
    if (!EFFECTS.includes(t.effect)) throw new Error(`${where}.taints[${i}].effect: expected one of ${EFFECTS.join(', ')}, got "${t.effect}"`);
  });
  const hostIP = `127.0.0.${index + 1}`;
  const resources = { cpu: String(cpu), memory: String(memory), pods: String(pods), 'ephemeral-storage': '100Gi' };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': 'floe-dev',
        ...(o.labels ?? {}),
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR: `127.1.0.0/16`, taints: o.taints?.length ? o.taints : undefined },
    status: {
      capacity: resources,
      allocatable: { ...resources },
      conditions: [
        { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
        { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
        { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
        { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status (floe process kubelet)' },
      ],
      addresses: [
        { type: 'InternalIP', address: hostIP },
        { type: 'Hostname', address: name },
      ],
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: os.release(),
        osImage: 'Floe dev cluster (local processes)',
        containerRuntimeVersion: 'floe-process://1',
        kubeletVersion: SERVER_VERSION.gitVersion,
        kubeProxyVersion: '',
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}
