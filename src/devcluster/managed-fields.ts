// Server-side apply's field ownership (structured-merge-diff, as the API server keeps it in
// metadata.managedFields): every write records which manager set which fields; an apply that changes a field
// another manager owns is a 409 FieldManagerConflict unless forced; fields an applier stops applying are
// removed when nobody else owns them. Lists with merge keys are owned per item (k:{...}), set-like scalar
// lists per value (v:...), other lists whole. Pure: sets in, sets out.
import { canonicalJson } from './json.ts';
import type { PatchSchema } from './patch.ts';
import type { KObject } from './types.ts';
import { isRecord } from './types.ts';

/** One owned field: its tokens (f:name, k:{"name":"c"}, v:"x", "." for a list item itself), joined. */
type PathKey = string;
const SEP = '\u0000';

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface Conflict {
  manager: string;
  field: string;
}

/** Fields no manager owns: identity and server-set metadata. */
const SKIPPED_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'creationTimestamp', 'generation', 'selfLink', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds']);

function itemKey(item: Record<string, unknown>, key: string): Record<string, unknown> {
  // Container ports are keyed by port and protocol, as the API's list-map-keys say.
  if (key === 'containerPort') return { containerPort: item.containerPort, protocol: item.protocol ?? 'TCP' };
  return { [key]: item[key] };
}

function walk(value: unknown, schema: PatchSchema | undefined, prefix: string[], out: Map<PathKey, string>): void {
  if (isRecord(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0 && prefix.length) out.set(prefix.join(SEP), '{}');
    for (const k of keys) walk(value[k], schema?.fields?.[k], [...prefix, `f:${k}`], out);
    return;
  }
  if (Array.isArray(value) && schema?.key && value.every(isRecord)) {
    for (const item of value as Record<string, unknown>[]) {
      const tok = `k:${canonicalJson(itemKey(item, schema.key))}`;
      out.set([...prefix, tok, '.'].join(SEP), '.');
      for (const [k, v] of Object.entries(item)) walk(v, schema.item?.fields?.[k], [...prefix, tok, `f:${k}`], out);
    }
    return;
  }
  if (Array.isArray(value) && schema?.primitiveMerge) {
    for (const v of value) out.set([...prefix, `v:${JSON.stringify(v)}`].join(SEP), 'v');
    return;
  }
  out.set(prefix.join(SEP), canonicalJson(value));
}

/** Owned-field paths of an object with their values; `part` picks the main resource (no status) or status. */
export function fieldValues(obj: Record<string, unknown>, schema: PatchSchema, part: 'main' | 'status'): Map<PathKey, string> {
  const out = new Map<PathKey, string>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if ((k === 'status') !== (part === 'status')) continue;
    if (k === 'metadata' && isRecord(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (!SKIPPED_META.has(mk)) walk(mv, schema.fields?.metadata?.fields?.[mk], ['f:metadata', `f:${mk}`], out);
      }
      continue;
    }
    walk(v, schema.fields?.[k], [`f:${k}`], out);
  }
  return out;
}

/** The fieldsV1 tree of a set of paths. */
export function toFieldsV1(paths: Iterable<PathKey>): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  for (const p of paths) {
    let node = root;
    for (const tok of p.split(SEP)) node = (node[tok] ??= {}) as Record<string, unknown>;
  }
  return root;
}

/** The paths of a fieldsV1 tree. */
export function fromFieldsV1(tree: unknown, prefix: string[] = [], out: Set<PathKey> = new Set()): Set<PathKey> {
  if (!isRecord(tree)) return out;
  const keys = Object.keys(tree);
  if (keys.length === 0 && prefix.length) out.add(prefix.join(SEP));
  for (const k of keys) fromFieldsV1(tree[k], [...prefix, k], out);
  return out;
}

/** `.spec.containers[name="c"].image`, as the API server names a field in a conflict. */
export function fieldPathText(p: PathKey): string {
  let s = '';
  for (const tok of p.split(SEP)) {
    if (tok === '.') continue;
    if (tok.startsWith('f:')) s += `.${tok.slice(2)}`;
    else if (tok.startsWith('k:')) {
      const k = JSON.parse(tok.slice(2)) as Record<string, unknown>;
      s += `[${Object.entries(k).map(([a, b]) => `${a}=${JSON.stringify(b)}`).join(',')}]`;
    } else if (tok.startsWith('v:')) s += `[=${tok.slice(2)}]`;
  }
  return s;
}

const entryId = (e: Pick<ManagedFieldsEntry, 'manager' | 'operation' | 'subresource'>) => `${e.manager}${SEP}${e.operation}${SEP}${e.subresource ?? ''}`;

function entries(obj: KObject | undefined): ManagedFieldsEntry[] {
  const mf = obj?.metadata.managedFields;
  return Array.isArray(mf) ? (mf as ManagedFieldsEntry[]) : [];
}

export interface Writer {
  manager: string;
  operation: 'Apply' | 'Update';
  subresource?: 'status';
  time: string;
}

/**
 * managedFields after a write: `owned` (the writer's fields: all changed ones for an Update, the applied ones
 * for an Apply) goes to the writer; other managers lose the fields whose values changed or disappeared.
 */
export function recordWrite(prev: KObject | undefined, next: KObject, schema: PatchSchema, w: Writer, applied?: Set<PathKey>): ManagedFieldsEntry[] {
  const part = w.subresource === 'status' ? 'status' : 'main';
  const before = prev ? fieldValues(prev as unknown as Record<string, unknown>, schema, part) : new Map<PathKey, string>();
  const after = fieldValues(next as unknown as Record<string, unknown>, schema, part);
  const changed = new Set<PathKey>();
  for (const [k, v] of after) if (before.get(k) !== v) changed.add(k);
  for (const k of before.keys()) if (!after.has(k)) changed.add(k);
  const mine = applied ?? new Set<PathKey>();
  const out: ManagedFieldsEntry[] = [];
  let own: ManagedFieldsEntry | undefined;
  for (const e of entries(prev)) {
    if (entryId(e) === entryId(w)) {
      own = e;
      continue;
    }
    const sameSide = (e.subresource === 'status') === (part === 'status');
    const set = fromFieldsV1(e.fieldsV1);
    // A field whose value this write changed (an apply only changes what it applies, or forces) is the writer's now.
    if (sameSide) for (const k of changed) set.delete(k);
    if (set.size) out.push({ ...e, fieldsV1: toFieldsV1(set) });
  }
  if (!applied) {
    for (const k of own ? fromFieldsV1(own.fieldsV1) : []) if (after.has(k)) mine.add(k);
    for (const k of changed) if (after.has(k)) mine.add(k);
  }
  if (mine.size) {
    const e: ManagedFieldsEntry = { manager: w.manager, operation: w.operation, apiVersion: 'v1', time: w.time, fieldsType: 'FieldsV1', fieldsV1: toFieldsV1(mine) };
    if (w.subresource) e.subresource = w.subresource;
    out.push(e);
  }
  return out;
}

/** The fields an apply configuration sets. */
export function appliedFields(doc: Record<string, unknown>, schema: PatchSchema): Set<PathKey> {
  return new Set(fieldValues(doc, schema, 'main').keys());
}

/** Fields the applier sets to a value that differs from the live one while another manager owns them. */
export function applyConflicts(live: KObject, doc: Record<string, unknown>, schema: PatchSchema, manager: string): Conflict[] {
  const liveValues = fieldValues(live as unknown as Record<string, unknown>, schema, 'main');
  const applied = fieldValues(doc, schema, 'main');
  const out: Conflict[] = [];
  for (const e of entries(live)) {
    if (e.subresource === 'status' || (e.manager === manager && e.operation === 'Apply')) continue;
    const owned = fromFieldsV1(e.fieldsV1);
    for (const [k, v] of applied) {
      if (owned.has(k) && liveValues.has(k) && liveValues.get(k) !== v && v !== '.' && v !== 'v') out.push({ manager: e.manager, field: fieldPathText(k) });
    }
  }
  return out;
}

/** Fields the applier applied last time, applies no more, and nobody else owns: to be removed. */
export function releasedFields(live: KObject, applied: Set<PathKey>, manager: string): PathKey[] {
  const own = entries(live).find((e) => e.manager === manager && e.operation === 'Apply' && !e.subresource);
  if (!own) return [];
  const others = new Set<PathKey>();
  for (const e of entries(live)) if (e !== own) for (const k of fromFieldsV1(e.fieldsV1)) others.add(k);
  return [...fromFieldsV1(own.fieldsV1)].filter((k) => !applied.has(k) && !others.has(k));
}

/** Removes the fields at `paths` from `obj` (in place); a list item's "." removes the whole item. */
export function removeFields(obj: Record<string, unknown>, paths: PathKey[], schema: PatchSchema): void {
  // Items first, so their fields need no visit; deepest paths first otherwise.
  const sorted = [...paths].sort((a, b) => b.split(SEP).length - a.split(SEP).length);
  for (const p of sorted) {
    const toks = p.split(SEP);
    let node: unknown = obj;
    let sch: PatchSchema | undefined = schema;
    for (let i = 0; i < toks.length; i++) {
      const tok = toks[i];
      const last = i === toks.length - 1;
      if (tok.startsWith('f:') && isRecord(node)) {
        const k = tok.slice(2);
        if (last) delete node[k];
        else {
          node = node[k];
          sch = sch?.fields?.[k];
        }
      } else if (tok.startsWith('k:') && Array.isArray(node) && sch?.key) {
        const want = canonicalJson(JSON.parse(tok.slice(2)));
        const key = sch.key;
        const idx = node.findIndex((it) => isRecord(it) && canonicalJson(itemKey(it, key)) === want);
        if (idx < 0) break;
        if (toks[i + 1] === '.') {
          node.splice(idx, 1);
          break;
        }
        node = node[idx];
        sch = sch.item;
      } else if (tok.startsWith('v:') && Array.isArray(node)) {
        const want = tok.slice(2);
        const idx = node.findIndex((v) => JSON.stringify(v) === want);
        if (idx >= 0) node.splice(idx, 1);
        break;
      } else break;
    }
  }
}
