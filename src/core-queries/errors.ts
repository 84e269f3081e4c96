// Errors of the shared queries, by kind: the CLI prints their message; the API maps the kind to an HTTP status.

/** `message` is what the CLI prints; `publicDetail`, when set, is what an API client sees instead (no server paths). */
export class QueryError extends Error {
  constructor(
    readonly kind: 'not_found' | 'conflict' | 'invalid',
    message: string,
    readonly publicDetail: string = message,
  ) {
    super(message);
    this.name = 'QueryError';
  }
}

export const notFound = (message: string, publicDetail?: string) => new QueryError('not_found', message, publicDetail);
export const conflict = (message: string) => new QueryError('conflict', message);
export const invalid = (message: string) => new QueryError('invalid', message);
