// The DAG processor's child process: imports DAG files on request and answers with serialized DAGs.
// A separate process so that a DAG file that hangs, crashes or leaks cannot harm the scheduler.
import { importDagFile, lineInFile } from './import.ts';
import type { ParseRequest, ParseResult } from './parse-protocol.ts';
import { serializeDag } from './serialize.ts';

async function parse(req: ParseRequest): Promise<ParseResult> {
  try {
    const defs = await importDagFile(req.file);
    const dags = [];
    const problems = [];
    for (const def of defs) {
      const r = serializeDag(def, req.file, req.defaults);
      if (r.dag) dags.push(r.dag);
      problems.push(...r.problems);
    }
    const sites = req.sitesOf?.map((t) => ({ ...t, at: defs.find((d) => d.dagId === t.dagId)?.tasks.get(t.taskId)?.declaredAt ?? null }));
    return { file: req.file, dags, problems, ...(sites ? { sites } : {}) };
  } catch (e) {
    const err = e as Error;
    const message = err instanceof Error ? `${err.name}: ${err.message}` : String(e);
    return { file: req.file, dags: [], problems: [{ dagId: null, taskId: null, at: lineFor(e, req.file), message }] };
  }
}

function lineFor(e: unknown, file: string): string | null {
  const line = lineInFile(e, file);
  return line === null ? null : `${file}:${line}`;
}

process.on('message', (msg: ParseRequest) => {
  void parse(msg).then((res) => process.send!(res));
});
process.send!({ ready: true });
