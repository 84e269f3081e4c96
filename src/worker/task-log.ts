// One log file per try: <logsFolder>/dag_id=…/run_id=…/task_id=…[/map_index=N]/attempt=N.log
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import type { TIKey } from '../executors/types.ts';
import { MaskingStream, type SecretsMasker } from '../secrets/masker.ts';

export function taskLogPath(logsFolder: string, k: TIKey, tryNumber: number): string {
  const safe = (s: string) => s.replace(/[/\\]/g, '_');
  const parts = [logsFolder, `dag_id=${safe(k.dagId)}`, `run_id=${safe(k.runId)}`, `task_id=${safe(k.taskId)}`];
  if (k.mapIndex >= 0) parts.push(`map_index=${k.mapIndex}`);
  return path.join(...parts, `attempt=${tryNumber}.log`);
}

/** Opens for appending. A plain mkdir of the try's folder first: a recursive one costs extra syscalls per try. */
function openLog(file: string): number {
  const dir = path.dirname(file);
  try {
    mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') mkdirSync(dir, { recursive: true });
    else if (code !== 'EEXIST') throw e;
  }
  return openSync(file, 'a');
}

/**
 * Writes go to the file synchronously: a task that ends its process (`process.exit`, a crash, a kill after
 * its last words) must not take its last lines with it, as buffered stream writes would.
 */
export class TaskLog {
  private fd: number | null;
  private failed = false;
  /** With a masker, every secret it knows is written as `***` (streams of raw output per channel). */
  private masker: SecretsMasker | null = null;
  private readonly streams = new Map<string, MaskingStream>();
  /** `echo`: also write to standard output (`floe tasks run`, so a pod's log holds the task log). */
  constructor(
    readonly file: string,
    private readonly echo = false,
  ) {
    this.fd = openLog(file);
  }
  setMasker(masker: SecretsMasker): void {
    this.masker = masker;
  }
  line(level: string, ...args: unknown[]): void {
    const text = `[${new Date().toISOString()}] ${level} ${format(...args)}\n`;
    if (!this.masker) return this.write(text);
    this.flushStreams();
    this.write(this.masker.mask(text));
  }
  /**
   * A chunk of a task's raw output. `channel` (stdout, stderr) keeps a secret split over two chunks of one
   * stream masked: the end of a chunk that may begin a secret waits for the next chunk of its channel.
   */
  raw(chunk: string | Buffer, channel = 'raw'): void {
    if (!this.masker) return this.write(chunk);
    let s = this.streams.get(channel);
    if (!s) this.streams.set(channel, (s = new MaskingStream(this.masker)));
    const out = s.write(chunk);
    if (out) this.write(out);
  }
  private flushStreams(): void {
    for (const s of this.streams.values()) {
      const rest = s.end();
      if (rest) this.write(rest);
    }
  }
  private write(chunk: string | Buffer): void {
    if (this.fd !== null && !this.failed) {
      try {
        if (typeof chunk === 'string') writeSync(this.fd, chunk);
        else writeSync(this.fd, chunk);
      } catch (e) {
        // A full disk must not fail the task; the log on standard output (pods) still has everything.
        this.failed = true;
        process.stderr.write(`floe: cannot write the task log ${this.file} any more: ${(e as Error).message}\n`);
      }
    }
    if (this.echo) process.stdout.write(chunk);
  }
  close(): Promise<void> {
    this.flushStreams();
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
    return Promise.resolve();
  }
}

/** A try log's last line: whether the outcome was recorded (the try may have been ended elsewhere meanwhile). */
export function noteRecorded(log: TaskLog, state: string, recorded: boolean): void {
  if (!recorded) log.line('WARN', `the outcome (${state}) was not recorded: the try was ended elsewhere meanwhile (e.g. as a zombie)`);
  else log.line('INFO', `marked ${state}`);
}
