// Writing a try's claim (queued → running) and its outcome. The task runner writes its own directly; a queue
// worker claims the tries it hands to its task processes and records what they send back, in shared
// transactions: one SQLite writer per worker instead of one per task process.
import type { Transaction } from 'kysely';
import { type Db, retryWhileUnreachable } from '../db/connect.ts';
import type { Database } from '../db/schema.ts';
import { type ClaimInfo, claimTry, finishTryIn, pushXcomJson, type TryEnd } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';

export interface TryRecorder {
  /** queued → running for this try number; false when the try is not queued (run elsewhere, ended, gone). */
  claim(k: TIKey, tryNumber: number, info: ClaimInfo): Promise<boolean>;
  /**
   * Records the outcome, and the return value (JSON) on success; false when the try was ended elsewhere meanwhile.
   * `alsoIn` writes more in the same transaction (a warm pod offering itself again with the outcome).
   */
  finish(k: TIKey, tryNumber: number, end: TryEnd, returnJson: string | undefined, alsoIn?: AlsoIn): Promise<boolean>;
}

type Trx = Transaction<Database>;
export type AlsoIn = (trx: Trx) => Promise<void>;

/** Why a claim was refused: the state the task instance (if any) is in instead. */
export function notQueuedReason(ti: { state: string; try_number: number } | undefined, tryNumber: number): string {
  return `try ${tryNumber} is not queued (task instance is ${ti?.state ?? 'missing'} at try ${ti?.try_number ?? '?'})`;
}

async function finishIn(trx: Trx, k: TIKey, tryNumber: number, end: TryEnd, returnJson: string | undefined): Promise<boolean> {
  // Both in one transaction, so a try is never seen as success without its return value; the value only when the
  // outcome was written (a try ended elsewhere meanwhile, e.g. marked by a user, leaves no return value).
  const recorded = await finishTryIn(trx, k, tryNumber, end);
  if (recorded && end.state === 'success' && returnJson !== undefined) await pushXcomJson(trx, k, 'return_value', returnJson);
  return recorded;
}

/**
 * Writes each claim and outcome in its own statement / transaction. An outcome is written again while the
 * database cannot be reached (a restart): the task body has run, and losing its outcome would run it again.
 */
export function directRecorder(db: Db): TryRecorder {
  return {
    claim: (k, tryNumber, info) => claimTry(db.kysely, k, tryNumber, info),
    finish: (k, tryNumber, end, returnJson, alsoIn) =>
      retryWhileUnreachable(() =>
        db.kysely.transaction().execute(async (trx) => {
          const recorded = await finishIn(trx, k, tryNumber, end, returnJson);
          await alsoIn?.(trx);
          return recorded;
        }),
      ),
  };
}

type Op =
  | { kind: 'claim'; k: TIKey; tryNumber: number; info: ClaimInfo; resolve: (ok: boolean) => void; reject: (e: unknown) => void }
  | { kind: 'finish'; k: TIKey; tryNumber: number; end: TryEnd; returnJson: string | undefined; resolve: (ok: boolean) => void; reject: (e: unknown) => void };

/**
 * Collects the claims and outcomes asked for in one turn of the event loop and writes them in one
 * transaction. Should that transaction fail, each is written again on its own, so one bad write cannot
 * fail the others'.
 */
export class BatchedTryRecorder implements TryRecorder {
  private pending: Op[] = [];
  private flushing = false;

  constructor(private readonly db: Db) {}

  claim(k: TIKey, tryNumber: number, info: ClaimInfo): Promise<boolean> {
    return new Promise((resolve, reject) => this.add({ kind: 'claim', k, tryNumber, info, resolve, reject }));
  }

  finish(k: TIKey, tryNumber: number, end: TryEnd, returnJson: string | undefined): Promise<boolean> {
    return new Promise((resolve, reject) => this.add({ kind: 'finish', k, tryNumber, end, returnJson, resolve, reject }));
  }

  private add(op: Op): void {
    this.pending.push(op);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => void this.flush());
    }
  }

  private async flush(): Promise<void> {
    // Ops added while a batch is written wait for the next batch.
    while (this.pending.length) {
      const batch = this.pending;
      this.pending = [];
      let results: boolean[] | null = null;
      try {
        results = await this.db.kysely.transaction().execute(async (trx) => {
          const out: boolean[] = [];
          for (const op of batch) out.push(await this.apply(trx, op));
          return out;
        });
      } catch {
        results = null;
      }
      if (results) batch.forEach((op, i) => op.resolve(results[i]));
      else
        for (const op of batch) {
          const write = () => this.db.kysely.transaction().execute((trx) => this.apply(trx, op));
          // An outcome is written again while the database is unreachable (see directRecorder); a claim is not.
          await (op.kind === 'finish' ? retryWhileUnreachable(write) : write()).then(op.resolve, op.reject);
        }
    }
    this.flushing = false;
  }

  private apply(trx: Trx, op: Op): Promise<boolean> {
    return op.kind === 'claim' ? claimTry(trx, op.k, op.tryNumber, op.info) : finishIn(trx, op.k, op.tryNumber, op.end, op.returnJson);
  }
}
