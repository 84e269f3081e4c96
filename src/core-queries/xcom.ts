// The XCom values a task instance pushed (its return value is the key return_value). Shared by the API.
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import type { TIKey } from '../executors/types.ts';
import { keyColumns } from '../db/task-instances.ts';

export interface XComEntry {
  key: string;
  timestamp: string;
  /** The value as pushed (JSON); null when it cannot be parsed. */
  value: unknown;
}

export async function listXcom(db: Kysely<Database>, key: TIKey): Promise<XComEntry[]> {
  const rows = await db.selectFrom('xcom').select(['key', 'value', 'timestamp']).where((eb) => eb.and(keyColumns(key))).orderBy('key').execute();
  return rows.map((r) => {
    let value: unknown = null;
    try {
      value = JSON.parse(r.value);
    } catch {
      value = null;
    }
    return { key: r.key, timestamp: r.timestamp, value };
  });
}
