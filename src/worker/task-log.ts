// One log file per try: <logsFolder>/dag_id=…/run_id=…/task_id=…[/map_index=N]/attempt=N.log
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import path from 'node:path';
import { format } from 'node:util';
import type { TIKey } from '../executors/types.ts';

export function taskLogPath(logsFolder: string, k: TIKey, tryNumber: number): string {
  const safe = (s: string) => s.replace(/[/\\]/g, '_');
  const parts = [logsFolder, `dag_id=${safe(k.dagId)}`, `run_id=${safe(k.runId)}`, `task_id=${safe(k.taskId)}`];
  if (k.mapIndex >= 0) parts.push(`map_index=${k.mapIndex}`);
  return path.join(...parts, `attempt=${tryNumber}.log`);
}

export class TaskLog {
  private readonly stream: WriteStream;
  /** `echo`: also write to standard output (`floe tasks run`, so a pod's log holds the task log). */
  constructor(
    readonly file: string,
    private readonly echo = false,
  ) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'a' });
  }
  line(level: string, ...args: unknown[]): void {
    this.raw(`[${new Date().toISOString()}] ${level} ${format(...args)}\n`);
  }
  raw(chunk: string | Buffer): void {
    this.stream.write(chunk);
    if (this.echo) process.stdout.write(chunk);
  }
  /** Resolves once everything written so far is in the file. */
  flush(): Promise<void> {
    return new Promise((resolve, reject) => this.stream.write('', (e) => (e ? reject(e) : resolve())));
  }
  close(): Promise<void> {
    return new Promise((r) => this.stream.end(r));
  }
}
