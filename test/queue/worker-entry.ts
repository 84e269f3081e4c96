// A QueueWorker process with test-sized BullMQ lock/stalled-check times (config has no keys for them yet);
// prints the same lines as `floe worker` and stops gracefully on SIGTERM.
import { databaseUrl, loadConfig } from '../../src/config/load.ts';
import { queueSettings } from '../../src/executors/queue/settings.ts';
import { formatWorkerEvent } from '../../src/worker/queue-status.ts';
import { QueueWorker } from '../../src/worker/queue-worker.ts';
import type { TestWorkerSpec } from './helpers.ts';

const spec = JSON.parse(process.env.FLOE_TEST_WORKER_SPEC ?? 'null') as TestWorkerSpec;
const cfg = loadConfig();
const s = queueSettings(cfg.queue);
const worker = new QueueWorker({
  redisUrl: s.redisUrl,
  prefix: s.prefix,
  queues: spec.queues,
  name: spec.name,
  runner: { dbUrl: databaseUrl(cfg), logsFolder: cfg.logging.logsFolder!, heartbeatSeconds: cfg.scheduler.taskHeartbeatInterval },
  lockDurationMs: spec.lockDurationMs,
  stalledIntervalMs: spec.stalledIntervalMs,
  onEvent: (e) => console.log(formatWorkerEvent(e)),
});
worker.start();
console.log(`worker ${worker.name} ready`);
process.once('SIGTERM', () => void worker.stop(5000).then(() => process.exit(0)));
