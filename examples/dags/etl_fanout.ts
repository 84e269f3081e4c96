// Fan-out / fan-in ETL with XCom: one extract, a transform per region, one load that sees every result,
// and a shell step that reports what was loaded.
import { chain, dag, shell, task } from 'floe';

interface Sale {
  region: string;
  amount: number;
}

dag({ dagId: 'etl_fanout', schedule: null, tags: ['example'], params: { currency: 'EUR' } }, () => {
  const extract = task('extract', async (): Promise<Sale[]> => [
    { region: 'north', amount: 120 },
    { region: 'south', amount: 80 },
    { region: 'north', amount: 30 },
    { region: 'east', amount: 50 },
  ]);
  const total = task('total_for_region', async (ctx, region: string, sales: Sale[]) => {
    const sum = sales.filter((s) => s.region === region).reduce((acc, s) => acc + s.amount, 0);
    ctx.log(`region ${region}: ${sum}`);
    return { region, sum };
  });
  const load = task('load', async (ctx, totals: { region: string; sum: number }[]) => {
    const grand = totals.reduce((acc, t) => acc + t.sum, 0);
    return { regions: totals.length, grand, currency: ctx.params.currency };
  });

  const sales = extract();
  const loaded = load(['north', 'south', 'east'].map((r) => total(r, sales)));
  const report = shell({ taskId: 'report', command: 'echo "loaded run {{ run_id }} in {{ params.currency }}"' });
  chain(loaded, report);
});
