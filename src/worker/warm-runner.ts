// A warm task-runner process for the local executor: opens the DB and imports DAG files once, then runs
// one try after another as the executor asks. It exits when its parent goes away.
import { openDb } from '../db/connect.ts';
import type { TIKey } from '../executors/types.ts';
import { runTaskTry } from './runner.ts';

export interface WarmRunnerSettings {
  dbUrl: string;
  logsFolder: string;
  heartbeatSeconds: number;
}
export type WarmRequest = { type: 'run'; key: TIKey; tryNumber: number; launchId: string };
export type WarmReply = { type: 'ready' } | { type: 'done'; key: TIKey; tryNumber: number; ran: boolean; state?: string; reason: string | null };

const settings = JSON.parse(process.env.FLOE_RUNNER_SETTINGS ?? 'null') as WarmRunnerSettings | null;
if (!settings) throw new Error('FLOE_RUNNER_SETTINGS is not set: this process is started by the local executor');
const db = await openDb(settings.dbUrl);
const parentPid = process.ppid;
process.on('disconnect', () => process.exit(0));
process.on('message', (msg: WarmRequest) => {
  if (msg.type !== 'run') return;
  void runTaskTry({ db, logsFolder: settings.logsFolder, heartbeatSeconds: settings.heartbeatSeconds, ignoresPodSettings: 'local', parentPid }, msg.key, msg.tryNumber, 'run', { launchId: msg.launchId })
    .then((o) => ({ reply: { type: 'done', key: msg.key, tryNumber: msg.tryNumber, ran: o.ran, state: o.ran ? o.state : undefined, reason: o.reason } as WarmReply, timedOut: o.ran && o.timedOut === true }))
    .catch((e: Error) => ({ reply: { type: 'done', key: msg.key, tryNumber: msg.tryNumber, ran: false, reason: `runner error: ${e.message}` } as WarmReply, timedOut: false }))
    // A timed-out task may still be running inside this process: never reuse it for another try.
    // A send that fails means the executor is gone (scheduler killed): nothing to report to, so leave quietly.
    .then(({ reply, timedOut }) => process.send!(reply, (err: Error | null) => (err || timedOut) && process.exit(0)));
});
process.send!({ type: 'ready' } satisfies WarmReply);
