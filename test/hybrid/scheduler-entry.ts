// Stand-in for `floe scheduler` with `core.executor: hybrid` while src/cli/runtime.ts `createExecutor` does
// not build the hybrid executor yet (test/hybrid/helpers.ts `cliHasHybrid` picks bin/floe.js once it does):
// the same steps as src/cli/commands/scheduler.ts (parse the DAGs, run the scheduler, stop on SIGTERM).
import { openRuntime, parseDags } from '../../src/cli/runtime.ts';
import { createHybridExecutor } from '../../src/executors/hybrid/hybrid-executor.ts';
import { Scheduler } from '../../src/scheduler/scheduler.ts';

const rt = await openRuntime();
await parseDags(rt);
let scheduler: Scheduler | null = null;
const executor = createHybridExecutor(rt, { wake: () => scheduler?.wake() });
scheduler = new Scheduler({
  db: rt.db,
  executor,
  log: rt.log,
  loopIntervalMs: rt.cfg.scheduler.loopInterval * 1000,
  zombieThresholdMs: rt.cfg.scheduler.zombieThreshold * 1000,
  healthCheckThresholdMs: rt.cfg.scheduler.healthCheckThreshold * 1000,
  launchFailureRetries: rt.cfg.kubernetes.podLaunchFailureRetries,
});
let stopped: Promise<void> | null = null;
process.once('SIGTERM', () => (stopped ??= scheduler!.stop()));
await scheduler.start();
await scheduler.run();
await stopped;
await rt.close();
