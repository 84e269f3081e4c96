// Request validation with zod: a 400 names the bad field (query.limit, body.conf, path.tryNumber) and the value.
import { z } from 'zod';
import { ApiError } from './problem.ts';

type Where = 'query' | 'body' | 'path';

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

function show(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v) ?? String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

export function parseInput<T extends z.ZodType>(schema: T, input: unknown, where: Where): z.output<T> {
  // No body at all is an empty object; a JSON null is not.
  const r = schema.safeParse(input === undefined ? {} : input);
  if (r.success) return r.data;
  const detail = r.error.issues
    .map((i) => {
      const at = [where, ...i.path.map(String)].join('.');
      const v = i.path.length ? valueAt(input, i.path) : undefined;
      return `${at}: ${i.message}${v !== undefined && i.code !== 'unrecognized_keys' ? ` (got ${show(v)})` : ''}`;
    })
    .join('; ');
  throw new ApiError(400, detail);
}

/** A whole number in a query string or path, within [min, max]. */
export const intParam = (min: number, max: number) =>
  z
    .string()
    .regex(/^-?\d+$/, 'expected a whole number')
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

export const boolParam = z.enum(['true', 'false'], { error: 'expected true or false' }).transform((v) => v === 'true');

export const MAX_PAGE = 1000;
export const DEFAULT_PAGE = 100;
export const pageQuery = {
  limit: intParam(1, MAX_PAGE).default(DEFAULT_PAGE),
  offset: intParam(0, Number.MAX_SAFE_INTEGER).default(0),
};

/** Ids in paths and bodies: any text but control characters, not too long. */
export const idText = (what: string, max = 250) =>
  z
    .string()
    .min(1, `expected a non-empty ${what}`)
    .max(max, `expected a ${what} of at most ${max} characters`)
    .regex(/^[^\u0000-\u001f\u007f]+$/, `expected a ${what} without control characters`);

/** One value, several (`?state=a&state=b`) or comma-separated (`?state=a,b`), each one of `allowed`. */
export const listParam = <T extends string>(allowed: readonly [T, ...T[]]) =>
  z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]).flatMap((x) => x.split(',')).map((x) => x.trim()).filter(Boolean))
    .pipe(z.array(z.enum(allowed)));

/** ISO 8601 date (`2024-01-31`, midnight UTC) or date-time with `Z` or an offset; a time without a zone is ambiguous. */
export const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2}))?$/, 'expected an ISO 8601 date like 2024-01-31 or 2024-01-31T06:00:00Z (a time needs Z or an offset)')
  .transform((s, ctx) => {
    const d = new Date(s);
    // Date rolls 2024-02-31 over to March 2: the calendar date as written must exist.
    const [y, m, day] = s.slice(0, 10).split('-').map(Number);
    const cal = new Date(Date.UTC(y, m - 1, day));
    if (Number.isNaN(d.getTime()) || cal.getUTCMonth() !== m - 1 || cal.getUTCDate() !== day) {
      ctx.addIssue({ code: 'custom', message: 'expected a real date' });
      return z.NEVER;
    }
    return d;
  });
