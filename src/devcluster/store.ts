// The in-memory object store: one global, monotonically increasing resourceVersion for every write (as etcd's
// revision), a retained window of change events for watch resume, and point-in-time lists inside that window.
// Objects handed out are shared: callers must clone before changing them (writes clone their input).
import type { KObject } from './types.ts';

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: StoreEventType;
  resource: string;
  /** The object after the change; for DELETED its last state, stamped with the deletion's resourceVersion. */
  object: KObject;
  /** The object before the change (MODIFIED, DELETED). */
  prev?: KObject;
}

export type StoreListener = (e: StoreEvent) => void;

const keyOf = (ns: string | undefined, name: string): string => `${ns ?? ''}/${name}`;

export class Store {
  private rv = 0;
  private readonly data = new Map<string, Map<string, KObject>>();
  private events: StoreEvent[] = [];
  /** Every event with rv <= compacted has been dropped from the window. */
  private compacted = 0;
  private window: number;
  private readonly listeners = new Set<StoreListener>();

  constructor(windowSize: number) {
    this.window = windowSize;
  }

  get currentRv(): number {
    return this.rv;
  }

  /** The oldest resourceVersion a watch may resume from. */
  get compactedRv(): number {
    return this.compacted;
  }

  get windowSize(): number {
    return this.window;
  }

  setWindowSize(n: number): void {
    this.window = Math.max(0, Math.floor(n));
    this.trim();
  }

  private trim(): void {
    const excess = this.events.length - this.window;
    if (excess > 0) {
      this.compacted = this.events[excess - 1].rv;
      this.events = this.events.slice(excess);
    }
  }

  /** Drops every retained event, as an etcd compaction at the current revision does. */
  compactAll(): void {
    this.compactTo(this.rv);
  }

  /** Drops the events up to `rv`, as an etcd compaction at that revision does. */
  compactTo(rv: number): void {
    const target = Math.min(rv, this.rv);
    if (target <= this.compacted) return;
    this.compacted = target;
    this.events = this.eventsAfter(target);
  }

  private table(resource: string): Map<string, KObject> {
    let t = this.data.get(resource);
    if (!t) {
      t = new Map();
      this.data.set(resource, t);
    }
    return t;
  }

  get(resource: string, ns: string | undefined, name: string): KObject | undefined {
    return this.data.get(resource)?.get(keyOf(ns, name));
  }

  /** Current objects of a resource, optionally in one namespace, sorted by namespace/name. */
  list(resource: string, ns?: string): KObject[] {
    const t = this.data.get(resource);
    if (!t) return [];
    const out: KObject[] = [];
    for (const [k, o] of t) if (ns === undefined || k.startsWith(`${ns}/`)) out.push(o);
    return out.sort(byKey);
  }

  /** The objects as they were at `rv` (which must be >= compactedRv), sorted by namespace/name. */
  listAt(resource: string, ns: string | undefined, rv: number): KObject[] {
    if (rv < this.compacted) throw new Error(`resourceVersion ${rv} is compacted`);
    const state = new Map<string, KObject>();
    for (const o of this.list(resource, ns)) state.set(keyOf(o.metadata.namespace, o.metadata.name!), o);
    for (let i = this.events.length - 1; i >= 0 && this.events[i].rv > rv; i--) {
      const e = this.events[i];
      if (e.resource !== resource) continue;
      if (ns !== undefined && e.object.metadata.namespace !== ns) continue;
      const k = keyOf(e.object.metadata.namespace, e.object.metadata.name!);
      if (e.type === 'ADDED') state.delete(k);
      else state.set(k, e.prev!);
    }
    return [...state.values()].sort(byKey);
  }

  /** Retained events with rv > `after` (which must be >= compactedRv). */
  eventsAfter(after: number): StoreEvent[] {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.events[mid].rv <= after) lo = mid + 1;
      else hi = mid;
    }
    return this.events.slice(lo);
  }

  subscribe(fn: StoreListener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private emit(e: StoreEvent): void {
    this.events.push(e);
    this.trim();
    for (const fn of [...this.listeners]) {
      try {
        fn(e);
      } catch (err) {
        // A listener bug must not corrupt the store's write path.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  private stamp(obj: KObject): KObject {
    const copy = structuredClone(obj);
    this.rv += 1;
    copy.metadata.resourceVersion = String(this.rv);
    return copy;
  }

  create(resource: string, obj: KObject): KObject {
    const t = this.table(resource);
    const k = keyOf(obj.metadata.namespace, obj.metadata.name!);
    if (t.has(k)) throw new Error(`store: ${resource} ${k} already exists`);
    const stored = this.stamp(obj);
    t.set(k, stored);
    this.emit({ rv: this.rv, type: 'ADDED', resource, object: stored });
    return stored;
  }

  update(resource: string, obj: KObject): KObject {
    const t = this.table(resource);
    const k = keyOf(obj.metadata.namespace, obj.metadata.name!);
    const prev = t.get(k);
    if (!prev) throw new Error(`store: ${resource} ${k} does not exist`);
    const stored = this.stamp(obj);
    t.set(k, stored);
    this.emit({ rv: this.rv, type: 'MODIFIED', resource, object: stored, prev });
    return stored;
  }

  remove(resource: string, ns: string | undefined, name: string): KObject | undefined {
    const t = this.data.get(resource);
    const k = keyOf(ns, name);
    const prev = t?.get(k);
    if (!t || !prev) return undefined;
    t.delete(k);
    const stored = this.stamp(prev);
    this.emit({ rv: this.rv, type: 'DELETED', resource, object: stored, prev });
    return stored;
  }
}

function byKey(a: KObject, b: KObject): number {
  const ka = keyOf(a.metadata.namespace, a.metadata.name!);
  const kb = keyOf(b.metadata.namespace, b.metadata.name!);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}
