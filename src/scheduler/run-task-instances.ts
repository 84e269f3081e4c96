// The task instances of running DAG runs, as the scheduler's trigger-rule pass needs them, read incrementally.
// Reading every row of a run on every pass made long runs quadratic (a 1,500-task run: 2.8 ms per pass, most of
// the scheduler's time). Finished rows rarely change, so each pass reads only the unfinished rows plus the rows
// that left that set since the previous pass; a full read every FULL_READ_MS catches what that cannot see (a
// finished row changed to another finished state by someone else).
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { chunks, runKey } from '../util/collections.ts';
import { FINISHED_STATES, TI_STATES, type TIState } from './states.ts';

export interface RunTiRow {
  task_id: string;
  map_index: number;
  state: string;
  try_number: number;
  next_retry_at: string | null;
}

/** A task instance's key in the cache: task id and map index. */
const keyOf = (taskId: string, mapIndex: number) => `${taskId}\u0000${mapIndex}`;
const rowKey = (r: { task_id: string; map_index: number }) => keyOf(r.task_id, r.map_index);
const taskOfKey = (k: string) => k.slice(0, k.indexOf('\u0000'));

interface Entry {
  finished: Map<string, RunTiRow>;
  /** Keys of the task instances unfinished at the last read, or changed by this scheduler since: read again next time. */
  open: Set<string>;
  fullReadAt: number;
  usedAt: number;
  /** The run's `tis_edited_at` at the last full read: a new stamp (clear, mark by a user) forces a full read. */
  editedAt: string | null;
}

const FULL_READ_MS = 30_000;
/** Entries of runs not looked at for this long are dropped (the run ended elsewhere, or was deleted). */
const IDLE_MS = 10 * 60_000;
/** `in` the unfinished states, not `not in` the finished ones: an index range per state (task_instance_run_state). */
const UNFINISHED = TI_STATES.filter((s) => !FINISHED_STATES.has(s));
const COLUMNS = ['task_id', 'map_index', 'state', 'try_number', 'next_retry_at'] as const;

const isFinished = (state: string) => FINISHED_STATES.has(state as TIState);

export class RunTaskInstances {
  private readonly runs = new Map<string, Entry>();

  /**
   * Every task instance row of the run, as of now. `editedAt` is the run's `tis_edited_at`: users' clears and marks
   * change rows behind this cache (a failed → success mark is a finished row changing), and stamp the run.
   */
  async read(db: Kysely<Database>, dagId: string, runId: string, nowMs: number, editedAt: string | null = null): Promise<RunTiRow[]> {
    const id = runKey(dagId, runId);
    const e = this.runs.get(id);
    const ofRun = () => db.selectFrom('task_instance').select(COLUMNS).where('dag_id', '=', dagId).where('run_id', '=', runId);
    if (!e || nowMs - e.fullReadAt >= FULL_READ_MS || e.editedAt !== editedAt) {
      const all = await ofRun().execute();
      this.runs.set(id, {
        finished: new Map(all.filter((r) => isFinished(r.state)).map((r) => [rowKey(r), r])),
        open: new Set(all.filter((r) => !isFinished(r.state)).map(rowKey)),
        fullReadAt: nowMs,
        usedAt: nowMs,
        editedAt,
      });
      return all;
    }
    e.usedAt = nowMs;
    const open = await ofRun().where('state', 'in', UNFINISHED).execute();
    const stillOpen = new Set(open.map(rowKey));
    // Rows that left the unfinished set, read again with every other instance of their tasks: a mapped task's
    // placeholder that was expanded (by any scheduler) is gone, and its instances may have finished already.
    const left = [...e.open].filter((k) => !stillOpen.has(k));
    for (const k of left) e.finished.delete(k);
    for (const part of chunks([...new Set(left.map(taskOfKey))], 500)) {
      for (const r of await ofRun().where('task_id', 'in', part).execute()) {
        const k = rowKey(r);
        if (isFinished(r.state)) e.finished.set(k, r);
        else if (!stillOpen.has(k)) (open.push(r), stillOpen.add(k)); // unfinished again between the two reads
      }
    }
    for (const r of open) e.finished.delete(rowKey(r));
    e.open = stillOpen;
    return [...e.finished.values(), ...open];
  }

  /** This scheduler changed these rows (task ids: their unmapped row): read them from the database next time. */
  changed(dagId: string, runId: string, rows: (string | { taskId: string; mapIndex?: number })[]): void {
    const e = this.runs.get(runKey(dagId, runId));
    if (!e) return;
    for (const r of rows) {
      const k = typeof r === 'string' ? keyOf(r, -1) : keyOf(r.taskId, r.mapIndex ?? -1);
      e.finished.delete(k);
      e.open.add(k);
    }
  }

  forget(dagId: string, runId: string): void {
    this.runs.delete(runKey(dagId, runId));
  }

  prune(nowMs: number): void {
    for (const [id, e] of this.runs) if (nowMs - e.usedAt >= IDLE_MS) this.runs.delete(id);
  }
}
