// Retries and trigger rules: `flaky` fails its first try and succeeds on the retry; `always_fails` uses up
// its retry and fails; `notify_failure` (one_failed) runs because of it; `report` (all_done) runs regardless.
import { dag, task } from 'floe';

dag({ dagId: 'retries_example', schedule: null, tags: ['example'], defaultArgs: { retryDelay: 1 } }, () => {
  const flaky = task({ taskId: 'flaky', retries: 2 }, async (ctx) => {
    if (ctx.tryNumber === 1) throw new Error('simulated failure on the first try');
    return `succeeded on try ${ctx.tryNumber}`;
  });
  const alwaysFails = task({ taskId: 'always_fails', retries: 1 }, async (ctx) => {
    throw new Error(`deliberate failure (try ${ctx.tryNumber})`);
  });
  const notify = task({ taskId: 'notify_failure', triggerRule: 'one_failed' }, async () => 'someone was told');
  const report = task({ taskId: 'report', triggerRule: 'all_done' }, async () => 'done');

  const f = flaky();
  notify().after(alwaysFails());
  report().after(f);
});
