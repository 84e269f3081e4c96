// Server-side printing: `kubectl get` asks for meta.k8s.io/v1 Table responses; these are the columns and
// cells the real API server's printers produce for the kinds the dev cluster serves.
import type { ContainerStatus, KObject, NodeObject, Pod, SecretObject } from './types.ts';
import { isRecord } from './types.ts';

export interface ColumnDefinition {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}

export interface TableRow {
  cells: unknown[];
  object?: unknown;
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** kubectl's duration.HumanDuration, used for AGE-style cells. */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${hours / 24}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const dy = Math.floor(hours / 24) % 365;
    const y = Math.floor(hours / 24 / 365);
    return dy === 0 ? `${y}y` : `${y}y${dy}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

const since = (ts: string | undefined, now: number): string => (ts ? humanDuration(now - Date.parse(ts)) : '<unknown>');

const col = (name: string, description: string, priority = 0, type = 'string', format = ''): ColumnDefinition => ({
  name,
  type,
  format,
  description,
  priority,
});

const NAME_COL = col('Name', 'Name must be unique within a namespace.', 0, 'string', 'name');
const AGE_COL = col('Age', 'CreationTimestamp is a timestamp representing the server time when this object was created.');

interface Printer {
  columns: ColumnDefinition[];
  cells(obj: KObject, now: number): unknown[];
}

function podStatusText(pod: Pod): { reason: string; ready: number; restarts: number; lastRestart?: string } {
  const status = pod.status ?? {};
  let reason = status.reason || status.phase || 'Unknown';
  let restarts = 0;
  let ready = 0;
  let lastRestart: string | undefined;
  const noteRestart = (cs: ContainerStatus) => {
    restarts += cs.restartCount ?? 0;
    const f = cs.lastState?.terminated?.finishedAt;
    if (f && (!lastRestart || f > lastRestart)) lastRestart = f;
  };
  let initializing = false;
  const inits = status.initContainerStatuses ?? [];
  for (let i = 0; i < inits.length; i++) {
    const cs = inits[i];
    noteRestart(cs);
    const t = cs.state?.terminated;
    const w = cs.state?.waiting;
    if (t && t.exitCode === 0) continue;
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (w?.reason && w.reason !== 'PodInitializing') reason = `Init:${w.reason}`;
    else reason = `Init:${i}/${pod.spec.initContainers?.length ?? inits.length}`;
    initializing = true;
    break;
  }
  if (!initializing) {
    restarts = 0;
    let hasRunning = false;
    const css = status.containerStatuses ?? [];
    for (let i = css.length - 1; i >= 0; i--) {
      const cs = css[i];
      noteRestart(cs);
      const w = cs.state?.waiting;
      const t = cs.state?.terminated;
      if (w?.reason) reason = w.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (cs.ready && cs.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.metadata.deletionTimestamp) reason = status.reason === 'NodeLost' ? 'Unknown' : 'Terminating';
  return { reason, ready, restarts, lastRestart };
}

const PRINTERS: Record<string, Printer> = {
  pods: {
    columns: [
      NAME_COL,
      col('Ready', 'The aggregate readiness state of this pod for accepting traffic.'),
      col('Status', 'The aggregate status of the containers in this pod.'),
      col('Restarts', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
      AGE_COL,
      col('IP', 'The IP address assigned to this pod', 1),
      col('Node', 'The name of the node this pod is scheduled on', 1),
      col('Nominated Node', 'The name of the node that the pod is nominated to run on', 1),
      col('Readiness Gates', 'The readiness gates of this pod', 1),
    ],
    cells(obj, now) {
      const pod = obj as Pod;
      const s = podStatusText(pod);
      const restarts = s.lastRestart && s.restarts > 0 ? `${s.restarts} (${since(s.lastRestart, now)} ago)` : String(s.restarts);
      return [
        pod.metadata.name,
        `${s.ready}/${pod.spec.containers.length}`,
        s.reason,
        restarts,
        since(pod.metadata.creationTimestamp, now),
        pod.status?.podIP || '<none>',
        pod.spec.nodeName || '<none>',
        '<none>',
        '<none>',
      ];
    },
  },
  namespaces: {
    columns: [NAME_COL, col('Status', 'The status of the namespace'), AGE_COL],
    cells: (o, now) => [
      o.metadata.name,
      (isRecord(o.status) && o.status.phase) || 'Active',
      since(o.metadata.creationTimestamp, now),
    ],
  },
  configmaps: {
    columns: [NAME_COL, col('Data', 'Data contains the configuration data.', 0, 'integer'), AGE_COL],
    cells: (o, now) => [
      o.metadata.name,
      Object.keys(isRecord(o.data) ? o.data : {}).length + Object.keys(isRecord(o.binaryData) ? o.binaryData : {}).length,
      since(o.metadata.creationTimestamp, now),
    ],
  },
  secrets: {
    columns: [NAME_COL, col('Type', 'The type of data stored in the secret'), col('Data', 'The number of entries in the data/stringData', 0, 'integer'), AGE_COL],
    cells: (o, now) => [
      o.metadata.name,
      (o as SecretObject).type ?? 'Opaque',
      Object.keys((o as SecretObject).data ?? {}).length,
      since(o.metadata.creationTimestamp, now),
    ],
  },
  events: {
    columns: [
      col('Last Seen', 'Time since last occurrence'),
      col('Type', 'Type of this event (Normal, Warning)'),
      col('Reason', 'Short, machine understandable string that gives the reason for the event'),
      col('Object', 'The object this Event is about'),
      col('Subobject', 'The subobject this Event is about', 1),
      col('Source', 'The component reporting this event', 1),
      col('Message', 'A human-readable description of the status of this operation'),
      col('First Seen', 'Time since first occurrence', 1),
      col('Count', 'Number of occurrences', 1, 'integer'),
      col('Name', 'Name of the event', 1, 'string', 'name'),
    ],
    cells(o, now) {
      const io = (isRecord(o.involvedObject) ? o.involvedObject : {}) as Record<string, string>;
      const src = (isRecord(o.source) ? o.source : {}) as Record<string, string>;
      return [
        since(String(o.lastTimestamp ?? o.eventTime ?? ''), now),
        o.type ?? '',
        o.reason ?? '',
        `${String(io.kind ?? '').toLowerCase()}/${io.name ?? ''}`,
        io.fieldPath ?? '',
        [src.component, src.host].filter(Boolean).join(', '),
        String(o.message ?? '').trim(),
        since(String(o.firstTimestamp ?? o.eventTime ?? ''), now),
        o.count ?? 1,
        o.metadata.name,
      ];
    },
  },
  nodes: {
    columns: [
      NAME_COL,
      col('Status', 'The status of the node'),
      col('Roles', 'The roles of the node'),
      AGE_COL,
      col('Version', 'Kubelet Version reported by the node.'),
      col('Internal-IP', 'List of internal IPs.', 1),
      col('External-IP', 'List of external IPs.', 1),
      col('OS-Image', 'OS image reported by the node.', 1),
      col('Kernel-Version', 'Kernel version reported by the node.', 1),
      col('Container-Runtime', 'Container runtime and version reported by the node.', 1),
    ],
    cells(o, now) {
      const n = o as NodeObject;
      const info = (n.status.nodeInfo ?? {}) as Record<string, string>;
      const addrs = (n.status.addresses ?? []) as { type: string; address: string }[];
      const roles = Object.keys(n.metadata.labels ?? {})
        .filter((k) => k.startsWith('node-role.kubernetes.io/'))
        .map((k) => k.slice('node-role.kubernetes.io/'.length));
      return [
        n.metadata.name,
        n.spec.unschedulable ? 'Ready,SchedulingDisabled' : 'Ready',
        roles.length ? roles.join(',') : '<none>',
        since(n.metadata.creationTimestamp, now),
        info.kubeletVersion ?? '',
        addrs.find((a) => a.type === 'InternalIP')?.address ?? '<none>',
        '<none>',
        info.osImage ?? '',
        info.kernelVersion ?? '',
        info.containerRuntimeVersion ?? '',
      ];
    },
  },
};

const DEFAULT_PRINTER: Printer = {
  columns: [NAME_COL, AGE_COL],
  cells: (o, now) => [o.metadata.name, since(o.metadata.creationTimestamp, now)],
};

function rowObject(obj: KObject, include: IncludeObject): unknown {
  if (include === 'None') return undefined;
  if (include === 'Object') return obj;
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata };
}

export interface TableOptions {
  includeObject: IncludeObject;
  noHeaders: boolean;
  now?: number;
}

/** A meta.k8s.io/v1 Table for `objects` of `resource`; `listMeta` carries resourceVersion/continue. */
export function toTable(
  resource: string,
  objects: KObject[],
  listMeta: Record<string, unknown>,
  opts: TableOptions,
): Record<string, unknown> {
  const printer = PRINTERS[resource] ?? DEFAULT_PRINTER;
  const now = opts.now ?? Date.now();
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: listMeta,
    columnDefinitions: opts.noHeaders ? [] : printer.columns,
    rows: objects.map((o) => {
      const row: TableRow = { cells: printer.cells(o, now) };
      const ro = rowObject(o, opts.includeObject);
      if (ro !== undefined) row.object = ro;
      return row;
    }),
  };
}
