// Floe's own log on standard error: short coloured lines for a person at a terminal, JSON lines (one object a
// line, for log collectors) otherwise. pino-pretty loads only for a terminal.
import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';

export type LogFormat = 'auto' | 'json' | 'pretty';

/** Whether lines are pretty: `auto` means "stderr is a terminal". */
export function prettyLogs(format: LogFormat, stderrIsTty = process.stderr.isTTY === true): boolean {
  return format === 'pretty' || (format === 'auto' && stderrIsTty);
}

export function stderrLogger(level: string, format: LogFormat = 'auto'): Logger {
  if (!prettyLogs(format)) return pino({ level }, pino.destination(2));
  // A synchronous stream in this thread (no transport worker): a CLI call or scheduler start stays fast.
  const pretty = createRequire(import.meta.url)('pino-pretty') as typeof import('pino-pretty');
  return pino({ level }, pretty({ destination: 2, sync: true, colorize: process.stderr.isTTY === true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname' }));
}
