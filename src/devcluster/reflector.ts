// List + watch of one collection into a local cache (client-go's reflector): lists, watches from the list's
// resourceVersion, resumes from the last one it saw when a watch ends, relists on 410 Expired or an error
// (after a short pause). Calls back with each change after the cache is updated.
import type { RawClient } from './raw-client.ts';
import type { KObject } from './types.ts';

export type ReflectorEvent = 'ADDED' | 'MODIFIED' | 'DELETED';

const keyOf = (o: KObject) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`;

export class Reflector<T extends KObject> {
  readonly cache = new Map<string, T>();
  private rv = '';
  private stopped = false;
  private abort: () => void = () => {};
  private retry?: NodeJS.Timeout;
  private synced!: () => void;
  /** Resolves after the first successful list. */
  readonly ready = new Promise<void>((r) => (this.synced = r));

  constructor(
    private readonly client: RawClient,
    private readonly path: string,
    private readonly query: { fieldSelector?: string; labelSelector?: string },
    private readonly onChange: (type: ReflectorEvent, obj: T) => void,
    private readonly onError: (msg: string) => void = () => {},
  ) {}

  get(ns: string | undefined, name: string): T | undefined {
    return this.cache.get(`${ns ?? ''}/${name}`);
  }

  values(): T[] {
    return [...this.cache.values()];
  }

  start(): void {
    void this.relist();
  }

  stop(): void {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    this.abort();
  }

  private later(fn: () => void, ms = 1000): void {
    if (this.stopped) return;
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(fn, ms);
    this.retry.unref();
  }

  private async relist(): Promise<void> {
    if (this.stopped) return;
    const q = new URLSearchParams();
    if (this.query.fieldSelector) q.set('fieldSelector', this.query.fieldSelector);
    if (this.query.labelSelector) q.set('labelSelector', this.query.labelSelector);
    try {
      const list = (await this.client.must('GET', `${this.path}?${q}`)) as { metadata: { resourceVersion: string }; items: T[] };
      const seen = new Set<string>();
      for (const o of list.items) {
        const k = keyOf(o);
        seen.add(k);
        const had = this.cache.get(k);
        this.cache.set(k, o);
        if (!had) this.onChange('ADDED', o);
        else if (had.metadata.resourceVersion !== o.metadata.resourceVersion) this.onChange('MODIFIED', o);
      }
      for (const [k, o] of this.cache) {
        if (!seen.has(k)) {
          this.cache.delete(k);
          this.onChange('DELETED', o);
        }
      }
      this.rv = list.metadata.resourceVersion;
      this.synced();
      await this.watch();
    } catch (e) {
      this.onError(`list ${this.path}: ${(e as Error).message}`);
      this.later(() => void this.relist());
    }
  }

  private async watch(): Promise<void> {
    if (this.stopped) return;
    let expired = false;
    let failed = false;
    const query: Record<string, string | boolean> = { resourceVersion: this.rv, allowWatchBookmarks: true };
    if (this.query.fieldSelector) query.fieldSelector = this.query.fieldSelector;
    if (this.query.labelSelector) query.labelSelector = this.query.labelSelector;
    const ctl = await this.client.watch(
      this.path,
      query,
      (type, raw) => {
        const obj = raw as T & { code?: number };
        if (type === 'ERROR') {
          if (obj.code === 410) expired = true;
          else failed = true;
          return;
        }
        if (obj.metadata?.resourceVersion) this.rv = obj.metadata.resourceVersion;
        if (type === 'BOOKMARK') return;
        const k = keyOf(obj);
        if (type === 'DELETED') this.cache.delete(k);
        else this.cache.set(k, obj);
        this.onChange(type as ReflectorEvent, obj);
      },
      (err) => {
        if (this.stopped) return;
        if (expired || failed || err) {
          if (err || failed) this.onError(`watch ${this.path}: ${err ? ((err as Error).message ?? String(err)) : 'ERROR event'}`);
          // A 410 relists at once; any other failure after a pause, so a failing server is not hammered.
          this.later(() => void this.relist(), expired && !failed && !err ? 0 : 1000);
        } else this.later(() => void this.watch().catch(() => this.later(() => void this.relist())), 0);
      },
    );
    this.abort = () => ctl.abort();
  }
}
