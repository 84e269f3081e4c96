// Discovery documents kubectl reads before it does anything: /version, /api, /api/v1, /apis, and a small
// OpenAPI v3 document for core/v1 that tells kubectl the server does field validation (so `kubectl apply`
// and `create` send fieldValidation=Strict instead of needing the OpenAPI v2 protobuf schema).
import { createHash } from 'node:crypto';
import { RESOURCES, type ResourceDef } from './resources.ts';

export const SERVER_VERSION = { major: '1', minor: '32', gitVersion: 'v1.32.0+floe' };

export function versionInfo(): Record<string, string> {
  return {
    ...SERVER_VERSION,
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2026-01-01T00:00:00Z',
    goVersion: 'go1.23.0',
    compiler: 'gc',
    platform: `${process.platform}/${process.arch === 'x64' ? 'amd64' : process.arch}`,
  };
}

export function apiVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

export function apiGroupList(): Record<string, unknown> {
  return { kind: 'APIGroupList', apiVersion: 'v1', groups: [] };
}

const storageHash = (name: string): string => createHash('sha256').update(`v1/${name}`).digest('base64').slice(0, 11);

const SUBRESOURCE_VERBS: Record<string, string[]> = { log: ['get'], status: ['get', 'patch', 'update'], binding: ['create'] };

export function apiResourceList(): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of RESOURCES) {
    const entry: Record<string, unknown> = {
      name: r.name,
      singularName: r.singularName,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: r.clientReadOnly ? r.verbs.filter((v) => v !== 'create' && v !== 'delete') : r.verbs,
      storageVersionHash: storageHash(r.name),
    };
    if (r.shortNames.length) entry.shortNames = r.shortNames;
    if (r.categories) entry.categories = r.categories;
    resources.push(entry);
    for (const sub of r.subresources) {
      resources.push({ name: `${r.name}/${sub}`, singularName: '', namespaced: r.namespaced, kind: r.kind, verbs: SUBRESOURCE_VERBS[sub] });
    }
  }
  return { kind: 'APIResourceList', groupVersion: 'v1', resources };
}

// ---- OpenAPI v2 --------------------------------------------------------------------------------------------

export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';

/**
 * An OpenAPI v2 document without definitions. kubectl before 1.27 validates `apply`/`create` input against
 * /openapi/v2 (protobuf) and fails when it cannot be fetched; with no definition for a kind it skips
 * client-side validation (the server validates), and computes apply patches from its compiled-in types.
 * The protobuf form is the empty message: every field of gnostic's Document is optional.
 */
export function openApiV2(protobuf: boolean): { body: Buffer; contentType: string } {
  // Answered as application/octet-stream, as kube-openapi does: Go's mime parser rejects the '@' above.
  if (protobuf) return { body: Buffer.alloc(0), contentType: 'application/octet-stream' };
  const doc = { swagger: '2.0', info: { title: 'Kubernetes (Floe dev cluster)', version: SERVER_VERSION.gitVersion }, paths: {}, definitions: {} };
  return { body: Buffer.from(JSON.stringify(doc)), contentType: 'application/json' };
}

// ---- OpenAPI v3 --------------------------------------------------------------------------------------------

// Operations carry the extension as an object, schemas as a list, as in the real document.
const gvk = (r: ResourceDef) => ({ group: '', version: 'v1', kind: r.kind });

function param(name: string, description: string): Record<string, unknown> {
  return { name, in: 'query', description, schema: { type: 'string', uniqueItems: true } };
}

const WRITE_PARAMS = [
  param('dryRun', 'When present, indicates that modifications should not be persisted.'),
  param('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes.'),
  param('fieldValidation', 'fieldValidation instructs the server on how to handle objects in the request containing unknown or duplicate fields: Ignore, Warn or Strict.'),
];

const ref = (r: ResourceDef) => ({ $ref: `#/components/schemas/io.k8s.api.core.v1.${r.kind}` });

/**
 * The core/v1 OpenAPI v3 document, reduced to what clients look up: operations with their
 * x-kubernetes-group-version-kind and parameters, and an opaque schema per kind. The PATCH request body
 * deliberately lists no strategic-merge media type, so client-side apply computes its patch from
 * kubectl's compiled-in Go types rather than from this (schema-less) document.
 */
export function openApiV3CoreV1(): Record<string, unknown> {
  const paths: Record<string, unknown> = {};
  const schemas: Record<string, unknown> = {};
  for (const r of RESOURCES) {
    schemas[`io.k8s.api.core.v1.${r.kind}`] = {
      type: 'object',
      description: `${r.kind} (schema not published by the Floe dev cluster)`,
      'x-kubernetes-group-version-kind': [gvk(r)],
    };
    const base = r.namespaced ? `/api/v1/namespaces/{namespace}/${r.name}` : `/api/v1/${r.name}`;
    const body = { content: { '*/*': { schema: ref(r) } }, required: true };
    const ok = { '200': { description: 'OK', content: { 'application/json': { schema: ref(r) } } } };
    paths[base] = {
      get: { operationId: `list${r.kind}`, responses: ok, 'x-kubernetes-action': 'list', 'x-kubernetes-group-version-kind': gvk(r) },
      post: {
        operationId: `create${r.kind}`,
        parameters: WRITE_PARAMS,
        requestBody: body,
        responses: ok,
        'x-kubernetes-action': 'post',
        'x-kubernetes-group-version-kind': gvk(r),
      },
    };
    paths[`${base}/{name}`] = {
      get: { operationId: `read${r.kind}`, responses: ok, 'x-kubernetes-action': 'get', 'x-kubernetes-group-version-kind': gvk(r) },
      put: {
        operationId: `replace${r.kind}`,
        parameters: WRITE_PARAMS,
        requestBody: body,
        responses: ok,
        'x-kubernetes-action': 'put',
        'x-kubernetes-group-version-kind': gvk(r),
      },
      patch: {
        operationId: `patch${r.kind}`,
        parameters: [...WRITE_PARAMS, param('force', 'Force is going to "force" Apply requests.')],
        requestBody: {
          content: {
            'application/json-patch+json': { schema: { type: 'object' } },
            'application/merge-patch+json': { schema: { type: 'object' } },
            'application/apply-patch+yaml': { schema: { type: 'object' } },
          },
          required: true,
        },
        responses: ok,
        'x-kubernetes-action': 'patch',
        'x-kubernetes-group-version-kind': gvk(r),
      },
      delete: { operationId: `delete${r.kind}`, responses: ok, 'x-kubernetes-action': 'delete', 'x-kubernetes-group-version-kind': gvk(r) },
    };
  }
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes (Floe dev cluster)', version: SERVER_VERSION.gitVersion },
    paths,
    components: { schemas },
  };
}

let cachedDoc: { json: string; hash: string } | undefined;

export function openApiV3CoreV1Json(): { json: string; hash: string } {
  if (!cachedDoc) {
    const json = JSON.stringify(openApiV3CoreV1());
    cachedDoc = { json, hash: createHash('sha512').update(json).digest('hex').toUpperCase().slice(0, 128) };
  }
  return cachedDoc;
}

export function openApiV3Root(): Record<string, unknown> {
  return { paths: { 'api/v1': { serverRelativeURL: `/openapi/v3/api/v1?hash=${openApiV3CoreV1Json().hash}` } } };
}
