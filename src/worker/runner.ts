// The task runner: runs one try of one task. Every executor ends here (`floe tasks run`, warm local runners,
// queue workers, pods). It is the only thing that marks a try running and records how it ended.
import { spawn } from 'node:child_process';
import { hostname } from 'node:os';
import type { LoadedConfig } from '../config/load.ts';
import type { SerializedDag, SerializedTask } from '../dag/model.ts';
import { importDagFile } from '../dag/import.ts';
import type { Db } from '../db/connect.ts';
import { getTI, heartbeat, pushXcom, type TryEnd } from '../db/task-instances.ts';
import type { DagRunTable } from '../db/schema.ts';
import type { TIKey } from '../executors/types.ts';
import { runKey } from '../util/collections.ts';
import type { Selectable } from 'kysely';
import { failureState, retryDelaySeconds } from '../dag/retries.ts';
import type { TaskBody } from '../sdk/dag.ts';
import { POD_SETTING_KEYS, type TaskContext } from '../sdk/types.ts';
import { renderTemplate, secretTemplateVariables, templateVariables } from './templates.ts';
import { noteRecorded, TaskLog, taskLogPath } from './task-log.ts';
import { type AlsoIn, directRecorder, notQueuedReason } from './try-recorder.ts';
import { pullTaskOutput, taskArgs } from './mapping.ts';
import { TryFlow } from './flow.ts';
import { builtinPoke } from './sensors.ts';
import { openTrySecrets } from './secrets-context.ts';
import path from 'node:path';

export interface RunnerDeps {
  db: Db;
  logsFolder: string;
  heartbeatSeconds: number;
  /** Executors that run tries outside Kubernetes say so, so that pod settings are reported as ignored. */
  ignoresPodSettings?: string;
  /** Copy the try's log to standard output too. */
  echoLog?: boolean;
  /**
   * The process that handed this runner its tries (a warm runner's executor or worker). When it has gone by
   * the time the task would start, the task does not start: nobody could stop or report it any more.
   */
  parentPid?: number;
  /** The configuration the try's process runs with (pod tasks read the Kubernetes settings); default: loaded here. */
  cfg?: LoadedConfig;
  /** After the task, before its outcome is recorded: what to write with the outcome (a warm pod's availability). */
  afterTry?: (o: { timedOut: boolean }) => Promise<AlsoIn | undefined>;
}

function assertParentAlive(deps: RunnerDeps): void {
  if (deps.parentPid !== undefined && process.ppid !== deps.parentPid)
    throw new Error(`not started: the process that handed this try over (pid ${deps.parentPid}) is gone`);
}

/**
 * 'run': claims the try (queued → running), records the outcome and XCom. 'claimed': the caller claimed the try
 * and records its outcome (a queue worker, for all its task processes at once); the runner runs it and returns
 * `end` and `returnJson`. 'test': runs the task with the same context but writes no state or XCom (`floe tasks test`).
 */
export type RunMode = 'run' | 'claimed' | 'test';

export type RunOutcome =
  | { ran: true; state: TryEnd['state']; reason: string | null; value?: unknown; timedOut?: boolean; end: TryEnd; returnJson?: string }
  /** The try was not run: not queued for this try number, or its records are missing. */
  | { ran: false; reason: string };

export class TaskTimeoutError extends Error {}

/** What a caller may already know about a try, saving the runner reads and writes. */
export interface TryHints {
  /** Hash of the serialized DAG the try was queued from: a warm runner holding that version reads no DAG row. */
  dagHash?: string;
  /** The executor's handle for the try, recorded with the claim (so the scheduler need not write it). */
  externalId?: string;
  /** The launch this runner was started for: the claim succeeds only for it (see claimTry). */
  launchId?: string | null;
}

/** Parsed DAGs by id, reused while their hash is unchanged: a warm runner reads a large DAG's JSON once, not per try. */
const parsedDags = new Map<string, { hash: string; dag: SerializedDag; tasks: Map<string, SerializedTask> }>();

type RunRow = Pick<Selectable<DagRunTable>, 'conf' | 'logical_date' | 'data_interval_start' | 'data_interval_end'>;
/** The fields of a DAG run a try reads never change after the run is created: a warm runner reads them once per run. */
const runRows = new Map<string, RunRow>();
const RUN_ROWS_MAX = 256;

async function readRun(db: Db, k: TIKey): Promise<RunRow | undefined> {
  const id = runKey(k.dagId, k.runId);
  const cached = runRows.get(id);
  if (cached) return cached;
  const run = await db.kysely
    .selectFrom('dag_run')
    .select(['conf', 'logical_date', 'data_interval_start', 'data_interval_end'])
    .where('dag_id', '=', k.dagId)
    .where('run_id', '=', k.runId)
    .executeTakeFirst();
  if (run) {
    if (runRows.size >= RUN_ROWS_MAX) runRows.delete(runRows.keys().next().value!);
    runRows.set(id, run);
  }
  return run;
}

async function loadRecords(db: Db, k: TIKey, dagHash: string | undefined) {
  const known = parsedDags.get(k.dagId);
  const [dagRow, run] = await Promise.all([
    dagHash !== undefined && known?.hash === dagHash ? { hash: dagHash } : db.kysely.selectFrom('dag').select('hash').where('dag_id', '=', k.dagId).executeTakeFirst(),
    readRun(db, k),
  ]);
  if (!dagRow || !run) return null;
  let parsed = parsedDags.get(k.dagId);
  if (parsed?.hash !== dagRow.hash) {
    const full = await db.kysely.selectFrom('dag').select(['serialized', 'hash']).where('dag_id', '=', k.dagId).executeTakeFirst();
    if (!full) return null;
    const dag = JSON.parse(full.serialized) as SerializedDag;
    parsed = { hash: full.hash, dag, tasks: new Map(dag.tasks.map((t) => [t.taskId, t])) };
    parsedDags.set(k.dagId, parsed);
  }
  const task = parsed.tasks.get(k.taskId);
  return task ? { dag: parsed.dag, task, run } : null;
}

async function runShell(body: Extract<TaskBody, { kind: 'shell' }>, ctx: TaskContext, log: TaskLog): Promise<string> {
  const vars = { ...templateVariables(ctx), ...(await secretTemplateVariables(ctx, [typeof body.command === 'string' ? body.command : '', ...Object.values(body.env)])) };
  const command = typeof body.command === 'function' ? body.command(ctx) : renderTemplate(body.command, vars, `task ${ctx.taskId} command`);
  const env: Record<string, string> = { ...(process.env as Record<string, string>) };
  for (const [k, v] of Object.entries(body.env)) env[k] = renderTemplate(v, vars, `task ${ctx.taskId} env ${k}`);
  log.line('INFO', `running command: ${command}`);
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { env, cwd: body.cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    // The last non-empty line of the whole output (a line may arrive over several chunks).
    let lastLine = '';
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      log.raw(d, 'stdout');
      const lines = (partial + d.toString()).split('\n');
      partial = lines.pop()!;
      const full = lines.filter((l) => l.trim() !== '');
      if (full.length) lastLine = full.at(-1)!;
    });
    child.stderr.on('data', (d: Buffer) => log.raw(d, 'stderr'));
    const onAbort = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* already gone */
      }
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      ctx.signal.removeEventListener('abort', onAbort);
      if (code === 0) resolve(partial.trim() !== '' ? partial : lastLine);
      else reject(new Error(signal ? `command killed by ${signal}` : `command exited with code ${code}`));
    });
  });
}

/** Console output of a function task goes to its try log while it runs. */
async function withConsoleTo<T>(log: TaskLog, fn: () => Promise<T>): Promise<T> {
  const saved = { log: console.log, info: console.info, warn: console.warn, error: console.error, debug: console.debug };
  console.log = console.info = console.debug = (...a: unknown[]) => log.line('INFO', ...a);
  console.warn = (...a: unknown[]) => log.line('WARN', ...a);
  console.error = (...a: unknown[]) => log.line('ERROR', ...a);
  try {
    return await fn();
  } finally {
    Object.assign(console, saved);
  }
}

function withTimeout<T>(seconds: number | null, ac: AbortController, work: Promise<T>): Promise<T> {
  if (seconds == null) return work;
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new TaskTimeoutError(`execution timeout: the try ran longer than ${seconds}s (executionTimeout)`);
      ac.abort(err);
      reject(err);
    }, seconds * 1000);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

const isThenable = (v: unknown): boolean => v !== null && (typeof v === 'object' || typeof v === 'function') && typeof (v as { then?: unknown }).then === 'function';

/**
 * The return value as stored in XCom. A value JSON cannot hold fails the try, rather than leaving it unrecorded;
 * so does a Promise inside it (JSON would store `{}`): almost always a forgotten `await`.
 */
function returnValueJson(value: unknown, taskId: string): string | undefined {
  try {
    return JSON.stringify(value, (key, v: unknown) => {
      if (isThenable(v)) throw new Error(`${key ? `its field "${key}" is` : 'it is'} a Promise (did you forget an await, e.g. on ctx.ti.xcomPull?)`);
      return v;
    });
  } catch (e) {
    throw new Error(`task ${taskId} returned a value that cannot be stored as its XCom (JSON): ${(e as Error).message}`);
  }
}

/**
 * ctx.ti.xcomPush as the task sees it: the write's promise, watched for an `await` (or `.then`). A push the task
 * never waited for may not be written when the try ends, or fail unseen: the try fails, naming the key.
 */
function watchedPushes(push: (key: string, v: unknown) => Promise<void>) {
  const unawaited = new Set<string>();
  return {
    push(key: string, v: unknown): Promise<void> {
      const p = push(key, v);
      unawaited.add(key);
      p.catch(() => {}); // reported through the await, or as unawaited below
      const watched = {
        then: (ok?: (v: void) => unknown, bad?: (e: unknown) => unknown) => (unawaited.delete(key), p.then(ok, bad)),
        catch: (bad: (e: unknown) => unknown) => (unawaited.delete(key), p.catch(bad)),
        finally: (f: () => void) => (unawaited.delete(key), p.finally(f)),
        [Symbol.toStringTag]: 'Promise',
      };
      return watched as Promise<void>;
    },
    check(taskId: string): void {
      if (unawaited.size)
        throw new Error(`task ${taskId} returned while ctx.ti.xcomPush(${[...unawaited].map((k) => JSON.stringify(k)).join(', ')}) was not awaited: write \`await ctx.ti.xcomPush(…)\``);
    },
  };
}

function failureEnd(task: SerializedTask, tryNumber: number, reason: string): TryEnd {
  const state = failureState(tryNumber, task.retries);
  const nextRetryAt = state === 'up_for_retry' ? new Date(Date.now() + retryDelaySeconds(task, tryNumber) * 1000).toISOString() : null;
  return { state, reason, nextRetryAt };
}

/** Runs one try (see RunMode for who claims it and records its outcome). */
export async function runTaskTry(deps: RunnerDeps, k: TIKey, tryNumber: number, mode: RunMode = 'run', hints: TryHints = {}): Promise<RunOutcome> {
  const { db } = deps;
  const rec = await loadRecords(db, k, hints.dagHash);
  if (!rec) {
    const reason = `no DAG run ${k.runId} or task ${k.taskId} of DAG ${k.dagId} in the database`;
    // A claimed try must still end: failed, as there is no task (or run) to retry it with.
    return mode === 'claimed' ? { ran: true, state: 'failed', reason, end: { state: 'failed', reason } } : { ran: false, reason };
  }
  const recorder = directRecorder(db);
  if (mode === 'run' && !(await recorder.claim(k, tryNumber, { hostname: hostname(), pid: process.pid, externalId: hints.externalId, launchId: hints.launchId }))) {
    return { ran: false, reason: notQueuedReason(await getTI(db.kysely, k), tryNumber) };
  }
  const log = new TaskLog(taskLogPath(deps.logsFolder, k, tryNumber), deps.echoLog);
  // Masks secrets in the log from here on; ctx.variables, ctx.connection, ctx.mask.
  const secrets = await openTrySecrets(deps, log);
  log.line('INFO', `starting try ${tryNumber} of ${k.dagId}.${k.taskId} run ${k.runId} (pid ${process.pid} on ${hostname()})`);
  const podKeys = POD_SETTING_KEYS.filter((key) => rec.task.executorConfig?.[key] != null);
  if (deps.ignoresPodSettings && podKeys.length)
    log.line('INFO', `executorConfig.${podKeys.join(', executorConfig.')} ignored: this try runs on the ${deps.ignoresPodSettings} executor, not in a Kubernetes pod`);
  const ac = new AbortController();
  // A heartbeat that finds the try no longer running for this runner (marked success or failed by a user, ended
  // as a zombie, cleared) stops the task: its outcome would be refused anyway.
  const beat =
    mode !== 'test'
      ? setInterval(
          () =>
            void heartbeat(db.kysely, k, tryNumber).then(
              (mine) => mine || ac.signal.aborted || ac.abort(new Error('the try was ended outside this runner (marked, cleared or taken for a zombie): stopped')),
              () => {},
            ),
          deps.heartbeatSeconds * 1000,
        )
      : null;
  let end: TryEnd;
  let value: unknown;
  let returnJson: string | undefined;
  let timedOut = false;
  // Sensors, branches and short-circuits (flow.ts); for other tasks it only runs the body.
  const flow = new TryFlow({ db, k, tryNumber, dag: rec.dag, task: rec.task, mode, log });
  try {
    const defs = await importDagFile(rec.dag.fileloc);
    const node = defs.find((d) => d.dagId === k.dagId)?.tasks.get(k.taskId);
    if (!node) throw new Error(`task ${k.taskId} is no longer defined by DAG ${k.dagId} in ${rec.dag.fileloc}`);
    const conf = JSON.parse(rec.run.conf) as Record<string, unknown>;
    const pushes = watchedPushes(async (key, v) => {
      if (mode !== 'test') await pushXcom(db.kysely, k, key, v);
    });
    const ctx: TaskContext = {
      dagId: k.dagId,
      taskId: k.taskId,
      runId: k.runId,
      tryNumber,
      mapIndex: k.mapIndex,
      logicalDate: new Date(rec.run.logical_date),
      dataIntervalStart: new Date(rec.run.data_interval_start),
      dataIntervalEnd: new Date(rec.run.data_interval_end),
      params: { ...rec.dag.params, ...conf },
      ti: {
        xcomPull: async <T>(taskId: string, key = 'return_value') => (await pullTaskOutput(db.kysely, rec.dag, k.runId, taskId, key)) as T | undefined,
        xcomPush: pushes.push,
      },
      log: (...a: unknown[]) => log.line('INFO', ...a),
      signal: ac.signal,
      ...secrets.ctx,
    };
    const body = node.body;
    const work = (async () => {
      if (body.kind === 'function') {
        const args = await taskArgs(body, k, (t, key) => pullTaskOutput(db.kysely, rec.dag, k.runId, t, key));
        assertParentAlive(deps);
        return flow.run(() => withConsoleTo(log, async () => body.fn(ctx, ...args)), ac.signal);
      }
      assertParentAlive(deps);
      if (body.kind === 'shell') return runShell(body, ctx, log);
      if (body.kind !== 'pod') return flow.run(builtinPoke(body, ctx, db.kysely, path.dirname(rec.dag.fileloc), (m) => log.line('INFO', m)), ac.signal);
      // A pod task's try creates and follows its pod from here, whatever executor runs the try.
      const { runPodTask } = await import('./pod-task-runner.ts');
      return runPodTask(body, rec.task, ctx, log, (t, key) => pullTaskOutput(db.kysely, rec.dag, k.runId, t, key), deps.cfg);
    })();
    value = await withTimeout(rec.task.executionTimeout, ac, work);
    pushes.check(k.taskId);
    returnJson = returnValueJson(value, k.taskId);
    await flow.succeeded(value);
    end = flow.end({ state: 'success', reason: null });
    log.line('INFO', `try ${tryNumber} succeeded; returned ${returnJson?.slice(0, 500) ?? 'nothing'}`);
  } catch (e) {
    const err = e as Error;
    timedOut = err instanceof TaskTimeoutError;
    const reason = secrets.mask(timedOut ? err.message : `${err?.name ?? 'Error'}: ${err?.message ?? String(e)}`);
    end = flow.end(failureEnd(rec.task, tryNumber, reason), e);
    if (end.state !== 'up_for_reschedule') log.line('ERROR', `try ${tryNumber} ${end.state === 'skipped' ? 'skipped' : 'failed'}: ${err?.stack ?? reason}`);
  } finally {
    if (beat) clearInterval(beat);
  }
  if (end.state !== 'success') returnJson = undefined;
  if (mode === 'run') {
    // (The log up to the outcome is on disk already: TaskLog writes synchronously.)
    noteRecorded(log, end.state, await recorder.finish(k, tryNumber, end, returnJson, await deps.afterTry?.({ timedOut })));
  }
  await log.close();
  return { ran: true, state: end.state, reason: end.reason, value, timedOut, end, returnJson };
}

