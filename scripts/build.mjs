// `npm run build` (also run by `prepare`, so `npm ci` leaves a working install): Floe's compiled build in dist/.
// - JavaScript: each process entry point bundled by esbuild with code splitting, so a command loads one file
//   plus the chunks it imports instead of hundreds of small modules (module loading was most of a CLI call's
//   start). Packages with native code, files of their own or dynamic requires stay external in node_modules.
// - Types: the SDK's declarations (dist/types), for DAG files type-checked against `floe`.
// Every emitted file sits one folder below dist/, as every source file under src/<concept>/ sits one below
// src/: src/util/own-modules.ts finds sibling entry points the same way in both.
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const ENTRY_POINTS = [
  'src/cli/main.ts', // bin/floe.js
  'src/worker/warm-runner.ts', // local executor's task processes
  'src/worker/queue-child.ts', // floe worker's task processes
  'src/dag/parse-child.ts', // DAG file parser process
  'src/dag/floe-hook.ts', // module hook: `import 'floe'` from DAG files
  'src/sdk/index.ts', // what DAG files import
];
// Not bundled: native addons, packages that load their own files at run time, and the heavy ones only some
// commands need (loaded lazily from node_modules, as they are).
const EXTERNAL = [
  'better-sqlite3',
  'pg',
  'pg-native',
  '@kubernetes/client-node',
  'kubernetes-models',
  'kubernetes-models/*',
  'bullmq',
  'ioredis',
  'fastify',
  '@fastify/*',
  'pino',
  'pino-pretty',
  'tsx',
  'tsx/*',
  'esbuild',
  'cli-progress',
  'playwright-core',
];

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ENTRY_POINTS,
  outdir: 'dist',
  outbase: 'src',
  chunkNames: 'chunks/[name]-[hash]',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  external: EXTERNAL,
  // Less to parse at every start; names stay, so stack traces read as the sources (source maps are linked).
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'linked',
  logLevel: 'warning',
  // Bundled CommonJS packages call require() for Node's built-ins.
  banner: { js: "import { createRequire as __floeCreateRequire } from 'node:module'; const require = __floeCreateRequire(import.meta.url);" },
});
// The SDK again as one CommonJS file: DAG files compiled to CommonJS require('floe') without module hooks.
await build({
  absWorkingDir: root,
  entryPoints: ['src/sdk/index.ts'],
  outfile: 'dist/sdk/index.cjs',
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
execFileSync(process.execPath, [fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url)), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
