// One log file per try: <logsFolder>/dag_id=…/run_id=…/task_id=…[/map_index=N]/attempt=N.log
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import type { TIKey } from '../executors/types.ts';

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
  /** `echo`: also write to standard output (`floe tasks run`, so a pod's log holds the task log). */
  constructor(
    readonly file: string,
    private readonly echo = false,
  ) {
    this.fd = openLog(file);
  }
  line(level: string, ...args: unknown[]): void {
    this.raw(`[${new Date().toISOString()}] ${level} ${format(...args)}\n`);
  }
  raw(chunk: string | Buffer): void {
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
