// `npm run test:faults`: the fault suite. Each scenario runs Floe under faults (killed and paused processes,
// an overloaded machine, API error storms and expired watches, Redis and PostgreSQL restarts) and counts what
// happened from the task bodies' own records and the database. Prints one table; exits 1 when any count is not
// what exactly-once requires. `npm run test:faults -- queue postgres` runs only the scenarios named.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../../src/cli/output.ts';
import type { FaultRow } from './common.ts';

const SCENARIOS: { name: string; run: () => Promise<FaultRow[]> }[] = [
  { name: 'schedulers', run: async () => (await import('./schedulers.ts')).schedulersScenario() },
  { name: 'kubernetes', run: async () => (await import('./kubernetes.ts')).kubernetesScenario() },
  { name: 'queue', run: async () => (await import('./queue.ts')).queueScenario() },
  { name: 'postgres', run: async () => (await import('./postgres.ts')).postgresScenario() },
];

const only = process.argv.slice(2);
const rows: FaultRow[] = [];
for (const s of SCENARIOS.filter((x) => !only.length || only.includes(x.name))) {
  const started = Date.now();
  process.stderr.write(`fault suite: ${s.name}…\n`);
  try {
    rows.push(...(await s.run()));
  } catch (e) {
    rows.push({ scenario: s.name, metric: `scenario failed: ${(e as Error).stack ?? e}`.slice(0, 2000), value: 1, expected: '= 0', ok: false });
  }
  process.stderr.write(`fault suite: ${s.name} took ${Math.round((Date.now() - started) / 1000)} s\n`);
}
const table = formatTable(
  rows.map((r) => ({ scenario: r.scenario, metric: r.metric, value: r.value, expected: r.expected ?? '', ok: r.expected ? (r.ok ? 'ok' : 'FAIL') : '' })),
  ['scenario', 'metric', 'value', 'expected', 'ok'],
);
process.stdout.write(table);
writeFileSync(fileURLToPath(new URL('./results.json', import.meta.url)), `${JSON.stringify({ at: new Date().toISOString(), rows }, null, 2)}\n`);
const failed = rows.filter((r) => !r.ok);
if (failed.length) {
  process.stdout.write(`\n${failed.length} count(s) not as required:\n${failed.map((r) => `- ${r.scenario}: ${r.metric} = ${r.value} (expected ${r.expected})`).join('\n')}\n`);
  process.exitCode = 1;
}
// Scenario leftovers (pools, timers) must not keep CI waiting.
setTimeout(() => process.exit(process.exitCode ?? 0), 1000).unref();
