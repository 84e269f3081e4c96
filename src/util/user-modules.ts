// Loads users' modules (DAG files, the podMutationHook) the way Node would, TypeScript included, at the
// least cost: a CommonJS module (a .ts or .js file outside a `"type": "module"` package, or .cts/.cjs) is
// required through tsx's CommonJS hook, in this thread; only an ES module (.mts/.mjs, or a `"type": "module"`
// package) starts Node's module-hooks thread, which costs half a second on a fresh process.
// Either way `import … from 'floe'` gets this Floe's SDK.
import { existsSync, readFileSync } from 'node:fs';
import Module, { createRequire, register } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ownEntryUrl, runningFromSources } from './own-modules.ts';
import { isBareSpecifier } from './specifier.ts';

export type ModuleFormat = 'commonjs' | 'module';

/** Node's rule: the extension, else the nearest package.json's `type`. */
export function moduleFormat(file: string): ModuleFormat {
  const ext = path.extname(file);
  if (ext === '.mts' || ext === '.mjs') return 'module';
  if (ext === '.cts' || ext === '.cjs') return 'commonjs';
  for (let dir = path.dirname(file); ; ) {
    const pkg = path.join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        return (JSON.parse(readFileSync(pkg, 'utf8')) as { type?: string }).type === 'module' ? 'module' : 'commonjs';
      } catch {
        return 'commonjs'; // Node fails on a broken package.json only for packages it resolves; a DAG folder's is not one.
      }
    }
    const parent = path.dirname(dir);
    if (parent === dir) return 'commonjs';
    dir = parent;
  }
}

const requireHere = createRequire(import.meta.url);

let requireReady: Promise<void> | null = null;
/** tsx's CommonJS hook, and `require('floe')` resolved to the SDK's CommonJS build (its registry is shared). */
function enableRequire(): Promise<void> {
  requireReady ??= (async () => {
    if (!runningFromSources) (await import('tsx/cjs/api')).register();
    const sdk = fileURLToPath(runningFromSources ? ownEntryUrl('sdk/index') : new URL('../sdk/index.cjs', ownEntryUrl('sdk/index')));
    // Node 20 has no public require hook.
    const M = Module as unknown as { _resolveFilename: (request: string, parent?: { filename?: string | null }, ...rest: unknown[]) => string };
    const original = M._resolveFilename;
    M._resolveFilename = function (request: string, parent?: { filename?: string | null }, ...rest: unknown[]) {
      if (request === 'floe') return sdk;
      try {
        return original.call(this, request, parent, ...rest);
      } catch (e) {
        if (!isBareSpecifier(request) || (e as { code?: string }).code !== 'MODULE_NOT_FOUND') throw e;
        // A package the DAG folder does not have: Floe's own (e.g. @kubernetes/client-node for V1Pod), else a
        // plain error naming the file, without Node's require stack.
        try {
          return requireHere.resolve(request);
        } catch {
          throw Object.assign(new Error(notFound(request, parent?.filename ?? null)), { code: 'MODULE_NOT_FOUND' });
        }
      }
    };
  })();
  return requireReady;
}

function notFound(specifier: string, importer: string | null): string {
  return `Cannot find package '${specifier}'${importer ? ` imported from ${importer}` : ''}: neither the DAG folder nor Floe has it (install it where the DAG files are, e.g. npm install ${specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]})`;
}

let importReady: Promise<void> | null = null;
/** tsx's ESM hooks and a resolve hook for `import 'floe'` (module-hooks thread). */
function enableImport(): Promise<void> {
  importReady ??= (async () => {
    await enableRequire(); // an ES module may import CommonJS ones
    if (!runningFromSources) (await import('tsx/esm/api')).register();
    register(ownEntryUrl('dag/floe-hook'), { data: { sdkUrl: ownEntryUrl('sdk/index').href, floeUrl: import.meta.url } });
  })();
  return importReady;
}

/**
 * Loads `file` (absolute path). `fresh`: load it again even if it was loaded before (a changed DAG file);
 * `version` distinguishes the ES-module copies, which Node caches by URL.
 */
export async function loadUserModule(file: string, opts: { fresh?: boolean; version?: number } = {}): Promise<Record<string, unknown>> {
  if (moduleFormat(file) === 'commonjs') {
    await enableRequire();
    if (opts.fresh) delete requireHere.cache[file];
    return requireHere(file) as Record<string, unknown>;
  }
  await enableImport();
  return (await import(`${pathToFileURL(file).href}${opts.version !== undefined ? `?v=${opts.version}` : ''}`)) as Record<string, unknown>;
}
