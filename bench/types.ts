// One row of `npm run bench`'s table; bench/run.ts prints all rows and writes bench/results.json.
export interface BenchRow {
  /** Section, e.g. "scheduler", "local executor", "dev cluster". */
  group: string;
  metric: string;
  value: number;
  unit: string;
  /** Baseline measured in the same run, e.g. "raw client create". */
  baseline?: { metric: string; value: number; unit: string };
  /** value / baseline (or the inverse, as `note` says). */
  ratio?: number;
  target?: string;
  note?: string;
}
