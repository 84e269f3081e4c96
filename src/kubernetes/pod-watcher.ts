// List + watch of the pods matching a label selector in one namespace, informer style: resumes from the
// last resourceVersion when a stream drops, relists on 410 Gone, uses bookmarks to keep its version fresh.
import { type V1Pod, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiMessage, backoffMs, type KubeApi, statusCode } from './client.ts';

export type PodEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface PodWatchHandlers {
  /**
   * A full list replaced what was known about this namespace (first start, after 410 Gone). `startedAt` is when
   * the list request was sent: a pod created after that may be missing from it without having been deleted.
   */
  onList(namespace: string, pods: V1Pod[], startedAt: number): void;
  onEvent(type: PodEventType, pod: V1Pod): void;
}

/** The HTTP status of a failed list or watch: client-node's Watch puts it in `statusCode`, its API calls in `code`. */
function failureStatus(e: unknown): number | null {
  const s = (e as { statusCode?: unknown } | null)?.statusCode;
  return statusCode(e) ?? (typeof s === 'number' ? s : null);
}

/** One line for a failed list or watch: `HTTP 503 Service Unavailable`, `HTTP 403: <API message>`, or the network error. */
export function describeWatchFailure(e: unknown): string {
  const message = apiMessage(e);
  const status = failureStatus(e);
  // Watch failures carry only the status text as their message.
  return status === null || message.startsWith('HTTP ') ? message : `HTTP ${status} ${message}`;
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
        if (failureStatus(e) === 410) gone = true;
        else {
          this.failures++;
          const delay = Math.round(backoffMs(Math.min(this.failures, 6), 100, 5000));
          // One line a failure: what failed and what happens next. The client's stack is only for debugging.
          const from = this.resourceVersion ? ` from resourceVersion ${this.resourceVersion}` : '';
          this.log.warn(
            { namespace: this.namespace, status: failureStatus(e), failures: this.failures, retryInMs: delay },
            `pod watch in namespace ${this.namespace} failed (${describeWatchFailure(e)}); resuming the watch${from} in ${delay} ms, pod states wait until then`,
          );
          this.log.debug({ err: e, namespace: this.namespace }, 'pod watch failure');
          await new Promise((r) => setTimeout(r, delay));
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
        const delay = Math.round(backoffMs(Math.min(attempt, 6), 100, 5000));
        this.log.warn(
          { namespace: this.namespace, status: failureStatus(e), attempt: attempt + 1, retryInMs: delay },
          `pod list in namespace ${this.namespace} failed (${describeWatchFailure(e)}); listing again in ${delay} ms, pod states wait until then`,
        );
        this.log.debug({ err: e, namespace: this.namespace }, 'pod list failure');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }
}
