// Request bodies: JSON only, parsed here so that every refusal names its cause. A body that is not JSON says
// where it broke; a `__proto__` key (or `constructor.prototype`) — the prototype-poisoning shapes — is refused
// by name instead of as "not valid JSON".
import type { FastifyInstance } from 'fastify';
import { ApiError } from './problem.ts';

/** The path of the first poisoning key in `value`, or null. Iterative: a deeply nested body cannot overflow it. */
export function poisonedKeyPath(value: unknown): string | null {
  const stack: { v: unknown; at: string }[] = [{ v: value, at: 'body' }];
  while (stack.length) {
    const { v, at } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) return `${at}.__proto__`;
    const ctor = (v as Record<string, unknown>).constructor;
    if (Object.prototype.hasOwnProperty.call(v, 'constructor') && ctor !== null && typeof ctor === 'object' && Object.prototype.hasOwnProperty.call(ctor, 'prototype')) return `${at}.constructor.prototype`;
    for (const [k, child] of Object.entries(v)) stack.push({ v: child, at: Array.isArray(v) ? `${at}[${k}]` : `${at}.${k}` });
  }
  return null;
}

export function installJsonBodyParser(app: FastifyInstance): void {
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body);
    if (!text.trim()) return done(null, undefined);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      return done(new ApiError(400, `the body is not valid JSON: ${(e as Error).message}`), undefined);
    }
    const at = poisonedKeyPath(parsed);
    if (at) return done(new ApiError(400, `${at}: a "__proto__" or "constructor.prototype" key is not allowed in a body`), undefined);
    done(null, parsed);
  });
}
