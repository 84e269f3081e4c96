// pods/log as the API server answers it (container choice and checks, then the kubelet's answer) and the
// kubelet's /containerLogs answer itself: the dev cluster serves both in one process, `floe dev kubelet`
// serves the kubelet's part over HTTPS for a real API server to call.
import type http from 'node:http';
import { renderEntry, selectEntries, type LogStore } from './logs.ts';
import { badRequest } from './status.ts';
import type { Pod } from './types.ts';

function boolParam(q: URLSearchParams, name: string): boolean | undefined {
  const v = q.get(name);
  if (v === null) return undefined;
  if (v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be true or false`);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?[0-9]+$/.test(v)) throw badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be an integer`);
  return Number(v);
}

/** The container a pods/log request is for (the API server's validateContainer). */
export function logContainer(pod: Pod, requested: string): string {
  const name = pod.metadata.name!;
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => c.name);
  if (!requested) {
    const dflt = pod.metadata.annotations?.['kubectl.kubernetes.io/default-container'];
    if (pod.spec.containers.length === 1) return pod.spec.containers[0].name;
    if (dflt && all.includes(dflt)) return dflt;
    const inits = (pod.spec.initContainers ?? []).map((c) => c.name);
    throw badRequest(
      `a container name must be specified for pod ${name}, choose one of: [${pod.spec.containers.map((c) => c.name).join(' ')}]` +
        (inits.length ? ` or one of the init containers: [${inits.join(' ')}]` : ''),
    );
  }
  if (!all.includes(requested)) throw badRequest(`container ${requested} is not valid for pod ${name}`);
  return requested;
}

/** GET pods/log on the API server. */
export function serveLogs(req: http.IncomingMessage, res: http.ServerResponse, pod: Pod, logs: LogStore, q: URLSearchParams): void {
  const container = logContainer(pod, q.get('container') ?? '');
  if (!pod.spec.nodeName) {
    // As the real server: a pod with no node yet has no log location (LogLocation), answered 204 No Content.
    res.writeHead(204);
    res.end();
    return;
  }
  serveContainerLog(req, res, pod, container, logs, q);
}

/** The kubelet's /containerLogs answer: the log of one container instance, optionally followed. */
export function serveContainerLog(req: http.IncomingMessage, res: http.ServerResponse, pod: Pod, container: string, logs: LogStore, q: URLSearchParams): void {
  const name = pod.metadata.name!;
  const previous = boolParam(q, 'previous') ?? false;
  const log = logs.get(pod.metadata.uid!, container, previous);
  if (!log) {
    if (previous) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
    const reason = statuses.find((s) => s.name === container)?.state.waiting?.reason ?? 'ContainerCreating';
    throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${reason}`);
  }
  const timestamps = boolParam(q, 'timestamps') ?? false;
  const sinceSeconds = intParam(q, 'sinceSeconds');
  const sinceTime = q.get('sinceTime') ?? (sinceSeconds !== undefined ? new Date(Date.now() - sinceSeconds * 1000).toISOString() : undefined);
  if (sinceTime !== undefined && Number.isNaN(Date.parse(sinceTime))) throw badRequest(`sinceTime: Invalid value: ${JSON.stringify(sinceTime)}: must be RFC 3339`);
  let budget = intParam(q, 'limitBytes') ?? Infinity;
  const follow = boolParam(q, 'follow') ?? false;
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Transfer-Encoding': 'chunked' });
  const write = (text: string): boolean => {
    if (budget <= 0) return false;
    const buf = Buffer.from(text, 'utf8');
    const part = buf.length > budget ? buf.subarray(0, budget) : buf;
    budget -= part.length;
    res.write(part);
    return budget > 0;
  };
  let open = true;
  for (const e of selectEntries(log, { tailLines: intParam(q, 'tailLines'), sinceTime })) {
    if (!write(renderEntry(e, timestamps))) {
      open = false;
      break;
    }
  }
  if (!follow || !open || log.closed) {
    res.end();
    return;
  }
  req.socket.setTimeout(0);
  const unfollow = log.follow((e) => {
    if (e === null || !write(renderEntry(e, timestamps))) {
      unfollow();
      res.end();
    }
  });
  res.on('close', unfollow);
}
