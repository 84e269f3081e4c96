// `npm run bench`: runs every benchmark module, prints one table, writes bench/results.json.
// `npm run bench -- scheduler local` runs only the modules whose name contains one of the words.
// Add a module with one line in MODULES: its file exports `async function NAME(): Promise<BenchRow[]>`.
import { existsSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { formatTable } from '../src/cli/output.ts';
import type { BenchRow } from './types.ts';

interface BenchModule {
  name: string;
  /** Path relative to this directory. */
  file: string;
  /** Exported function returning the module's rows. */
  fn: string;
  /** Written by another area and maybe not there yet: skipped with a note when the file is missing. */
  optional?: boolean;
}

const MODULES: BenchModule[] = [
  { name: 'startup', file: './startup.ts', fn: 'benchStartup' },
  { name: 'scheduler', file: './scheduler.ts', fn: 'benchScheduler' },
  { name: 'local executor', file: './local-executor.ts', fn: 'benchLocalExecutor' },
  { name: 'dev cluster', file: './devcluster.ts', fn: 'benchDevCluster', optional: true },
  { name: 'kubernetes', file: './kubernetes.ts', fn: 'benchKubernetes', optional: true },
  { name: 'kubernetes warm pods', file: './warm-pods.ts', fn: 'benchWarmPods' },
  { name: 'queue', file: './queue.ts', fn: 'benchQueue', optional: true },
  { name: 'multi-scheduler', file: './multi-scheduler.ts', fn: 'benchMultiScheduler', optional: true },
];

const RESULTS = fileURLToPath(new URL('./results.json', import.meta.url));

type BenchFn = () => Promise<BenchRow[]>;

/** Loads a module's bench function; null (skip) when an optional module's file does not exist. */
async function load(m: BenchModule): Promise<BenchFn | null> {
  const url = new URL(m.file, import.meta.url);
  if (!existsSync(fileURLToPath(url))) {
    if (m.optional) return null;
    throw new Error(`bench module ${m.file} is missing`);
  }
  const mod = (await import(url.href)) as Record<string, unknown>;
  const fn = mod[m.fn];
  if (typeof fn !== 'function') throw new Error(`bench module ${m.file} does not export a function ${m.fn}()`);
  return fn as BenchFn;
}

function isBenchRow(r: unknown): r is BenchRow {
  const o = r as BenchRow;
  return typeof o === 'object' && o !== null && typeof o.group === 'string' && typeof o.metric === 'string' && typeof o.value === 'number' && typeof o.unit === 'string';
}

const num = (v: number): string => (Number.isInteger(v) ? v.toLocaleString('en') : Math.abs(v) >= 100 ? v.toFixed(0) : v.toPrecision(3));

/** The printed form of the rows: one line each, notes listed under the table. */
export function renderTable(rows: BenchRow[]): string {
  const notes: string[] = [];
  const table = rows.map((r) => {
    let metric = r.metric;
    if (r.note) {
      notes.push(r.note);
      metric += ` [${notes.length}]`;
    }
    return {
      group: r.group,
      metric,
      value: num(r.value),
      unit: r.unit,
      baseline: r.baseline ? `${num(r.baseline.value)} ${r.baseline.unit} (${r.baseline.metric})` : '',
      ratio: r.ratio === undefined ? '' : num(r.ratio),
      target: r.target ?? '',
    };
  });
  return formatTable(table, ['group', 'metric', 'value', 'unit', 'baseline', 'ratio', 'target']) + notes.map((n, i) => `[${i + 1}] ${n}`).join('\n') + (notes.length ? '\n' : '');
}

async function main(): Promise<number> {
  const only = process.argv.slice(2).map((a) => a.toLowerCase());
  const selected = MODULES.filter((m) => !only.length || only.some((w) => m.name.includes(w)));
  if (!selected.length) {
    console.error(`no bench module matches ${only.join(', ')} (modules: ${MODULES.map((m) => m.name).join(', ')})`);
    return 2;
  }
  if (!(globalThis as { gc?: unknown }).gc) console.error('note: run with --expose-gc (npm run bench does) for steadier figures');
  const rows: BenchRow[] = [];
  const failures: { module: string; error: string }[] = [];
  const skipped: string[] = [];
  const started = Date.now();
  const loadBefore = os.loadavg()[0];
  for (const m of selected) {
    const t0 = Date.now();
    process.stderr.write(`bench: ${m.name} …\n`);
    try {
      const fn = await load(m);
      if (!fn) {
        skipped.push(m.name);
        process.stderr.write(`bench: ${m.name} skipped: ${m.file} does not exist yet\n`);
        continue;
      }
      const got = await fn();
      const bad = got.filter((r) => !isBenchRow(r));
      if (bad.length) throw new Error(`${m.fn}() returned ${bad.length} malformed row(s), e.g. ${JSON.stringify(bad[0])}`);
      rows.push(...got);
      process.stderr.write(`bench: ${m.name} done in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    } catch (e) {
      const err = e as Error;
      failures.push({ module: m.name, error: err.stack ?? String(e) });
      process.stderr.write(`bench: ${m.name} FAILED: ${err.stack ?? String(e)}\n`);
    }
  }
  const totalSeconds = (Date.now() - started) / 1000;
  process.stdout.write(`\n${renderTable(rows)}`);
  for (const s of skipped) process.stdout.write(`skipped: ${s} (module not present)\n`);
  for (const f of failures) process.stdout.write(`FAILED: ${f.module}: ${f.error.split('\n')[0]}\n`);
  const machine = { node: process.version, platform: `${os.platform()} ${os.arch()}`, cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? null, memoryGB: Math.round(os.totalmem() / 2 ** 30), loadAverage1m: { start: Number(loadBefore.toFixed(2)), end: Number(os.loadavg()[0].toFixed(2)) } };
  writeFileSync(RESULTS, `${JSON.stringify({ date: new Date().toISOString(), totalSeconds, machine, rows, skipped, failures }, null, 2)}\n`);
  process.stdout.write(`${rows.length} rows in ${totalSeconds.toFixed(0)} s on ${machine.cpus} CPUs (load ${machine.loadAverage1m.start} → ${machine.loadAverage1m.end}); written to ${RESULTS}\n`);
  return failures.length ? 1 : 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = await main();
