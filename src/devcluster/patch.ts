// The three PATCH flavours the API server accepts: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and
// strategic merge patch (lists merged by their patch merge key, `$patch`/`$setElementOrder`/
// `$deleteFromPrimitiveList`/`$retainKeys` directives) with the merge keys of the core/v1 Go types.
import { canonicalJson } from './json.ts';
import { isRecord } from './types.ts';

export class PatchError extends Error {}

const clone = <T>(v: T): T => structuredClone(v);

/** RFC 7386: objects merge recursively, null deletes, everything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isRecord(patch)) return clone(patch);
  const out: Record<string, unknown> = isRecord(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---- JSON patch -------------------------------------------------------------------------------------------

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer "${p}": must start with "/"`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

type Container = Record<string, unknown> | unknown[];

function walk(doc: unknown, tokens: string[], p: string): { parent: Container; key: string } {
  let cur: unknown = doc;
  for (const t of tokens.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`path "${p}": parent does not exist`);
  }
  if (!Array.isArray(cur) && !isRecord(cur)) throw new PatchError(`path "${p}": parent is not an object or array`);
  return { parent: cur, key: tokens[tokens.length - 1] };
}

function getAt(doc: unknown, p: string): unknown {
  let cur: unknown = doc;
  for (const t of parsePointer(p)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isRecord(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw new PatchError(`path "${p}" does not exist`);
  }
  return cur;
}

function arrayIndex(arr: unknown[], key: string, p: string, allowEnd: boolean): number {
  if (key === '-' && allowEnd) return arr.length;
  if (!/^(0|[1-9][0-9]*)$/.test(key)) throw new PatchError(`path "${p}": "${key}" is not an array index`);
  const i = Number(key);
  if (i > arr.length || (!allowEnd && i === arr.length)) throw new PatchError(`path "${p}": index ${i} out of range`);
  return i;
}

function addAt(doc: unknown, p: string, value: unknown): unknown {
  const tokens = parsePointer(p);
  if (tokens.length === 0) return clone(value);
  const { parent, key } = walk(doc, tokens, p);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, p, true), 0, clone(value));
  else parent[key] = clone(value);
  return doc;
}

function removeAt(doc: unknown, p: string): unknown {
  const tokens = parsePointer(p);
  if (tokens.length === 0) throw new PatchError('cannot remove the whole document');
  const { parent, key } = walk(doc, tokens, p);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, key, p, false), 1);
  else {
    if (!(key in parent)) throw new PatchError(`path "${p}" does not exist`);
    delete parent[key];
  }
  return doc;
}

export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new PatchError('a JSON patch must be an array of operations');
  let doc = clone(target);
  ops.forEach((raw, i) => {
    if (!isRecord(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') {
      throw new PatchError(`operation ${i}: expected an object with string "op" and "path"`);
    }
    const op = raw as unknown as JsonPatchOp;
    switch (op.op) {
      case 'add':
        doc = addAt(doc, op.path, op.value);
        break;
      case 'remove':
        doc = removeAt(doc, op.path);
        break;
      case 'replace':
        getAt(doc, op.path);
        doc = removeAt(doc, op.path);
        doc = addAt(doc, op.path, op.value);
        break;
      case 'move': {
        if (typeof op.from !== 'string') throw new PatchError(`operation ${i}: "move" needs "from"`);
        const v = getAt(doc, op.from);
        doc = removeAt(doc, op.from);
        doc = addAt(doc, op.path, v);
        break;
      }
      case 'copy': {
        if (typeof op.from !== 'string') throw new PatchError(`operation ${i}: "copy" needs "from"`);
        doc = addAt(doc, op.path, getAt(doc, op.from));
        break;
      }
      case 'test':
        if (canonicalJson(getAt(doc, op.path)) !== canonicalJson(op.value)) {
          throw new PatchError(`testing value ${op.path} failed`);
        }
        break;
      default:
        throw new PatchError(`operation ${i}: unknown op "${op.op}"`);
    }
  });
  return doc;
}

// ---- strategic merge patch --------------------------------------------------------------------------------

/** Patch metadata of one field: lists merged by `key`, primitive lists merged as sets, nested fields. */
export interface PatchSchema {
  fields?: Record<string, PatchSchema>;
  /** For lists of objects: the merge key (patchMergeKey). */
  key?: string;
  /** For lists of scalars with patchStrategy=merge (e.g. finalizers). */
  primitiveMerge?: boolean;
  /** Schema of list items / map values. */
  item?: PatchSchema;
}

const CONTAINER: PatchSchema = {
  fields: {
    ports: { key: 'containerPort' },
    env: { key: 'name' },
    volumeMounts: { key: 'mountPath' },
    volumeDevices: { key: 'devicePath' },
  },
};

const META: PatchSchema = { fields: { finalizers: { primitiveMerge: true }, ownerReferences: { key: 'uid' } } };

export const POD_PATCH_SCHEMA: PatchSchema = {
  fields: {
    metadata: META,
    spec: {
      fields: {
        containers: { key: 'name', item: CONTAINER },
        initContainers: { key: 'name', item: CONTAINER },
        ephemeralContainers: { key: 'name', item: CONTAINER },
        volumes: { key: 'name' },
        imagePullSecrets: { key: 'name' },
        hostAliases: { key: 'ip' },
        topologySpreadConstraints: { key: 'topologyKey' },
        schedulingGates: { key: 'name' },
        resourceClaims: { key: 'name' },
      },
    },
    status: {
      fields: {
        conditions: { key: 'type' },
        podIPs: { key: 'ip' },
        hostIPs: { key: 'ip' },
      },
    },
  },
};

export const NODE_PATCH_SCHEMA: PatchSchema = {
  fields: {
    metadata: META,
    status: { fields: { conditions: { key: 'type' }, addresses: { key: 'type' } } },
  },
};

/** ConfigMaps, Secrets, Namespaces, Events: only metadata has merge keys. */
export const GENERIC_PATCH_SCHEMA: PatchSchema = { fields: { metadata: META } };

const DIRECTIVE = '$patch';
const ORDER_PREFIX = '$setElementOrder/';
const DELETE_PRIMITIVE_PREFIX = '$deleteFromPrimitiveList/';
const RETAIN_KEYS = '$retainKeys';

/** Removes directive keys from a value that is being inserted as-is. */
function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) {
    return v.filter((x) => !(isRecord(x) && x[DIRECTIVE] === 'delete')).map(stripDirectives);
  }
  if (!isRecord(v)) return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(ORDER_PREFIX) || k.startsWith(DELETE_PRIMITIVE_PREFIX)) {
      continue;
    }
    if (x === null) continue;
    out[k] = stripDirectives(x);
  }
  return out;
}

function orderBy(list: unknown[], order: unknown[], key: string | undefined): unknown[] {
  const id = (x: unknown) => canonicalJson(key && isRecord(x) ? x[key] : x);
  const rank = new Map(order.map((o, i) => [id(o), i]));
  const ranked = list.filter((x) => rank.has(id(x))).sort((a, b) => rank.get(id(a))! - rank.get(id(b))!);
  const rest = list.filter((x) => !rank.has(id(x)));
  return [...ranked, ...rest];
}

function mergeKeyedList(orig: unknown[], patch: unknown[], schema: PatchSchema, path: string): unknown[] {
  const key = schema.key!;
  if (patch.some((p) => isRecord(p) && p[DIRECTIVE] === 'replace')) {
    return patch.filter((p) => !(isRecord(p) && p[DIRECTIVE] === 'replace')).map(stripDirectives);
  }
  const out = orig.map((x) => x);
  for (const p of patch) {
    if (!isRecord(p)) throw new PatchError(`${path}: expected list items to be objects merged by "${key}"`);
    const idx = out.findIndex((o) => isRecord(o) && canonicalJson(o[key]) === canonicalJson(p[key]));
    if (p[DIRECTIVE] === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = mergeStrategic(out[idx], p, schema.item, `${path}[${key}=${String(p[key])}]`);
    else out.push(stripDirectives(p));
  }
  return out;
}

/** Applies a strategic merge patch to `orig` (not modified) following `schema`. */
export function mergeStrategic(orig: unknown, patch: unknown, schema: PatchSchema | undefined, path = ''): unknown {
  if (!isRecord(patch)) return stripDirectives(patch);
  if (patch[DIRECTIVE] === 'replace') {
    const rest = { ...patch };
    delete rest[DIRECTIVE];
    return stripDirectives(rest);
  }
  if (patch[DIRECTIVE] === 'delete') return undefined;
  if (patch[DIRECTIVE] !== undefined) throw new PatchError(`${path || '.'}: unknown $patch directive ${JSON.stringify(patch[DIRECTIVE])}`);
  let out: Record<string, unknown> = isRecord(orig) ? { ...orig } : {};
  const retain = patch[RETAIN_KEYS];
  if (Array.isArray(retain)) {
    const keep = new Set(retain.map(String));
    out = Object.fromEntries(Object.entries(out).filter(([k]) => keep.has(k)));
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k === DIRECTIVE || k === RETAIN_KEYS || k.startsWith(ORDER_PREFIX) || k.startsWith(DELETE_PRIMITIVE_PREFIX)) {
      continue;
    }
    const fieldSchema = schema?.fields?.[k];
    const fieldPath = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
    } else if (Array.isArray(v) && fieldSchema?.key && Array.isArray(out[k])) {
      out[k] = mergeKeyedList(out[k] as unknown[], v, fieldSchema, fieldPath);
    } else if (Array.isArray(v) && fieldSchema?.primitiveMerge && Array.isArray(out[k])) {
      const cur = out[k] as unknown[];
      out[k] = [...cur, ...v.filter((x) => !cur.some((c) => canonicalJson(c) === canonicalJson(x)))];
    } else if (isRecord(v)) {
      const merged = mergeStrategic(out[k], v, fieldSchema, fieldPath);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = stripDirectives(v);
    }
  }
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith(DELETE_PRIMITIVE_PREFIX) && Array.isArray(v)) {
      const field = k.slice(DELETE_PRIMITIVE_PREFIX.length);
      const cur = out[field];
      if (Array.isArray(cur)) {
        const drop = new Set(v.map((x) => canonicalJson(x)));
        out[field] = cur.filter((x) => !drop.has(canonicalJson(x)));
      }
    } else if (k.startsWith(ORDER_PREFIX) && Array.isArray(v)) {
      const field = k.slice(ORDER_PREFIX.length);
      const cur = out[field];
      if (Array.isArray(cur)) out[field] = orderBy(cur, v, schema?.fields?.[field]?.key);
    }
  }
  return out;
}
