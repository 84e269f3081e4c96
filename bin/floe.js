#!/usr/bin/env node
// Entry point: loads the TypeScript CLI through tsx (a runtime dependency), from any working directory.
// Both tsx hooks, as `node --import tsx` would: DAG files may be ES modules or CommonJS.
import { register as registerCjs } from 'tsx/cjs/api';
import { register as registerEsm } from 'tsx/esm/api';

registerCjs();
registerEsm();
await import('../src/cli/main.ts');
