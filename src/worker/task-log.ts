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
  constructor(readonly file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.stream = createWriteStream(file, { flags: 'a' });
  }
  line(level: string, ...args: unknown[]): void {
    this.stream.write(`[${new Date().toISOString()}] ${level} ${format(...args)}\n`);
  }
  raw(chunk: string | Buffer): void {
    this.stream.write(chunk);
  }
  close(): Promise<void> {
    return new Promise((r) => this.stream.end(r));
  }
}
