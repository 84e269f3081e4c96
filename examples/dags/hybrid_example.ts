// The hybrid executor's example: a fan-out of small tasks that run on warm queue workers (`floe worker`), and
// one task with `queue: 'kubernetes'` (hybrid.kubernetesQueue) that runs in its own pod, shaped by a podOverride.
// Any executor runs it: the local executor ignores `queue` and the override, and the result is the same.
import { dag, task } from 'floe';

const BATCHES = [
  [1, 2, 3],
  [4, 5, 6],
  [7, 8, 9],
  [10, 11, 12],
];

dag(
  {
    dagId: 'hybrid_example',
    schedule: null,
    tags: ['example', 'hybrid'],
    description: 'Small tasks on the queue workers, one combining task in its own pod (core.executor: hybrid)',
  },
  () => {
    const makeBatches = task('make_batches', async (): Promise<number[][]> => BATCHES);
    const sumBatch = (i: number) =>
      task({ taskId: `sum_batch_${i}` }, async (ctx, batches: number[][]) => {
        const sum = batches[i].reduce((a, b) => a + b, 0);
        ctx.log(`batch ${i}: ${sum}`);
        return sum;
      });
    const combine = task(
      {
        taskId: 'combine',
        queue: 'kubernetes',
        executorConfig: {
          podOverride: {
            metadata: { labels: { purpose: 'hybrid-example' } },
            spec: {
              containers: [{ name: 'base', env: [{ name: 'REPORT_UNITS', value: 'items' }], resources: { requests: { cpu: '100m', memory: '128Mi' } } }],
            },
          },
        },
      },
      async (ctx, sums: number[]) => {
        // Set by the podOverride in the pod; other executors do not apply it, so the same default stands in.
        const units = process.env.REPORT_UNITS ?? 'items';
        const total = sums.reduce((a, b) => a + b, 0);
        ctx.log(`${sums.length} batches, ${total} ${units}`);
        return { batches: sums.length, total, units };
      },
    );
    const report = task('report', async (ctx, result: { batches: number; total: number; units: string }) => {
      ctx.log(`run ${ctx.runId}: ${result.total} ${result.units} in ${result.batches} batches`);
      return `${result.total} ${result.units}`;
    });

    const batches = makeBatches();
    report(combine([0, 1, 2, 3].map((i) => sumBatch(i)(batches))));
  },
);
