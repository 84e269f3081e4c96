// The executor's read-only view of task-instance rows: is a try it tracks over? The DB is the truth for
// that; Redis only knows about jobs, which can be lost, redelivered or refused.
import type { Db } from '../../db/connect.ts';
import { readTries, type TryRow } from '../../db/task-instances.ts';
import type { TIKey } from '../types.ts';

export { type TryRow, tryIsOver } from '../../db/task-instances.ts';

/** Rows of the given task instances, by `tiKeyString`; missing rows are absent. */
export const fetchTries = (db: Db, keys: TIKey[]): Promise<Map<string, TryRow>> => readTries(db.kysely, keys);
