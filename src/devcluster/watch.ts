// Watch semantics of the real API server over the store's event stream: initial ADDED events, resume from a
// resourceVersion (replaying retained events), 410 Expired as an ERROR event, selector transitions
// (an object that stops matching is DELETED for this watcher), BOOKMARKs and timeouts.
import type { Faults } from './faults.ts';
import { parseRv, parseSelectors, selectorMatches, type Selectors } from './registry.ts';
import type { ResourceDef } from './resources.ts';
import { tooOldResourceVersion, type Status } from './status.ts';
import type { Store, StoreEvent } from './store.ts';
import type { KObject, WatchEventType } from './types.ts';

export interface WatchQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  allowWatchBookmarks?: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export interface WatchSink {
  send(type: WatchEventType, object: KObject | Status): void;
  end(): void;
}

export interface WatchContext {
  store: Store;
  faults: Faults;
  bookmarkIntervalMs: number;
}

/** What one watcher sees of one store event, or null when it is not for this watcher. */
export function watchEventFor(
  def: ResourceDef,
  ns: string | undefined,
  sel: Selectors,
  e: StoreEvent,
): { type: WatchEventType; object: KObject } | null {
  if (e.resource !== def.name) return null;
  if (ns !== undefined && e.object.metadata.namespace !== ns) return null;
  const cur = e.type !== 'DELETED' && selectorMatches(def, sel, e.object);
  const prev = e.prev !== undefined && selectorMatches(def, sel, e.prev);
  switch (e.type) {
    case 'ADDED':
      return cur ? { type: 'ADDED', object: e.object } : null;
    case 'MODIFIED':
      if (cur && prev) return { type: 'MODIFIED', object: e.object };
      if (cur) return { type: 'ADDED', object: e.object };
      if (prev) return { type: 'DELETED', object: e.object };
      return null;
    case 'DELETED':
      return prev ? { type: 'DELETED', object: e.object } : null;
  }
}

/**
 * Starts a watch; validation errors (bad selectors, bad resourceVersion) throw before anything is sent.
 * Returns a function that stops the watch without ending the sink.
 */
export function startWatch(ctx: WatchContext, def: ResourceDef, ns: string | undefined, q: WatchQuery, sink: WatchSink): () => void {
  const sel = parseSelectors(def, q.labelSelector, q.fieldSelector);
  const nsFilter = def.namespaced ? ns : undefined;
  const rv = parseRv(q.resourceVersion);
  const { store, faults } = ctx;
  const timers: NodeJS.Timeout[] = [];
  let stopped = false;
  let sent = 0;
  let unsubscribe = () => {};
  let unregister = () => {};

  const stop = () => {
    if (stopped) return;
    stopped = true;
    unsubscribe();
    unregister();
    for (const t of timers) clearTimeout(t); // clearTimeout also clears intervals
  };
  const finish = () => {
    if (stopped) return;
    stop();
    sink.end();
  };
  const emit = (type: WatchEventType, object: KObject | Status) => {
    if (stopped) return;
    sink.send(type, object);
    if (type !== 'BOOKMARK') sent++;
    const limit = faults.config.closeWatchAfterEvents;
    if (limit > 0 && sent >= limit) finish();
  };
  const bookmark = (annotations?: Record<string, string>) => {
    const metadata: KObject['metadata'] = { resourceVersion: String(store.currentRv) };
    if (annotations) metadata.annotations = annotations;
    emit('BOOKMARK', { kind: def.kind, apiVersion: 'v1', metadata });
  };

  if (faults.takeGone()) {
    emit('ERROR', tooOldResourceVersion(rv ?? store.currentRv, store.compactedRv + 1).status);
    finish();
    return stop;
  }
  const initialFromState = rv === undefined || rv === 0 || q.sendInitialEvents === true;
  if (!initialFromState && rv! < store.compactedRv) {
    emit('ERROR', tooOldResourceVersion(rv!, store.compactedRv + 1).status);
    finish();
    return stop;
  }

  // Subscribing and computing the backlog happen in the same tick, so no event can fall in between.
  const backlog: { type: WatchEventType; object: KObject }[] = [];
  if (initialFromState) {
    for (const o of store.list(def.name, nsFilter)) {
      if (selectorMatches(def, sel, o)) backlog.push({ type: 'ADDED', object: o });
    }
  } else {
    for (const e of store.eventsAfter(rv!)) {
      const w = watchEventFor(def, nsFilter, sel, e);
      if (w) backlog.push(w);
    }
  }
  // Resuming from a version the store has not reached yet waits for it, as the watch cache does.
  const after = initialFromState ? 0 : rv!;
  unsubscribe = store.subscribe((e) => {
    if (e.rv <= after) return;
    const w = watchEventFor(def, nsFilter, sel, e);
    if (w) emit(w.type, w.object);
  });
  unregister = faults.registerWatch(finish);
  for (const b of backlog) emit(b.type, b.object);
  if (q.sendInitialEvents === true && q.allowWatchBookmarks) bookmark({ 'k8s.io/initial-events-end': 'true' });

  if (q.allowWatchBookmarks && ctx.bookmarkIntervalMs > 0) {
    const every = setInterval(() => bookmark(), ctx.bookmarkIntervalMs);
    timers.push(every);
  }
  if (q.timeoutSeconds !== undefined && q.timeoutSeconds > 0) timers.push(setTimeout(finish, q.timeoutSeconds * 1000));
  const closeAfter = faults.config.closeWatchAfterMs;
  if (closeAfter > 0) timers.push(setTimeout(finish, closeAfter));
  return stop;
}
