// Runs DAG files through the parse child process, one at a time, killing and replacing the child when a
// file exceeds its time budget.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { childExecArgv, ownEntryUrl } from '../util/own-modules.ts';
import type { ParseRequest, ParseResult, TaskSiteRequest } from './parse-protocol.ts';
import type { SerializeDefaults } from './serialize.ts';

const CHILD = fileURLToPath(ownEntryUrl('dag/parse-child'));

/**
 * Starts a DAG parser process; resolves once it is ready for files. A command that will parse can start it
 * first and hand it to parseDagFiles, so the process starts while the command opens its database.
 */
export function startDagParser(): Promise<ChildProcess> {
  const ready = new Promise<ChildProcess>((resolve, reject) => {
    const child = fork(CHILD, [], { execArgv: childExecArgv(), stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()).slice(-4000));
    child.once('message', () => resolve(child));
    child.once('exit', (code) => reject(new Error(`DAG parser process exited (${code}) before it was ready: ${stderr}`)));
  });
  ready.catch(() => {}); // reported to whoever awaits it
  return ready;
}

/** Ends a parser started ahead that may not have been used (the command failed first); a no-op once it was. */
export function stopDagParser(parser: Promise<ChildProcess>): void {
  void parser.then((c) => c.kill('SIGKILL'), () => {});
}

function parseOne(child: ChildProcess, req: ParseRequest, timeoutMs: number): Promise<ParseResult | 'timeout' | 'crashed'> {
  return new Promise((resolve) => {
    const done = (r: ParseResult | 'timeout' | 'crashed') => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      resolve(r);
    };
    const onMessage = (m: ParseResult) => done(m);
    const onExit = () => done('crashed');
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    child.on('message', onMessage);
    child.once('exit', onExit);
    child.send(req);
  });
}

export async function parseDagFiles(
  files: string[],
  opts: { timeoutMs: number; defaults: SerializeDefaults; sitesOf?: ReadonlyMap<string, TaskSiteRequest[]>; parser?: Promise<ChildProcess> },
): Promise<ParseResult[]> {
  const results: ParseResult[] = [];
  let child: ChildProcess | null = null;
  let given = opts.parser;
  try {
    for (const file of files) {
      child ??= await (given ?? startDagParser());
      given = undefined;
      const r = await parseOne(child, { file, defaults: opts.defaults, sitesOf: opts.sitesOf?.get(file) }, opts.timeoutMs);
      if (typeof r === 'object') {
        results.push(r);
        continue;
      }
      const message =
        r === 'timeout'
          ? `DagImportTimeout: importing the file took longer than ${opts.timeoutMs / 1000}s (core.dagFileProcessorTimeout)`
          : 'DagImportCrash: the file ended the parser process while being imported (process.exit or a fatal error)';
      results.push({ file, dags: [], problems: [{ dagId: null, taskId: null, at: null, message }] });
      child.kill('SIGKILL');
      child = null;
    }
  } finally {
    child?.kill('SIGKILL');
    // A parser started for files that turned out to be none.
    if (given) stopDagParser(given);
  }
  return results;
}
