// What a scheduling pass needs to read besides a run's task instances: the lengths of the lists mapped tasks are
// mapped over, and the decisions recorded by branch and short-circuit tasks. Read only when a pass needs them
// (neededXComs / neededFollowDecisions), so runs without such tasks cost no extra statement.
import type { Kysely } from 'kysely';
import { FOLLOW_XCOM_KEY, type SerializedDag } from '../dag/model.ts';
import type { Database } from '../db/schema.ts';
import { type DecisionInputs, neededFollowDecisions, neededXComs, type TIRow, xcomKey } from './decisions.ts';

/** Whether a DAG has mapped, branch or short-circuit tasks at all (most do not: nothing to look for). */
const needsInputs = new WeakMap<SerializedDag, boolean>();

export async function readDecisionInputs(db: Kysely<Database>, dag: SerializedDag, runId: string, rows: TIRow[], maxMapLength: number): Promise<DecisionInputs> {
  let needs = needsInputs.get(dag);
  if (needs === undefined) needsInputs.set(dag, (needs = dag.tasks.some((t) => t.mapped || t.flow)));
  if (!needs) return { maxMapLength };
  const xcoms = neededXComs(dag, rows);
  const follow = neededFollowDecisions(dag, rows);
  if (!xcoms.length && !follow.length) return { maxMapLength };
  const taskIds = [...new Set([...xcoms.map((x) => x.taskId), ...follow])];
  const keys = [...new Set([...xcoms.map((x) => x.key), ...(follow.length ? [FOLLOW_XCOM_KEY] : [])])];
  const found = await db
    .selectFrom('xcom')
    .select(['task_id', 'key', 'value'])
    .where('dag_id', '=', dag.dagId)
    .where('run_id', '=', runId)
    .where('map_index', '=', -1)
    .where('task_id', 'in', taskIds)
    .where('key', 'in', keys)
    .execute();
  const values = new Map(found.map((r) => [xcomKey(r.task_id, r.key), r.value]));
  const parse = (text: string | undefined): unknown => {
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  };
  const xcomLengths = new Map<string, number | { notAList: unknown }>();
  for (const x of xcoms) {
    const v = parse(values.get(xcomKey(x.taskId, x.key)));
    xcomLengths.set(xcomKey(x.taskId, x.key), Array.isArray(v) ? v.length : { notAList: v });
  }
  // No recorded decision (e.g. the task was marked success by a user): nothing is skipped.
  const followed = new Map<string, string[]>();
  for (const t of follow) {
    const v = parse(values.get(xcomKey(t, FOLLOW_XCOM_KEY))) as { followed?: unknown } | undefined;
    if (v && Array.isArray(v.followed)) followed.set(t, v.followed.filter((x): x is string => typeof x === 'string'));
  }
  return { xcomLengths, followed, maxMapLength };
}
