// The @kubernetes/client-node models as a field catalogue. The client serialises a pod by walking each
// model's attribute map and silently drops fields it does not know, so a typo like `resouces` would vanish
// at launch; checking against the same maps turns it into an error at parse time.
import * as k8s from '@kubernetes/client-node';
import type { V1Pod } from '@kubernetes/client-node';
import type { PathSeg } from './paths.ts';

interface Attr {
  name: string;
  baseName: string;
  type: string;
}
interface ModelClass {
  new (): object;
  getAttributeTypeMap(): Attr[];
}

const catalogue = k8s as unknown as Record<string, unknown>;
const attrCache = new Map<string, Map<string, Attr> | null>();

function modelClass(type: string): ModelClass | null {
  const c = catalogue[type];
  return typeof c === 'function' && typeof (c as Partial<ModelClass>).getAttributeTypeMap === 'function' ? (c as ModelClass) : null;
}

function attrs(type: string): Map<string, Attr> | null {
  if (!attrCache.has(type)) {
    const c = modelClass(type);
    attrCache.set(type, c ? new Map(c.getAttributeTypeMap().map((a) => [a.baseName, a])) : null);
  }
  return attrCache.get(type) ?? null;
}

const ARRAY = /^Array<(.+)>$/;
const MAP = /^\{ \[key: string\]: (.+); \}$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The closest known field name, when one is close enough to be a likely typo. */
export function suggestField(key: string, known: Iterable<string>): string | null {
  let best: string | null = null;
  let bestD = Infinity;
  const snake = key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
  for (const k of known) {
    const d = Math.min(distance(key, k), snake === k ? 0 : Infinity);
    if (d < bestD) {
      best = k;
      bestD = d;
    }
  }
  return best !== null && bestD <= Math.max(2, Math.floor(key.length / 4)) ? best : null;
}

export interface UnknownField {
  segs: PathSeg[];
  key: string;
  suggestion: string | null;
}

/** Every field of `value` that the client's model `type` (e.g. "V1Pod") does not know. */
export function unknownFields(value: unknown, type = 'V1Pod', segs: PathSeg[] = [], out: UnknownField[] = []): UnknownField[] {
  const arr = ARRAY.exec(type);
  if (arr) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, arr[1], [...segs, i], out));
    return out;
  }
  const map = MAP.exec(type);
  if (map) {
    if (isObject(value)) for (const [k, v] of Object.entries(value)) unknownFields(v, map[1], [...segs, k], out);
    return out;
  }
  const fields = attrs(type);
  if (!fields || !isObject(value)) return out;
  for (const [k, v] of Object.entries(value)) {
    const a = fields.get(k);
    if (a) unknownFields(v, a.type, [...segs, k], out);
    else out.push({ segs, key: k, suggestion: suggestField(k, fields.keys()) });
  }
  return out;
}

function toModel(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return value;
  const arr = ARRAY.exec(type);
  if (arr) return Array.isArray(value) ? value.map((v) => toModel(v, arr[1])) : value;
  const map = MAP.exec(type);
  if (map) return isObject(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toModel(v, map[1])])) : value;
  if (type === 'Date') return typeof value === 'string' ? new Date(value) : value;
  const c = modelClass(type);
  const fields = attrs(type);
  if (!c || !fields || !isObject(value)) return value;
  const inst = new c() as Record<string, unknown>;
  for (const [k, v] of Object.entries(value)) {
    const a = fields.get(k);
    inst[a ? a.name : k] = a ? toModel(v, a.type) : v;
  }
  return inst;
}

/** Plain pod JSON → `V1Pod` class instances throughout (what a mutation hook receives). */
export function toV1Pod(pod: V1Pod): V1Pod {
  return toModel(pod, 'V1Pod') as V1Pod;
}
