// A warm task-runner process for the local executor: opens the DB and imports DAG files once, then runs
// one try after another as the executor asks. When its parent goes away (scheduler killed) it exits — after
// the try it is running, if any, has ended and been recorded: a try whose body already ran must not be lost
// (and so run again) for want of its last write. A try that has not started its body by then does not start.
import type { LoadedConfig } from '../config/load.ts';
import { openDb } from '../db/connect.ts';
import type { TIKey } from '../executors/types.ts';
import { runTaskTry } from './runner.ts';

export interface WarmRunnerSettings {
  dbUrl: string;
  logsFolder: string;
  heartbeatSeconds: number;
  /** The executor's configuration, as loaded (pod tasks need its Kubernetes settings). */
  cfg?: LoadedConfig;
}
export type WarmRequest = { type: 'run'; key: TIKey; tryNumber: number; launchId: string; executionTimeout: number | null };
/** `exiting`: the process leaves after this reply (its try timed out and may still run inside): hand it no more work. */
export type WarmReply = { type: 'ready' } | { type: 'done'; key: TIKey; tryNumber: number; ran: boolean; state?: string; reason: string | null; exiting?: boolean };

const settings = JSON.parse(process.env.FLOE_RUNNER_SETTINGS ?? 'null') as WarmRunnerSettings | null;
if (!settings) throw new Error('FLOE_RUNNER_SETTINGS is not set: this process is started by the local executor');
// The settings hold the whole configuration (keys, tokens): tasks and their commands do not inherit them.
delete process.env.FLOE_RUNNER_SETTINGS;
const db = await openDb(settings.dbUrl);
const parentPid = process.ppid;
/** The try running now, and when the executor would have killed it (executionTimeout plus its grace). */
let current: { killAt: number | null } | null = null;
let orphaned = false;
const KILL_GRACE_MS = 5000;

process.on('disconnect', () => {
  orphaned = true;
  if (!current) process.exit(0);
  // Nobody will kill a try that never stops now: do it when the executor would have.
  if (current.killAt !== null) setTimeout(() => process.exit(0), Math.max(0, current.killAt - Date.now())).unref();
});
process.on('message', (msg: WarmRequest) => {
  if (msg.type !== 'run') return;
  current = { killAt: msg.executionTimeout != null ? Date.now() + msg.executionTimeout * 1000 + KILL_GRACE_MS : null };
  void runTaskTry({ db, logsFolder: settings.logsFolder, heartbeatSeconds: settings.heartbeatSeconds, ignoresPodSettings: 'local', parentPid, cfg: settings.cfg }, msg.key, msg.tryNumber, 'run', { launchId: msg.launchId })
    .then((o) => ({ reply: { type: 'done', key: msg.key, tryNumber: msg.tryNumber, ran: o.ran, state: o.ran ? o.state : undefined, reason: o.reason } as WarmReply, timedOut: o.ran && o.timedOut === true }))
    .catch((e: Error) => ({ reply: { type: 'done', key: msg.key, tryNumber: msg.tryNumber, ran: false, reason: `runner error: ${e.message}` } as WarmReply, timedOut: false }))
    // A timed-out task may still be running inside this process: never reuse it for another try.
    // A send that fails means the executor is gone (scheduler killed): nothing to report to, so leave quietly.
    .then(({ reply, timedOut }) => {
      current = null;
      if (orphaned) return process.exit(0);
      process.send!({ ...reply, ...(timedOut ? { exiting: true } : {}) } as WarmReply, (err: Error | null) => (err || timedOut) && process.exit(0));
    });
});
process.send!({ type: 'ready' } satisfies WarmReply);
