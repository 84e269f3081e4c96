// A task-runner process of `floe worker`: opens the DB once (for the task's XCom and its heartbeats), then runs
// the tries its worker sends, one at a time, with the task runner. The worker has claimed each try and records
// the outcome sent back. A task that crashes takes down this process, never the worker.
import { openDb } from '../db/connect.ts';
import { CHILD_SETTINGS_ENV, type QueueChildReply, type QueueChildRequest, type QueueChildSettings } from './queue-child-protocol.ts';
import { runTaskTry } from './runner.ts';

const settings = JSON.parse(process.env[CHILD_SETTINGS_ENV] ?? 'null') as QueueChildSettings | null;
// The settings hold the whole configuration (keys, tokens): tasks and their commands do not inherit them.
delete process.env[CHILD_SETTINGS_ENV];
if (!settings || !process.send) throw new Error(`${CHILD_SETTINGS_ENV} is not set: this process is started by "floe worker"`);
// The worker went away (e.g. SIGKILL): the try ends with it, unrecorded; zombie detection ends it in the DB
// and BullMQ's stalled-job check frees the job, so the try can never run twice at once.
process.on('disconnect', () => process.exit(0));
const db = await openDb(settings.dbUrl, { migrate: false });
const parentPid = process.ppid;
// A send that fails means the worker is gone: the try ends with it (see 'disconnect' above).
const send = (m: QueueChildReply) => process.send?.(m, (err: Error | null) => err && process.exit(0));

process.on('message', (msg: QueueChildRequest) => {
  if (msg?.type !== 'run') return;
  void runTaskTry({ db, logsFolder: settings.logsFolder, heartbeatSeconds: settings.heartbeatSeconds, ignoresPodSettings: 'queue', parentPid, cfg: settings.cfg }, msg.key, msg.tryNumber, 'claimed', { dagHash: msg.dagHash })
    .then((o): QueueChildReply => (o.ran ? { type: 'done', end: o.end, returnJson: o.returnJson, timedOut: o.timedOut === true } : { type: 'done', end: null, reason: o.reason }))
    .catch((e: Error): QueueChildReply => ({ type: 'done', end: null, reason: `task runner error: ${e?.message ?? e}` }))
    .then(send);
});
send({ type: 'ready' });
