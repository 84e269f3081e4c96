// List + watch of the pods matching a label selector in one namespace, informer style: resumes from the
// last resourceVersion when a stream drops, relists on 410 Gone, uses bookmarks to keep its version fresh.
import { type V1Pod, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { backoffMs, type KubeApi, statusCode } from './client.ts';

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface PodWatchHandlers {
  /**
   * A full list replaced what was known about this namespace (first start, after 410 Gone). `startedAt` is when
   * the list request was sent: a pod created after that may be missing from it without having been deleted.
   */
  onList(namespace: string, pods: V1Pod[], startedAt: number): void;
  onEvent(type: PodEventType, pod: V1Pod): void;
}

export class PodWatcher {
  private resourceVersion: string | null = null;
  private abort: AbortController | null = null;
  private stopped = false;
  private failures = 0;
  /** Counters, for logs and tests. */
  readonly stats = { lists: 0, watches: 0, events: 0, gone: 0 };

  constructor(
    private readonly api: KubeApi,
    readonly namespace: string,
    private readonly labelSelector: string,
    private readonly handlers: PodWatchHandlers,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    await this.relist();
    void this.watchLoop();
  }

  stop(): void {
    this.stopped = true;
    this.abort?.abort();
  }

  private async list(): Promise<void> {
    const startedAt = Date.now();
    const r = await this.api.call((c) => c.listNamespacedPod({ namespace: this.namespace, labelSelector: this.labelSelector }));
    this.stats.lists++;
    this.resourceVersion = r.metadata?.resourceVersion ?? null;
    this.handlers.onList(this.namespace, r.items, startedAt);
  }

  private async watchLoop(): Promise<void> {
    while (!this.stopped) {
      let gone = false;
      try {
        await new Promise<void>((resolve, reject) => {
          const w = new Watch(this.api.kc);
          this.stats.watches++;
          w.watch(
            `/api/v1/namespaces/${encodeURIComponent(this.namespace)}/pods`,
            { labelSelector: this.labelSelector, resourceVersion: this.resourceVersion ?? undefined, allowWatchBookmarks: true },
            (type: string, obj: V1Pod & { code?: number }) => {
              if (type === 'ERROR') {
                // A Status object; 410 means our resourceVersion is older than the server keeps.
                if ((obj as { code?: number }).code === 410) gone = true;
                return;
              }
              const rv = obj?.metadata?.resourceVersion;
              if (rv) this.resourceVersion = rv;
              if (type === 'BOOKMARK') return;
              this.stats.events++;
              this.failures = 0;
              this.handlers.onEvent(type as PodEventType, obj);
            },
            (err: unknown) => (err && !this.stopped ? reject(err) : resolve()),
          )
            .then((ac) => {
              this.abort = ac;
              if (this.stopped) ac.abort();
            })
            .catch(reject);
        });
      } catch (e) {
        if (this.stopped) return;
        if (statusCode(e) === 410) gone = true;
        else {
          this.failures++;
          this.log.warn({ err: e, namespace: this.namespace }, 'pod watch failed; resuming');
          await new Promise((r) => setTimeout(r, backoffMs(Math.min(this.failures, 6), 100, 5000)));
        }
      }
      if (this.stopped) return;
      if (gone) {
        this.stats.gone++;
        this.log.info({ namespace: this.namespace }, 'pod watch: resourceVersion expired (410 Gone); relisting');
        await this.relist();
      }
    }
  }

  private async relist(): Promise<void> {
    for (let attempt = 0; !this.stopped; attempt++) {
      try {
        await this.list();
        return;
      } catch (e) {
        this.log.warn({ err: e, namespace: this.namespace }, 'pod list failed; retrying');
        await new Promise((r) => setTimeout(r, backoffMs(Math.min(attempt, 6), 100, 5000)));
      }
    }
  }
}
