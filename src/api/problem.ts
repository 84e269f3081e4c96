// Errors as API clients see them: `{ status, title, detail }` (RFC 9457 problem details), never a stack trace.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { QueryError } from '../core-queries/errors.ts';
import { isConnectionError } from '../db/connect.ts';
import { maskSecrets } from '../secrets/masker.ts';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  409: 'Conflict',
  413: 'Payload Too Large',
  414: 'URI Too Long',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export const titleOf = (status: number): string => TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');

export interface Problem {
  status: number;
  title: string;
  detail: string;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(detail);
    this.name = 'ApiError';
  }
}

export const PROBLEM_TYPE = 'application/problem+json; charset=utf-8';

export function sendProblem(reply: FastifyReply, status: number, detail: string, headers: Record<string, string> = {}): FastifyReply {
  // Secrets this process knows (connection passwords it stored, configured tokens and keys) never appear in a detail.
  const body: Problem = { status, title: titleOf(status), detail: maskSecrets(detail) };
  return reply.code(status).headers(headers).type(PROBLEM_TYPE).send(body);
}

/**
 * Node's HTTP parser refuses some requests before any route runs (headers over the size limit, malformed HTTP):
 * answer those on the socket with a problem body too, then close it.
 */
export function answerClientError(err: Error & { code?: string }, socket: import('node:stream').Duplex): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, detail] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'the request headers (the URL included) are larger than the server accepts (16 KiB)']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'the request took too long to arrive']
        : [400, 'malformed HTTP request'];
  const body = JSON.stringify({ status, title: titleOf(status), detail } satisfies Problem);
  if (socket.writable)
    socket.write(`HTTP/1.1 ${status} ${titleOf(status)}\r\nContent-Type: ${PROBLEM_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  socket.destroy(err);
}

const QUERY_STATUS = { not_found: 404, conflict: 409, invalid: 400 } as const;

/** Every error a route throws ends here: known kinds keep their status and message, the rest is a logged 500. */
export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | Error, req, reply) => {
    if (err instanceof ApiError) return sendProblem(reply, err.status, err.detail, err.headers);
    if (err instanceof QueryError) return sendProblem(reply, QUERY_STATUS[err.kind], err.publicDetail);
    if (isConnectionError(err)) {
      req.log.error({ err }, 'metadata DB unreachable');
      return sendProblem(reply, 503, 'the metadata database is unreachable; try again later');
    }
    if ((err as FastifyError).code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE')
      return sendProblem(reply, 415, `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json`);
    const status = (err as FastifyError).statusCode;
    // Fastify's own 4xx (malformed JSON, wrong content type, body too large): their messages name the problem.
    if (typeof status === 'number' && status >= 400 && status < 500) return sendProblem(reply, status, err.message);
    req.log.error({ err }, 'request failed');
    return sendProblem(reply, 500, `internal error (request id ${req.id}; the server log has the details)`);
  });
  app.setNotFoundHandler((req, reply) => sendProblem(reply, 404, `no route ${req.method} ${req.url.split('?')[0]}`));
}
