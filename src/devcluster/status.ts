// meta/v1 Status objects with the reasons, codes and messages of the real API server
// (k8s.io/apimachinery/pkg/api/errors), thrown as ApiError and rendered by the HTTP layer.
import { errorBody, formatFieldError, type FieldError } from './field-errors.ts';

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure' | 'Success';
  message?: string;
  reason?: string;
  details?: StatusDetails;
  code: number;
}

export class ApiError extends Error {
  readonly status: Status;
  /** Extra response headers, e.g. Retry-After. */
  readonly headers: Record<string, string>;
  constructor(status: Status, headers: Record<string, string> = {}) {
    super(status.message ?? status.reason ?? `HTTP ${status.code}`);
    this.status = status;
    this.headers = headers;
  }
  get code(): number {
    return this.status.code;
  }
}

function failure(code: number, reason: string, message: string, details?: StatusDetails): Status {
  const s: Status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
  if (details) s.details = details;
  return s;
}

export function successStatus(details: StatusDetails): Status {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details, code: 200 };
}

export const notFound = (resource: string, name: string): ApiError =>
  new ApiError(failure(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: resource }));

export const pathNotFound = (): ApiError =>
  new ApiError(failure(404, 'NotFound', 'the server could not find the requested resource', {}));

export const alreadyExists = (resource: string, name: string): ApiError =>
  new ApiError(failure(409, 'AlreadyExists', `${resource} "${name}" already exists`, { name, kind: resource }));

export const conflict = (resource: string, name: string, why: string): ApiError =>
  new ApiError(
    failure(409, 'Conflict', `Operation cannot be fulfilled on ${resource} "${name}": ${why}`, { name, kind: resource }),
  );

export const staleConflict = (resource: string, name: string): ApiError =>
  conflict(resource, name, 'the object has been modified; please apply your changes to the latest version and try again');

export function invalid(kind: string, name: string, errs: FieldError[]): ApiError {
  const text = errs.length === 1 ? formatFieldError(errs[0]) : `[${errs.map(formatFieldError).join(', ')}]`;
  return new ApiError(
    failure(422, 'Invalid', `${kind} "${name}" is invalid: ${text}`, {
      name,
      kind,
      causes: errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
    }),
  );
}

export const badRequest = (message: string): ApiError => new ApiError(failure(400, 'BadRequest', message));

export const forbidden = (resource: string, name: string, why: string): ApiError =>
  new ApiError(failure(403, 'Forbidden', `${resource} "${name}" is forbidden: ${why}`, { name, kind: resource }));

export const methodNotAllowed = (): ApiError =>
  new ApiError(failure(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {}));

export const unauthorized = (): ApiError => new ApiError(failure(401, 'Unauthorized', 'Unauthorized'));

export const notAcceptable = (accepted: string[]): ApiError =>
  new ApiError(
    failure(406, 'NotAcceptable', `only the following media types are accepted: ${accepted.join(', ')}`),
  );

export const unsupportedMediaType = (got: string, accepted: string[]): ApiError =>
  new ApiError(
    failure(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format (${got}) - accepted media types include: ${accepted.join(', ')}`,
    ),
  );

/** 410 Gone with reason Expired: the text the watch cache uses for a resourceVersion it no longer holds. */
export const expired = (message: string): ApiError => new ApiError(failure(410, 'Expired', message));

export const tooOldResourceVersion = (requested: number, oldest: number): ApiError =>
  expired(`too old resource version: ${requested} (${oldest})`);

export const resourceVersionTooLarge = (requested: number, current: number): ApiError =>
  new ApiError(
    failure(504, 'Timeout', `Too large resource version: ${requested}, current: ${current}`, {
      causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
      retryAfterSeconds: 1,
    }),
  );

/** The injected-fault answers: 429, 503, 500 (and 504), with Retry-After where the real server sends one. */
export function injectedFailure(code: number, retryAfterSeconds: number): ApiError {
  const retry = { 'Retry-After': String(retryAfterSeconds) };
  switch (code) {
    case 429:
      return new ApiError(
        failure(429, 'TooManyRequests', 'Too many requests, please try again later.', { retryAfterSeconds }),
        retry,
      );
    case 503:
      return new ApiError(
        failure(503, 'ServiceUnavailable', 'The server is currently unable to handle the request', {
          retryAfterSeconds,
        }),
        retry,
      );
    case 504:
      return new ApiError(failure(504, 'Timeout', 'The server was unable to return a response in the time allotted, but may still be processing the request', {}));
    default:
      return new ApiError(
        failure(code, 'InternalError', 'Internal error occurred: injected fault (floe dev cluster)', {
          causes: [{ message: 'injected fault (floe dev cluster)' }],
        }),
      );
  }
}

export function internalError(message: string): ApiError {
  return new ApiError(
    failure(500, 'InternalError', `Internal error occurred: ${message}`, { causes: [{ message }] }),
  );
}

/** 409 for an apply that would change fields other managers own, worded as the API server does. */
export function applyConflict(cs: { manager: string; field: string }[]): ApiError {
  const byManager = new Map<string, string[]>();
  for (const c of cs) byManager.set(c.manager, [...(byManager.get(c.manager) ?? []), c.field]);
  const parts = [...byManager].map(([m, fs]) => (fs.length === 1 ? `conflict with "${m}" using v1: ${fs[0]}` : `conflicts with "${m}" using v1:\n${fs.map((f) => `- ${f}`).join('\n')}`));
  const n = cs.length;
  return new ApiError({
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: `Apply failed with ${n} conflict${n === 1 ? '' : 's'}: ${parts.join('\n')}`,
    reason: 'Conflict',
    details: { causes: cs.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with "${c.manager}" using v1`, field: c.field })) },
    code: 409,
  });
}
