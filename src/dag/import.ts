// Imports a DAG file and returns the DAG definitions it created. Used by the DAG processor's child process
// and by task runners (which keep a cache, so a warm runner imports each file version once).
import { statSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type DagDefinition, dagRegistry } from '../sdk/dag.ts';

let hookInstalled = false;
export function installFloeResolveHook(): void {
  if (hookInstalled) return;
  hookInstalled = true;
  const sdkUrl = new URL('../sdk/index.ts', import.meta.url);
  register(new URL('./floe-hook.mjs', import.meta.url), { data: { sdkUrl: sdkUrl.href } });
  // DAG files outside an ESM package are compiled to CommonJS by tsx and use require(): Node 20 has no
  // public require hook, so resolve 'floe' there too. The SDK keeps its registry on globalThis, so a
  // CommonJS copy of it registers DAGs in the same place.
  const M = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const original = M._resolveFilename;
  const sdkPath = fileURLToPath(sdkUrl);
  M._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'floe' ? sdkPath : original.call(this, request, ...rest);
  };
}

const cache = new Map<string, { mtimeMs: number; dags: Promise<DagDefinition[]> }>();
const requireCache = createRequire(import.meta.url).cache;
/** Imports run one at a time: the registry collects whatever DAGs get defined while a file loads. */
let importChain: Promise<unknown> = Promise.resolve();

/**
 * Imports `file` (absolute path) fresh if it changed since the last import, else returns the cached DAGs.
 * Concurrent callers for the same file version share one import.
 */
export function importDagFile(file: string): Promise<DagDefinition[]> {
  installFloeResolveHook();
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
    // The query string makes ESM import a changed file again; a file tsx compiles to CommonJS is cached by
    // require() under its path instead, so that entry goes too.
    delete requireCache[file];
    await import(`${pathToFileURL(file).href}?v=${mtimeMs}`);
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
