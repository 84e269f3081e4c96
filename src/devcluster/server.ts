// The HTTP face of the dev cluster (node:http): routing of the core/v1 REST paths, bearer-token auth,
// content negotiation (JSON, meta.k8s.io Table and PartialObjectMetadata), chunked watch streams,
// pods/log (with follow), injected faults, and the /_floe admin endpoints.
import http from 'node:http';
import { parse as parseYaml } from 'yaml';
import { apiGroupList, apiResourceList, apiVersions, openApiV2, openApiV3CoreV1Json, openApiV3Root, versionInfo } from './discovery.ts';
import { parseFaultPatch, type Faults } from './faults.ts';
import type { LogStore } from './logs.ts';
import { serveLogs } from './log-serving.ts';
import { decodeK8sProtobuf } from './protobuf.ts';
import type { DeleteOptions, FieldValidation, ListQuery, Registry, WriteOptions, WriteResult } from './registry.ts';
import { POD_RESOURCE, resourceByName, type ResourceDef } from './resources.ts';
import {
  ApiError,
  badRequest,
  injectedFailure,
  internalError,
  methodNotAllowed,
  notAcceptable,
  pathNotFound,
  unauthorized,
  unsupportedMediaType,
  type Status,
} from './status.ts';
import type { Store } from './store.ts';
import { toTable, type IncludeObject } from './tables.ts';
import type { KObject, Pod, WatchEventType } from './types.ts';
import { isRecord } from './types.ts';
import { startWatch } from './watch.ts';

export interface ServerDeps {
  registry: Registry;
  store: Store;
  faults: Faults;
  logs: LogStore;
  /** Bearer token checked on API requests that carry credentials (not on /version, /healthz, /_floe). */
  token?: string;
  bookmarkIntervalMs: number;
  /** host:port clients reach the server at (for /api's serverAddressByClientCIDRs). */
  address: () => string;
}

const MAX_BODY = 3 * 1024 * 1024;
const PUBLIC_PATHS = new Set(['/version', '/healthz', '/livez', '/readyz']);

type Rendering = { kind: 'json' } | { kind: 'table'; includeObject: IncludeObject; noHeaders: boolean } | { kind: 'partial' };

interface Route {
  def: ResourceDef;
  ns?: string;
  name?: string;
  sub?: string;
  watch: boolean;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => {
      if (size > MAX_BODY) {
        reject(new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Request entity too large: limit is 3145728', reason: 'RequestEntityTooLarge', code: 413 }));
      } else resolve(Buffer.concat(chunks));
    });
    req.on('error', reject);
  });
}

function sendJson(res: http.ServerResponse, code: number, body: unknown, headers: Record<string, string | string[]> = {}): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: http.ServerResponse, err: unknown): void {
  const e = err instanceof ApiError ? err : internalError(err instanceof Error ? err.message : String(err));
  sendJson(res, e.code, e.status, e.headers);
}

/** Chooses the response rendering from the Accept header, as the API server's content negotiation does. */
export function negotiate(accept: string | undefined): Rendering {
  if (!accept) return { kind: 'json' };
  let sawAcceptable = false;
  for (const raw of accept.split(',')) {
    const [type, ...params] = raw.trim().split(';').map((s) => s.trim());
    const p = Object.fromEntries(params.map((x) => x.split('=').map((s) => s.trim()) as [string, string]));
    if (type === 'application/json' || type === '*/*' || type === 'application/*') {
      if (p.as === 'Table' && p.g === 'meta.k8s.io') return { kind: 'table', includeObject: 'Metadata', noHeaders: false };
      if ((p.as === 'PartialObjectMetadata' || p.as === 'PartialObjectMetadataList') && p.g === 'meta.k8s.io') return { kind: 'partial' };
      if (!p.as) return { kind: 'json' };
    }
    if (type === 'application/yaml') sawAcceptable = true;
  }
  if (sawAcceptable) return { kind: 'json' };
  throw notAcceptable(['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io']);
}

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

function writeOptions(q: URLSearchParams, userAgent?: string): WriteOptions {
  const dryRun = q.getAll('dryRun');
  if (dryRun.some((d) => d !== 'All')) throw badRequest(`dryRun: Unsupported value: ${JSON.stringify(dryRun.join(','))}: supported values: "All"`);
  const fv = q.get('fieldValidation') ?? 'Warn';
  const known: Record<string, FieldValidation> = { strict: 'Strict', warn: 'Warn', ignore: 'Ignore' };
  const fieldValidation = known[fv.toLowerCase()];
  if (!fieldValidation) throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(fv)}: supported values: "Ignore", "Strict", "Warn"`);
  return { dryRun: dryRun.length > 0, fieldValidation, fieldManager: q.get('fieldManager') ?? undefined, force: boolParam(q, 'force') ?? false, userAgent };
}

function listQuery(q: URLSearchParams): ListQuery {
  return {
    labelSelector: q.get('labelSelector') ?? undefined,
    fieldSelector: q.get('fieldSelector') ?? undefined,
    resourceVersion: q.get('resourceVersion') ?? undefined,
    resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
    limit: intParam(q, 'limit'),
    continue: q.get('continue') ?? undefined,
  };
}

function parseJsonBody(raw: Buffer, contentType: string): unknown {
  if (contentType === 'application/vnd.kubernetes.protobuf') return raw.length ? decodeK8sProtobuf(raw) : undefined;
  if (contentType.includes('protobuf') || contentType.includes('cbor')) {
    throw unsupportedMediaType(contentType, ['application/json', 'application/yaml', 'application/vnd.kubernetes.protobuf']);
  }
  const body = raw.toString('utf8');
  if (body.trim() === '') return undefined;
  try {
    return contentType.includes('yaml') ? parseYaml(body) : JSON.parse(body);
  } catch (e) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

/** Maps /api/v1/... path segments to a resource route; undefined when no such resource. */
export function routeApiV1(segs: string[], watchPrefix: boolean): Route | undefined {
  let ns: string | undefined;
  let rest = segs;
  if (segs[0] === 'namespaces' && segs.length >= 3 && resourceByName(segs[2])?.namespaced) {
    ns = segs[1];
    rest = segs.slice(2);
  }
  const def = resourceByName(rest[0] ?? '');
  if (!def || rest.length > 3) return undefined;
  if (ns !== undefined && !def.namespaced) return undefined;
  const [, name, sub] = rest;
  if (sub !== undefined && !def.subresources.includes(sub)) return undefined;
  return { def, ns, name, sub, watch: watchPrefix };
}

export function createApiServer(deps: ServerDeps): http.Server {
  const { registry, store, faults, logs } = deps;

  const render = (r: Rendering, def: ResourceDef, objs: KObject[], listMeta: Record<string, unknown>, single: boolean, noHeaders = false): unknown => {
    if (r.kind === 'table') return toTable(def.name, objs, listMeta, { includeObject: r.includeObject, noHeaders: noHeaders || r.noHeaders });
    if (r.kind === 'partial') {
      const items = objs.map((o) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata }));
      return single ? items[0] : { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: listMeta, items };
    }
    if (single) return objs[0];
    // Items of a typed list carry no apiVersion/kind, as the real server sends them.
    const items = objs.map(({ apiVersion: _a, kind: _k, ...rest }) => rest);
    return { kind: `${def.kind}List`, apiVersion: 'v1', metadata: listMeta, items };
  };

  const tableOpts = (r: Rendering, q: URLSearchParams): Rendering => {
    if (r.kind !== 'table') return r;
    const inc = q.get('includeObject') ?? 'Metadata';
    if (!['None', 'Metadata', 'Object'].includes(inc)) throw badRequest(`includeObject: Unsupported value: ${JSON.stringify(inc)}: supported values: "Metadata", "None", "Object"`);
    return { kind: 'table', includeObject: inc as IncludeObject, noHeaders: false };
  };

  const writeResult = (res: http.ServerResponse, r: Rendering, def: ResourceDef, result: WriteResult, code: number) => {
    const headers: Record<string, string[]> = {};
    if (result.warnings.length) headers.Warning = result.warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    sendJson(res, code, render(r, def, [result.object], {}, true), headers);
  };

  function serveWatch(req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams, r: Rendering): void {
    const { def, ns } = route;
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked', 'Cache-Control': 'no-cache, private' });
      res.flushHeaders();
    };
    const stop = startWatch(
      { store, faults, bookmarkIntervalMs: deps.bookmarkIntervalMs },
      def,
      ns,
      {
        labelSelector: q.get('labelSelector') ?? undefined,
        fieldSelector: q.get('fieldSelector') ?? undefined,
        resourceVersion: q.get('resourceVersion') ?? undefined,
        resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
        allowWatchBookmarks: boolParam(q, 'allowWatchBookmarks'),
        sendInitialEvents: boolParam(q, 'sendInitialEvents'),
        timeoutSeconds: intParam(q, 'timeoutSeconds'),
      },
      {
        send(type: WatchEventType, object: KObject | Status) {
          start();
          let out: unknown = object;
          if (r.kind !== 'json' && type !== 'ERROR' && type !== 'BOOKMARK') out = render(r, def, [object as KObject], {}, r.kind === 'partial', true);
          res.write(JSON.stringify({ type, object: out }) + '\n');
        },
        end() {
          start();
          res.end();
        },
      },
    );
    start();
    req.socket.setTimeout(0);
    res.on('close', stop);
  }

  async function serveResource(req: http.IncomingMessage, res: http.ServerResponse, route: Route, q: URLSearchParams, body: Buffer): Promise<void> {
    const { def, ns, name, sub } = route;
    const method = req.method ?? 'GET';
    const contentType = (req.headers['content-type'] ?? 'application/json').split(';')[0].trim().toLowerCase();
    let r = tableOpts(negotiate(req.headers.accept), q);
    if (def.namespaced && ns === undefined && name !== undefined) throw pathNotFound();
    if (sub === 'binding') {
      if (method !== 'POST') throw methodNotAllowed();
      sendJson(res, 201, registry.bindPod(ns!, name!, parseJsonBody(body, contentType)));
      return;
    }
    if (sub === 'log') {
      if (method !== 'GET') throw methodNotAllowed();
      serveLogs(req, res, registry.get(POD_RESOURCE, ns!, name!) as Pod, logs, q);
      return;
    }
    const subresource = sub === 'status' ? 'status' : undefined;
    const isWatch = route.watch || (method === 'GET' && name === undefined && boolParam(q, 'watch') === true);
    if (isWatch) {
      if (method !== 'GET') throw methodNotAllowed();
      if (name !== undefined) {
        // The legacy /watch/.../name form: a watch narrowed to one object.
        const fs = q.get('fieldSelector');
        q.set('fieldSelector', fs ? `${fs},metadata.name=${name}` : `metadata.name=${name}`);
      }
      serveWatch(req, res, route, q, r);
      return;
    }
    switch (method) {
      case 'GET': {
        if (name !== undefined) {
          const o = registry.get(def, ns, name);
          sendJson(res, 200, render(r, def, [o], { resourceVersion: o.metadata.resourceVersion }, r.kind !== 'table'));
          return;
        }
        const list = registry.list(def, ns, listQuery(q));
        const meta: Record<string, unknown> = { resourceVersion: list.resourceVersion };
        if (list.continue) meta.continue = list.continue;
        if (list.remainingItemCount !== undefined) meta.remainingItemCount = list.remainingItemCount;
        sendJson(res, 200, render(r, def, list.items, meta, false));
        return;
      }
      case 'POST': {
        if (name !== undefined || (def.namespaced && ns === undefined)) throw methodNotAllowed();
        if (r.kind === 'partial') r = { kind: 'json' };
        writeResult(res, r, def, registry.create(def, ns, parseJsonBody(body, contentType), writeOptions(q, req.headers['user-agent'])), 201);
        return;
      }
      case 'PUT': {
        if (name === undefined) throw methodNotAllowed();
        writeResult(res, r, def, registry.update(def, ns, name, parseJsonBody(body, contentType), writeOptions(q, req.headers['user-agent']), subresource), 200);
        return;
      }
      case 'PATCH': {
        if (name === undefined) throw methodNotAllowed();
        const wo = writeOptions(q, req.headers['user-agent']);
        const result = registry.patch(def, ns, name, contentType, body.toString('utf8'), wo, subresource);
        writeResult(res, r, def, result, result.created ? 201 : 200);
        return;
      }
      case 'DELETE': {
        const parsed = parseJsonBody(body, contentType);
        const opts: DeleteOptions = isRecord(parsed) ? (parsed as DeleteOptions) : {};
        const grace = intParam(q, 'gracePeriodSeconds');
        if (grace !== undefined) opts.gracePeriodSeconds = grace;
        const dryRun = writeOptions(q, req.headers['user-agent']).dryRun || (isRecord(parsed) && Array.isArray(parsed.dryRun) && parsed.dryRun.includes('All'));
        if (name === undefined) {
          if (def.namespaced && ns === undefined) throw methodNotAllowed();
          const deleted = registry.deleteCollection(def, ns, listQuery(q), opts, dryRun);
          sendJson(res, 200, render({ kind: 'json' }, def, deleted, { resourceVersion: String(store.currentRv) }, false));
          return;
        }
        const out = registry.delete(def, ns, name, opts, dryRun);
        sendJson(res, 200, out.object);
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }

  async function serveAdmin(req: http.IncomingMessage, res: http.ServerResponse, path: string, raw: Buffer): Promise<void> {
    const body = raw.toString('utf8');
    const method = req.method ?? 'GET';
    try {
      if (path === '/_floe/faults') {
        if (method === 'GET') return sendJson(res, 200, faults.get());
        if (method === 'DELETE') return sendJson(res, 200, faults.clear());
        if (method === 'PUT' || method === 'PATCH' || method === 'POST') {
          let doc: unknown;
          try {
            doc = body.trim() ? JSON.parse(body) : {};
          } catch (e) {
            throw new Error(`/_floe/faults: body is not JSON: ${(e as Error).message}`);
          }
          return sendJson(res, 200, faults.set(parseFaultPatch(doc, '/_floe/faults')));
        }
      }
      if (path === '/_floe/kubelet/pause' && method === 'POST') return sendJson(res, 200, faults.set({ kubeletPaused: true }));
      if (path === '/_floe/kubelet/resume' && method === 'POST') return sendJson(res, 200, faults.set({ kubeletPaused: false }));
      if (path === '/_floe/watches/close' && method === 'POST') return sendJson(res, 200, { closed: faults.closeWatches() });
      if (path === '/_floe/compact' && method === 'POST') {
        store.compactAll();
        return sendJson(res, 200, { compactedResourceVersion: String(store.compactedRv) });
      }
      if (path === '/_floe/pod-creations' && method === 'GET') return sendJson(res, 200, { items: registry.podCreations });
      sendJson(res, 404, { error: `no admin endpoint ${method} ${path}; see docs/devcluster.md` });
    } catch (e) {
      sendJson(res, 400, { error: (e as Error).message });
    }
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    const method = req.method ?? 'GET';
    const body = method === 'GET' || method === 'HEAD' ? (req.resume(), Buffer.alloc(0)) : await readBody(req);
    if (path.startsWith('/_floe/')) return serveAdmin(req, res, path, body);
    // kubectl never sends credentials to a plain-HTTP server (clientcmd adds them for https only), so a
    // request without credentials is served as on an insecure port; wrong credentials are refused.
    const auth = req.headers.authorization;
    if (deps.token && auth !== undefined && !PUBLIC_PATHS.has(path) && auth !== `Bearer ${deps.token}`) throw unauthorized();
    const latency = faults.config.latencyMs;
    if (latency > 0) await new Promise((r) => setTimeout(r, latency));
    const injected = faults.injectedError(method, path);
    if (injected !== null) throw injectedFailure(injected, faults.config.retryAfterSeconds);
    const q = url.searchParams;
    if (method === 'GET') {
      switch (path) {
        case '/version':
          return sendJson(res, 200, versionInfo());
        case '/healthz':
        case '/livez':
        case '/readyz':
          res.writeHead(200, { 'Content-Type': 'text/plain' });
          res.end('ok');
          return;
        case '/api':
          return sendJson(res, 200, apiVersions(deps.address()));
        case '/api/v1':
          return sendJson(res, 200, apiResourceList());
        case '/apis':
          return sendJson(res, 200, apiGroupList());
        case '/openapi/v2': {
          const doc = openApiV2((req.headers.accept ?? '').includes('protobuf'));
          res.writeHead(200, { 'Content-Type': doc.contentType, 'Content-Length': doc.body.length });
          res.end(doc.body);
          return;
        }
        case '/openapi/v3':
          return sendJson(res, 200, openApiV3Root());
        case '/openapi/v3/api/v1': {
          const doc = openApiV3CoreV1Json();
          res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(doc.json), Etag: `"${doc.hash}"` });
          res.end(doc.json);
          return;
        }
      }
    }
    const m = /^\/api\/v1\/(.+)$/.exec(path);
    if (!m) throw pathNotFound();
    let segs = m[1].split('/').map(decodeURIComponent);
    const watchPrefix = segs[0] === 'watch';
    if (watchPrefix) segs = segs.slice(1);
    const route = routeApiV1(segs, watchPrefix);
    if (!route) throw pathNotFound();
    const lostResponse = faults.failAfterWrite(method, path);
    if (lostResponse !== null) {
      // Carry the change out, answering into a response nobody reads; the client gets the error.
      await serveResource(req, new http.ServerResponse(req), route, q, body);
      throw injectedFailure(lostResponse, faults.config.retryAfterSeconds);
    }
    await serveResource(req, res, route, q, body);
  }

  return http.createServer((req, res) => {
    handle(req, res).catch((err) => sendError(res, err));
  });
}
