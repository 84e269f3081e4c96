// Listing output for every CLI command: `-o table` (default) or `-o json`.
export type OutputFormat = 'table' | 'json';

export function parseFormat(v: string): OutputFormat {
  if (v !== 'table' && v !== 'json') throw new Error(`-o/--output: expected "table" or "json", got "${v}"`);
  return v;
}

export function printRows(rows: Record<string, unknown>[], format: OutputFormat, columns?: string[]): void {
  if (format === 'json') {
    process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return;
  }
  process.stdout.write(formatTable(rows, columns));
}

export function formatTable(rows: Record<string, unknown>[], columns?: string[]): string {
  const cols = columns ?? [...new Set(rows.flatMap((r) => Object.keys(r)))];
  if (!rows.length) return '(none)\n';
  const cell = (v: unknown) => (v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const widths = cols.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd();
  return [line(cols), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(cols.map((c) => cell(r[c]))))].join('\n') + '\n';
}
