// Imports a DAG file and returns the DAG definitions it created. Used by the DAG processor's child process
// and by task runners (which keep a cache, so a warm runner imports each file version once).
import { statSync } from 'node:fs';
import { type DagDefinition, dagRegistry } from '../sdk/dag.ts';
import { loadUserModule } from '../util/user-modules.ts';

const cache = new Map<string, { mtimeMs: number; dags: Promise<DagDefinition[]> }>();
/** Imports run one at a time: the registry collects whatever DAGs get defined while a file loads. */
let importChain: Promise<unknown> = Promise.resolve();

/**
 * Imports `file` (absolute path) fresh if it changed since the last import, else returns the cached DAGs.
 * Concurrent callers for the same file version share one import.
 */
export function importDagFile(file: string): Promise<DagDefinition[]> {
  const mtimeMs = statSync(file).mtimeMs;
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === mtimeMs) return hit.dags;
  const dags = (importChain = importChain.catch(() => {}).then(() => importNow(file, mtimeMs))) as Promise<DagDefinition[]>;
  cache.set(file, { mtimeMs, dags });
  dags.catch(() => cache.delete(file));
  return dags;
}

async function importNow(file: string, mtimeMs: number): Promise<DagDefinition[]> {
  const registry = dagRegistry();
  const before = registry.dags.length;
  registry.fileloc = file;
  try {
    // A changed file is loaded again (the registry collects what it defines now).
    await loadUserModule(file, { fresh: true, version: mtimeMs });
  } finally {
    registry.fileloc = null;
  }
  return registry.dags.splice(before);
}

/** file:line of the first stack frame inside `file`, for import-error messages. */
export function lineInFile(error: unknown, file: string): number | null {
  const text = error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error);
  const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${escaped}(?:\\?[^:]*)?:(\\d+)`).exec(text);
  return m ? Number(m[1]) : null;
}
