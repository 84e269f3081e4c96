// What the task runner does for sensors, branches and short-circuits, around running the task's body: a sensor's
// body is its poke, repeated (sensors.ts); a branch or short-circuit records which downstream tasks it follows
// (branching.ts); a sensor's own outcomes (reschedule, timeout) become the try's end.
import { FOLLOW_XCOM_KEY, type SerializedDag, type SerializedTask } from '../dag/model.ts';
import type { Db } from '../db/connect.ts';
import { pushXcom, type TryEnd } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';
import { describeDecision, followDecision } from './branching.ts';
import { sense, SensorReschedule, sensorEnd } from './sensors.ts';
import type { TaskLog } from './task-log.ts';

export class TryFlow {
  /** The start of a reschedule-mode sensor's first poke, when an earlier run of this try made it. */
  private firstStart: string | null = null;

  constructor(
    private readonly o: { db: Db; k: TIKey; tryNumber: number; dag: SerializedDag; task: SerializedTask; mode: 'run' | 'claimed' | 'test'; log: TaskLog },
  ) {}

  /** Runs `poke` once, or — for a sensor — until its condition holds; resolves to the (last) result. */
  async run(poke: () => Promise<unknown>, signal: AbortSignal): Promise<unknown> {
    const sensor = this.o.task.sensor;
    if (!sensor) return poke();
    const r = await sense(
      {
        db: this.o.db.kysely,
        k: this.o.k,
        tryNumber: this.o.tryNumber,
        sensor,
        // `floe tasks test` records nothing, so it pokes in place whatever the mode.
        reschedule: sensor.mode === 'reschedule' && this.o.mode !== 'test',
        log: (m) => this.o.log.line('INFO', m),
        signal,
        onFirstStart: (iso) => (this.firstStart = iso),
      },
      poke,
    );
    return r.value;
  }

  /** After the body returned `value`: a branch or short-circuit checks it and records its decision (throws if invalid). */
  async succeeded(value: unknown): Promise<void> {
    const followed = followDecision(this.o.dag, this.o.task, value);
    if (followed === null) return;
    this.o.log.line('INFO', describeDecision(this.o.dag, this.o.task, followed));
    if (this.o.mode !== 'test') await pushXcom(this.o.db.kysely, this.o.k, FOLLOW_XCOM_KEY, { followed });
  }

  /**
   * How the try ends: a sensor's own outcome when `error` is one (logged here), else `fallback`. A reschedule-mode
   * sensor's final outcome carries the start of its first poke.
   */
  end(fallback: TryEnd, error?: unknown): TryEnd {
    const own = error === undefined ? null : sensorEnd(error);
    if (error instanceof SensorReschedule) this.o.log.line('INFO', `${error.message} (the slot is given back until then)`);
    const end = own ?? fallback;
    return this.firstStart && end.state !== 'up_for_reschedule' ? { ...end, startedAt: this.firstStart } : end;
  }
}
