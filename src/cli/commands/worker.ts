// floe worker: a queue worker for the queue executor.
import type { Command } from '@commander-js/extra-typings';
import type { QueueWorker } from '../../worker/queue-worker.ts';
import { formatStatusLine, formatWorkerEvent } from '../../worker/queue-status.ts';

interface WorkerFlags {
  queues: string;
  concurrency?: string;
  name?: string;
  shutdownTimeout?: string;
  isolate?: boolean;
}

function parseSeconds(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new Error(`${what}: expected a number of seconds (0 or more), got "${v}"`);
  return n;
}

const redact = (url: string): string => url.replace(/\/\/[^@/]*@/, '//***@');

/** Lines written within this many ms go out in one write: a busy worker prints two lines a try. */
const FLUSH_MS = 25;

/** Where lines go: plain lines off a terminal; on one, lines scroll above a live status line. */
function makeOutput(worker: QueueWorker) {
  const tty = process.stdout.isTTY === true;
  let shown = '';
  let pending = '';
  let timer: NodeJS.Timeout | null = null;
  const status = () => (shown = formatStatusLine(worker.status(), (process.stdout.columns || 120) - 1));
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!pending) return;
    process.stdout.write(tty ? `\r\x1b[2K${pending}${status()}` : pending);
    pending = '';
  };
  process.on('exit', flush);
  return {
    tty,
    line(text: string) {
      pending += `${text}\n`;
      timer ??= setTimeout(flush, FLUSH_MS);
    },
    refresh() {
      const before = shown;
      if (tty && !pending && status() !== before) process.stdout.write(`\r\x1b[2K${shown}`);
    },
    end() {
      flush();
      if (tty) process.stdout.write(`\r\x1b[2K`);
    },
  };
}

async function runWorker(flags: WorkerFlags): Promise<void> {
  const [{ databaseUrl, loadConfig }, { openDb }, { parseQueueList, queueSettings, resolveConcurrency }, { QueueWorker }] = await Promise.all([
    import('../../config/load.ts'),
    import('../../db/connect.ts'),
    import('../../executors/queue/settings.ts'),
    import('../../worker/queue-worker.ts'),
  ]);
  const cfg = loadConfig();
  const settings = queueSettings(cfg.queue);
  const queues = resolveConcurrency(parseQueueList(flags.queues), flags.concurrency, settings);
  const shutdownS = flags.shutdownTimeout !== undefined ? parseSeconds(flags.shutdownTimeout, '--shutdown-timeout') : settings.shutdownTimeout;
  const dbUrl = databaseUrl(cfg);
  // Fail now, with the reason, rather than once per try in every task process.
  try {
    const db = await openDb(dbUrl, { migrate: false });
    try {
      await db.kysely.selectFrom('task_instance').select('dag_id').limit(1).execute();
    } finally {
      await db.close();
    }
  } catch (e) {
    throw new Error(`floe worker: cannot use the metadata database ${dbUrl}: ${(e as Error).message} (the worker needs the scheduler's database; run "floe db migrate" first?)`);
  }

  let out: ReturnType<typeof makeOutput> | null = null;
  const worker = new QueueWorker({
    redisUrl: settings.redisUrl,
    prefix: settings.prefix,
    queues,
    runner: { dbUrl, logsFolder: cfg.logging.logsFolder!, heartbeatSeconds: cfg.scheduler.taskHeartbeatInterval, cfg },
    isolate: flags.isolate ?? cfg.core.isolateTasks,
    name: flags.name,
    lockDurationMs: settings.lockDuration * 1000,
    stalledIntervalMs: settings.stalledInterval * 1000,
    onEvent: (e) => out?.line(formatWorkerEvent(e)),
  });
  out = makeOutput(worker);
  const o = out;
  o.line(
    `${new Date().toISOString()} floe worker ${worker.name}: queues ${queues.map((q) => `${q.name} (concurrency ${q.concurrency})`).join(', ')}; ` +
      `Redis ${redact(settings.redisUrl)} prefix "${settings.prefix}"; ${(flags.isolate ?? cfg.core.isolateTasks) ? 'a fresh task process per try' : 'warm task processes'}`,
  );
  worker.start();
  const ticker = o.tty ? setInterval(() => o.refresh(), 1000) : null;

  await new Promise<void>((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) {
        o.line(`${new Date().toISOString()} ${signal} again: killing the running tries now`);
        worker.killRunning(`killed: the worker ${worker.name} got ${signal} twice`);
        return;
      }
      stopping = true;
      const n = worker.status().running;
      o.line(`${new Date().toISOString()} ${signal}: taking no more tries; waiting up to ${shutdownS}s for ${n} running tr${n === 1 ? 'y' : 'ies'} to finish`);
      void worker.stop(shutdownS * 1000).then(({ killed }) => {
        if (ticker) clearInterval(ticker);
        o.line(`${new Date().toISOString()} stopped${killed ? ` (killed ${killed} tr${killed === 1 ? 'y' : 'ies'} still running after ${shutdownS}s)` : ''}`);
        o.end();
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        resolve();
        // Everything of ours is closed; connections to a Redis that never answered would keep retrying.
        setImmediate(() => process.exit(process.exitCode ?? 0));
      });
    };
    process.on('SIGTERM', onSignal);
    process.on('SIGINT', onSignal);
  });
}

export function registerWorkerCommands(program: Command): void {
  program
    .command('worker')
    .description('a queue worker for the queue executor: runs task tries taken from BullMQ queues on Redis')
    .option('-q, --queues <names>', 'comma-separated queues to take tries from', 'default')
    .option('-c, --concurrency <n>', 'tries at once on each queue: N, or QUEUE=N,... (default: queue.queueConcurrency, queue.concurrency)')
    .option('--name <name>', 'worker name in logs and on jobs (default: HOST-PID)')
    .option('--shutdown-timeout <seconds>', 'after SIGTERM, how long running tries may take before they are killed (default: queue.shutdownTimeout)')
    .option('--isolate', 'a fresh task process per try instead of warm ones (default: core.isolateTasks)')
    .action((flags) => runWorker(flags));
}
