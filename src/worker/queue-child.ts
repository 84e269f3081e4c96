// A task-runner process of `floe worker`: opens the DB once (for the task's XCom reads and its heartbeats),
// then runs the tries its worker sends, one at a time, with the task runner. The claim and the outcome of each
// try go to the worker, which writes them. A task that crashes takes down this process, never the worker.
import { openDb } from '../db/connect.ts';
import { CHILD_SETTINGS_ENV, type QueueChildReply, type QueueChildRequest, type QueueChildSettings, type RecordWrite } from './queue-child-protocol.ts';
import { runTaskTry } from './runner.ts';
import type { TryRecorder } from './try-recorder.ts';

const settings = JSON.parse(process.env[CHILD_SETTINGS_ENV] ?? 'null') as QueueChildSettings | null;
if (!settings || !process.send) throw new Error(`${CHILD_SETTINGS_ENV} is not set: this process is started by "floe worker"`);
// The worker went away (e.g. SIGKILL): the try ends with it, unrecorded; zombie detection ends it in the DB
// and BullMQ's stalled-job check frees the job, so the try can never run twice at once.
process.on('disconnect', () => process.exit(0));
const db = await openDb(settings.dbUrl, { migrate: false });

const send = (m: QueueChildReply) => process.send?.(m, (err: Error | null) => err && process.exit(0));
const waiting = new Map<number, { resolve: (ok: boolean) => void; reject: (e: Error) => void }>();
let nextId = 1;
function ask(write: RecordWrite): Promise<boolean> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    send({ type: 'record', id, write });
  });
}
const recorder: TryRecorder = {
  claim: (key, tryNumber, info) => ask({ kind: 'claim', key, tryNumber, info }),
  finish: (key, tryNumber, end, returnJson) => ask({ kind: 'finish', key, tryNumber, end, returnJson }),
};

process.on('message', (msg: QueueChildRequest) => {
  if (msg?.type === 'recorded') {
    const w = waiting.get(msg.id);
    waiting.delete(msg.id);
    if (msg.error !== undefined) w?.reject(new Error(msg.error));
    else w?.resolve(msg.ok);
    return;
  }
  if (msg?.type !== 'run') return;
  void runTaskTry({ db, logsFolder: settings.logsFolder, heartbeatSeconds: settings.heartbeatSeconds, ignoresPodSettings: 'queue', recorder }, msg.key, msg.tryNumber, 'run', {
    dagHash: msg.dagHash,
    externalId: msg.externalId,
  })
    .then((o): QueueChildReply => ({ type: 'done', ran: o.ran, state: o.ran ? o.state : null, reason: o.reason }))
    .catch((e: Error): QueueChildReply => ({ type: 'done', ran: false, state: null, reason: `task runner error: ${e?.message ?? e}` }))
    // A send that fails means the worker is gone: the try ends with it (see 'disconnect' above).
    .then(send);
});
send({ type: 'ready' });
