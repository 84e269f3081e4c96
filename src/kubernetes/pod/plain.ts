// Pods as plain JSON: V1Pod class instances and plain objects become the same thing.
import type { V1Pod } from '@kubernetes/client-node';

export type Obj = Record<string, unknown>;

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * JSON round trip: a `V1Pod` instance becomes its camelCase JSON (the client's models use the Kubernetes
 * field names for every Pod field), Dates become ISO strings, undefined fields disappear.
 */
export function toPlain(v: unknown): unknown {
  return v === undefined ? undefined : JSON.parse(JSON.stringify(v));
}

export function clonePod(pod: V1Pod): V1Pod {
  return toPlain(pod) as V1Pod;
}

/** What a value is, for error messages. */
export function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

export function isEmptyObject(v: unknown): boolean {
  return isObject(v) && Object.keys(v).length === 0;
}

/** Nulls mean "absent" (as Kubernetes reads them): drop them, in lists too. */
export function stripNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.filter((x) => x !== null).map(stripNulls);
  if (isObject(v)) {
    const out: Obj = {};
    for (const [k, x] of Object.entries(v)) if (x !== null && x !== undefined) out[k] = stripNulls(x);
    return out;
  }
  return v;
}
