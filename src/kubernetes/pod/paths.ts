// Human paths into a pod: `spec.containers[name=base].resources.limits.cpu`.
// List items are named by their identity key (the same key the override merge matches on), so a path
// still points at the right item after templates and overrides reorder or extend a list.

export type PathSeg = string | number;

/** The field that identifies an item of the list `listName` in paths (and in merges, see merge.ts). */
export function itemKeyField(listName: string): string {
  return listName === 'volumeMounts' ? 'mountPath' : 'name';
}

const SIMPLE_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Formats a key segment: `.key`, or `["app.kubernetes.io/name"]` for keys that are not plain words. */
export function keySeg(key: string, first: boolean): string {
  if (SIMPLE_KEY.test(key)) return first ? key : `.${key}`;
  return `[${JSON.stringify(key)}]`;
}

/** Formats a list item segment from the item itself: `[name=base]` when it has an identity, else `[3]`. */
export function itemSeg(listName: string, item: unknown, index: number): string {
  const field = itemKeyField(listName);
  const id = isObject(item) ? item[field] : undefined;
  return typeof id === 'string' && id !== '' ? `[${field}=${id}]` : `[${index}]`;
}

/** Formats segments walking `root` alongside, so list indexes become `[name=…]` where the item has a name. */
export function formatPath(root: unknown, segs: readonly PathSeg[]): string {
  let out = '';
  let cur: unknown = root;
  let prevKey = '';
  for (const seg of segs) {
    if (typeof seg === 'number') {
      const item = Array.isArray(cur) ? cur[seg] : undefined;
      out += itemSeg(prevKey, item, seg);
      cur = item;
    } else {
      out += keySeg(seg, out === '');
      cur = isObject(cur) ? cur[seg] : undefined;
      prevKey = seg;
    }
  }
  return out;
}

/** `/spec/containers/0` (a JSON pointer, as ajv reports) → segments. */
export function pointerToSegs(pointer: string): PathSeg[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}

export function valueAt(root: unknown, segs: readonly PathSeg[]): unknown {
  let cur = root;
  for (const seg of segs) {
    if (typeof seg === 'number') cur = Array.isArray(cur) ? cur[seg] : undefined;
    else cur = isObject(cur) ? cur[seg] : undefined;
  }
  return cur;
}

/** True when `inner` equals `outer` or lies inside it (segment-aware: `env` does not contain `envFrom`). */
export function pathWithin(inner: string, outer: string): boolean {
  if (outer === '') return true;
  if (!inner.startsWith(outer)) return false;
  const next = inner.charAt(outer.length);
  return next === '' || next === '.' || next === '[';
}

/** Joins a prefix (`executorConfig.podOverride`) and a pod path. */
export function joinPath(prefix: string, p: string): string {
  if (!prefix) return p;
  if (!p) return prefix;
  return p.startsWith('[') ? prefix + p : `${prefix}.${p}`;
}
