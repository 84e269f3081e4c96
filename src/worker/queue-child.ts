// A task-runner process of `floe worker`: opens the DB once, then runs the tries its worker sends, one at a
// time, with the task runner. A task that crashes takes down this process, never the worker.
import { openDb } from '../db/connect.ts';
import { CHILD_SETTINGS_ENV, type QueueChildReply, type QueueChildRequest, type QueueChildSettings } from './queue-child-protocol.ts';
import { runTaskTry } from './runner.ts';

const settings = JSON.parse(process.env[CHILD_SETTINGS_ENV] ?? 'null') as QueueChildSettings | null;
if (!settings || !process.send) throw new Error(`${CHILD_SETTINGS_ENV} is not set: this process is started by "floe worker"`);
// The worker went away (e.g. SIGKILL): the try ends with it, unrecorded; zombie detection ends it in the DB
// and BullMQ's stalled-job check frees the job, so the try can never run twice at once.
process.on('disconnect', () => process.exit(0));
const db = await openDb(settings.dbUrl, { migrate: false });
process.on('message', (msg: QueueChildRequest) => {
  if (msg?.type !== 'run') return;
  void runTaskTry({ db, logsFolder: settings.logsFolder, heartbeatSeconds: settings.heartbeatSeconds, ignoresPodSettings: 'queue' }, msg.key, msg.tryNumber, 'run', {
    dagHash: msg.dagHash,
    externalId: msg.externalId,
  })
    .then((o): QueueChildReply => ({ type: 'done', ran: o.ran, state: o.ran ? o.state : null, reason: o.reason }))
    .catch((e: Error): QueueChildReply => ({ type: 'done', ran: false, state: null, reason: `task runner error: ${e?.message ?? e}` }))
    // A send that fails means the worker is gone: the try ends with it (see 'disconnect' above).
    .then((reply) => process.send?.(reply, (err: Error | null) => err && process.exit(0)));
});
process.send({ type: 'ready' } satisfies QueueChildReply);
