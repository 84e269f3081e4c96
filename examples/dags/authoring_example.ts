// Maps, branches and senses (issue #17): one `measure` task instance per file listed at run time, a branch that
// picks the load to run, a short-circuit that skips an alert, and a sensor that waits — giving its slot back
// between pokes — for a marker file another task writes a moment later. `npm run demo` runs it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { branch, dag, fileSensor, shortCircuit, task } from 'floe';

const inbox = path.join(tmpdir(), 'floe-authoring-example');

interface FileSize {
  name: string;
  rows: number;
}

dag({ dagId: 'authoring_example', schedule: null, tags: ['example'], dagRunTimeout: 600 }, () => {
  // Dynamic task mapping: the list is known only when list_files has run.
  const listFiles = task('list_files', async () => ['orders.csv', 'customers.csv', 'returns.csv']);
  const measure = task({ taskId: 'measure', retries: 1, retryDelay: 1 }, async (ctx, name: string): Promise<FileSize> => {
    // Instance 1 fails its first try on purpose: only that instance is retried.
    if (ctx.mapIndex === 1 && ctx.tryNumber === 1) throw new Error(`simulated flaky read of ${name}`);
    return { name, rows: name.length * 100 };
  });
  const sizes = measure.expand(listFiles()); // measure[0], measure[1], measure[2]
  const total = task('total_rows', async (ctx, all: FileSize[]) => all.reduce((sum, f) => sum + f.rows, 0))(sizes);

  // Branching: the load that fits; the other is skipped.
  const choose = branch('choose_load', async (ctx, rows: number) => (rows > 2000 ? 'bulk_load' : 'incremental_load'))(total);
  const bulk = task('bulk_load', async (ctx) => `bulk load of ${await ctx.ti.xcomPull<number>('total_rows')} rows`)();
  const incremental = task('incremental_load', async () => 'incremental load')();
  choose.before([bulk, incremental]);

  // Short-circuit: no file is that large, so the alert is skipped.
  const anyLarge = shortCircuit('any_file_over_2000_rows', async (ctx, all: FileSize[]) => all.some((f) => f.rows > 2000))(sizes);
  const alert = task('alert_large_file', async () => 'alerted')().after(anyLarge);

  // Sensing: wait for a marker that write_marker creates after three seconds. In reschedule mode each poke is a short
  // run of the same try; in between, the sensor holds no executor slot, pool slot or pod.
  const marker = task('write_marker', async (ctx) => {
    await new Promise((r) => setTimeout(r, 3000));
    mkdirSync(inbox, { recursive: true });
    const file = path.join(inbox, `${ctx.runId}.ready`);
    writeFileSync(file, 'ready');
    return file;
  })();
  const ready = fileSensor({ taskId: 'wait_for_marker', path: `${inbox}/{{ run_id }}.ready`, mode: 'reschedule', pokeInterval: 1, timeout: 120 });

  // The join after the branch runs when the chosen load succeeded and the other was skipped.
  task({ taskId: 'publish', triggerRule: 'none_failed_min_one_success' }, async (ctx, file: string) => `published after ${path.basename(file)}`)(ready).after(bulk, incremental);
  void marker;
  void alert;
});
