// The task instances' `queue` column, read to route a dead scheduler's tries to the half that most likely has them.
import type { Db } from '../../db/connect.ts';
import { readTries } from '../../db/task-instances.ts';
import { type TIKey, tiKeyString } from '../types.ts';

/** The `queue` of each key's task instance, in order (null: no such task instance). */
export async function tiQueues(db: Db, keys: readonly TIKey[]): Promise<(string | null)[]> {
  const rows = await readTries(db.kysely, [...keys]);
  return keys.map((k) => rows.get(tiKeyString(k))?.queue ?? null);
}
