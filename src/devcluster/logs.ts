// Container logs as the kubelet keeps them: per container instance (the current one and the previous one,
// for `previous=true`), one timestamped entry per line (stdout and stderr interleaved), partial lines kept
// as partial entries, a byte cap per instance, and followers notified as entries arrive.

export interface LogEntry {
  /** RFC 3339 with nanoseconds, as kubelet log timestamps. */
  time: string;
  text: string;
  /** False for a partial line (no newline yet). */
  complete: boolean;
}

export const DEFAULT_LOG_BYTES = 16 * 1024 * 1024;

export function nanoTime(d: Date = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z');
}

type Follower = (e: LogEntry | null) => void;
export type LogStream = 'stdout' | 'stderr';

export class ContainerLog {
  readonly entries: LogEntry[] = [];
  private bytes = 0;
  /** Partial lines per stream, so an unfinished stdout line is not glued to stderr output. */
  private readonly partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  private closedFlag = false;
  private readonly followers = new Set<Follower>();

  constructor(private readonly maxBytes: number = DEFAULT_LOG_BYTES) {}

  get closed(): boolean {
    return this.closedFlag;
  }

  append(chunk: string, stream: LogStream = 'stdout'): void {
    if (this.closedFlag || chunk.length === 0) return;
    const time = nanoTime();
    const parts = (this.partial[stream] + chunk).split('\n');
    this.partial[stream] = parts.pop()!;
    for (const text of parts) this.push({ time, text, complete: true });
  }

  /** Flushes a trailing partial line and wakes followers with end-of-log. */
  close(): void {
    if (this.closedFlag) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.partial[stream]) this.push({ time: nanoTime(), text: this.partial[stream], complete: false });
      this.partial[stream] = '';
    }
    this.closedFlag = true;
    for (const f of [...this.followers]) f(null);
    this.followers.clear();
  }

  private push(e: LogEntry): void {
    this.entries.push(e);
    this.bytes += e.text.length + 1;
    while (this.bytes > this.maxBytes && this.entries.length > 1) {
      const dropped = this.entries.shift()!;
      this.bytes -= dropped.text.length + 1;
    }
    for (const f of [...this.followers]) f(e);
  }

  /** Calls `fn` for every new entry and with null when the log closes; returns an unsubscribe function. */
  follow(fn: Follower): () => void {
    if (this.closedFlag) {
      queueMicrotask(() => fn(null));
      return () => {};
    }
    this.followers.add(fn);
    return () => this.followers.delete(fn);
  }
}

export interface LogQuery {
  tailLines?: number;
  timestamps?: boolean;
  sinceTime?: string;
  limitBytes?: number;
}

/** Renders one entry as the API serves it. */
export function renderEntry(e: LogEntry, timestamps: boolean): string {
  return (timestamps ? `${e.time} ` : '') + e.text + (e.complete ? '\n' : '');
}

/** The entries a log request returns before following: since/tail filters applied. */
export function selectEntries(log: ContainerLog, q: LogQuery): LogEntry[] {
  let entries = log.entries;
  if (q.sinceTime) {
    const since = Date.parse(q.sinceTime);
    entries = entries.filter((e) => Date.parse(e.time) >= since);
  }
  if (q.tailLines !== undefined && q.tailLines >= 0) {
    entries = q.tailLines === 0 ? [] : entries.slice(-q.tailLines);
  }
  return entries;
}

/** Every container's logs of every pod on the dev cluster, keyed by pod UID and container name. */
export class LogStore {
  private readonly logs = new Map<string, { current: ContainerLog; previous?: ContainerLog }>();

  constructor(private readonly maxBytes: number = DEFAULT_LOG_BYTES) {}

  /** A new container instance starts: the current log becomes the previous one. */
  start(podUid: string, container: string): ContainerLog {
    const key = `${podUid}/${container}`;
    const cur = this.logs.get(key)?.current;
    cur?.close();
    const log = new ContainerLog(this.maxBytes);
    this.logs.set(key, { current: log, previous: cur });
    return log;
  }

  get(podUid: string, container: string, previous = false): ContainerLog | undefined {
    const l = this.logs.get(`${podUid}/${container}`);
    return previous ? l?.previous : l?.current;
  }

  dropPod(podUid: string): void {
    for (const [k, v] of this.logs) {
      if (k.startsWith(`${podUid}/`)) {
        v.current.close();
        this.logs.delete(k);
      }
    }
  }
}
