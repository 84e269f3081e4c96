#!/usr/bin/env node
// Entry point: runs Floe's compiled build (dist/, made by `npm run build`, which `npm ci` runs through `prepare`).
// TypeScript DAG files and hooks load tsx on demand; nothing else is loaded here.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  console.error('error: Floe is not built (no dist/cli/main.js): run "npm run build" in the Floe folder (npm ci does it too)');
  process.exit(1);
}
await import(main.href);
