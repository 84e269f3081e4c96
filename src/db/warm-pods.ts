// Warm pods (kubernetes.warmPods): worker pods that stay up after their try and run further tries whose final
// pod is the same (same spec key). Every hand-over is one conditional update of the pod's row: the executor
// assigns a launch only to a pod that is `idle`, and a pod retires only while it is `idle`, so a launch is
// taken by exactly one pod and a pod never retires with a try assigned. The try itself is still claimed by its
// runner with its launch id (launch fencing), like any other.
import type { Kysely, Selectable, Transaction } from 'kysely';
import type { TIKey } from '../executors/types.ts';
import { nowIso } from '../util/time.ts';
import type { Database, WarmPodTable } from './schema.ts';

type Q = Kysely<Database> | Transaction<Database>;

/** `busy`: running a try; `idle`: waiting for one; `assigned`: handed a launch it has not started; `retired`: left for good. */
export type WarmPodState = 'busy' | 'idle' | 'assigned' | 'retired';

export interface WarmAssignment {
  key: TIKey;
  tryNumber: number;
  launchId: string;
}

export interface WarmPodRow {
  podName: string;
  namespace: string;
  schedulerId: string;
  specKey: string;
  state: WarmPodState;
  triesRun: number;
  idleSince: string | null;
  assignment: WarmAssignment | null;
  updatedAt: string;
}

function toRow(r: Selectable<WarmPodTable>): WarmPodRow {
  return {
    podName: r.pod_name,
    namespace: r.namespace,
    schedulerId: r.scheduler_id,
    specKey: r.spec_key,
    state: r.state as WarmPodState,
    triesRun: r.tries_run,
    idleSince: r.idle_since,
    assignment:
      r.assigned_dag_id !== null && r.assigned_run_id !== null && r.assigned_task_id !== null && r.assigned_map_index !== null && r.assigned_try_number !== null && r.assigned_launch_id !== null
        ? { key: { dagId: r.assigned_dag_id, runId: r.assigned_run_id, taskId: r.assigned_task_id, mapIndex: r.assigned_map_index }, tryNumber: r.assigned_try_number, launchId: r.assigned_launch_id }
        : null,
    updatedAt: r.updated_at,
  };
}

const NO_ASSIGNMENT = { assigned_dag_id: null, assigned_run_id: null, assigned_task_id: null, assigned_map_index: null, assigned_try_number: null, assigned_launch_id: null };

/**
 * A pod whose try ended offers itself, in the transaction that records the try's outcome (so it is idle the
 * moment a downstream try can be queued): idle, or — past `maxWarmPods` idle pods of its scheduler, or when it
 * should leave (`leave`) — retired. Returns the state it is left in.
 */
export async function offerWarmPodIn(trx: Q, pod: { podName: string; namespace: string; schedulerId: string; specKey: string; triesRun: number }, maxWarmPods: number, leave: boolean): Promise<WarmPodState> {
  let state: WarmPodState = leave ? 'retired' : 'idle';
  if (!leave) {
    const idle = await trx.selectFrom('warm_pod').select((eb) => eb.fn.countAll<number>().as('n')).where('scheduler_id', '=', pod.schedulerId).where('state', '=', 'idle').where('pod_name', '!=', pod.podName).executeTakeFirstOrThrow();
    if (Number(idle.n) >= maxWarmPods) state = 'retired';
  }
  const now = nowIso();
  const values = { namespace: pod.namespace, scheduler_id: pod.schedulerId, spec_key: pod.specKey, state, tries_run: pod.triesRun, idle_since: now, ...NO_ASSIGNMENT, updated_at: now };
  await trx
    .insertInto('warm_pod')
    .values({ pod_name: pod.podName, ...values })
    .onConflict((oc) => oc.column('pod_name').doUpdateSet(values))
    .execute();
  return state;
}

/**
 * Hands a launch to an idle pod of this scheduler with this spec key; the pod's name, or null when none is idle.
 * One conditional update: a pod retiring at the same moment either retired first (no match) or is assigned.
 */
export async function assignWarmPod(db: Kysely<Database>, schedulerId: string, specKey: string, a: WarmAssignment): Promise<{ podName: string; namespace: string } | null> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const candidate = await db.selectFrom('warm_pod').select(['pod_name', 'namespace']).where('scheduler_id', '=', schedulerId).where('spec_key', '=', specKey).where('state', '=', 'idle').orderBy('idle_since', 'desc').limit(1).executeTakeFirst();
    if (!candidate) return null;
    const r = await db
      .updateTable('warm_pod')
      .set({
        state: 'assigned',
        assigned_dag_id: a.key.dagId,
        assigned_run_id: a.key.runId,
        assigned_task_id: a.key.taskId,
        assigned_map_index: a.key.mapIndex,
        assigned_try_number: a.tryNumber,
        assigned_launch_id: a.launchId,
        updated_at: nowIso(),
      })
      .where('pod_name', '=', candidate.pod_name)
      .where('state', '=', 'idle')
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) return { podName: candidate.pod_name, namespace: candidate.namespace };
    // Taken or retired in between: look again.
  }
  return null;
}

/** The pod's side: takes its assignment (assigned → busy), or retires while still idle. Null: still idle. */
/** `retired`: `now` when this call retired the pod (its idle time is up), `before` when someone else had. */
export async function takeOrRetire(db: Kysely<Database>, podName: string, retire: boolean): Promise<{ take: WarmAssignment } | { retired: 'now' | 'before' } | null> {
  const row = await db.selectFrom('warm_pod').selectAll().where('pod_name', '=', podName).executeTakeFirst();
  if (!row || row.state === 'retired') return { retired: 'before' };
  if (row.state === 'assigned') {
    const got = toRow(row).assignment!;
    await db.updateTable('warm_pod').set({ state: 'busy', updated_at: nowIso() }).where('pod_name', '=', podName).where('state', '=', 'assigned').execute();
    return { take: got };
  }
  if (!retire) return null;
  const r = await db.updateTable('warm_pod').set({ state: 'retired', updated_at: nowIso() }).where('pod_name', '=', podName).where('state', '=', 'idle').executeTakeFirst();
  // Assigned meanwhile: take it on the next look.
  return Number(r.numUpdatedRows) === 1 ? { retired: 'now' } : null;
}

/** Retires these pods if idle (scheduler stop, cleanup, sweep); the names of those retired now. */
export async function retireIdle(db: Q, podNames: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const name of podNames) {
    const r = await db.updateTable('warm_pod').set({ state: 'retired', updated_at: nowIso() }).where('pod_name', '=', name).where('state', '=', 'idle').executeTakeFirst();
    if (Number(r.numUpdatedRows) === 1) out.push(name);
  }
  return out;
}

/**
 * `floe kubernetes cleanup-pods`: warm pods idle since before `before` in these namespaces are retired (one
 * conditional update each, so a pod handed a try meanwhile keeps it); with `dryRun`, only listed. A retired
 * pod sees its row at its next look and exits.
 */
export async function retireIdleSince(db: Q, before: string, namespaces: string[], dryRun: boolean): Promise<WarmPodRow[]> {
  if (!namespaces.length) return [];
  const rows = (await db.selectFrom('warm_pod').selectAll().where('state', '=', 'idle').where('idle_since', '<=', before).where('namespace', 'in', namespaces).orderBy('pod_name').execute()).map(toRow);
  if (dryRun) return rows;
  const retired = new Set(await retireIdle(db, rows.map((r) => r.podName)));
  return rows.filter((r) => retired.has(r.podName));
}

/** The rows of these pods (missing ones absent). */
export async function readWarmPods(db: Q, podNames: string[]): Promise<Map<string, WarmPodRow>> {
  if (!podNames.length) return new Map();
  const rows = await db.selectFrom('warm_pod').selectAll().where('pod_name', 'in', podNames).execute();
  return new Map(rows.map((r) => [r.pod_name, toRow(r)]));
}

/** A pod that is gone (deleted, failed): its row can never be assigned again. */
export async function markWarmPodGone(db: Q, podName: string): Promise<void> {
  await db.updateTable('warm_pod').set({ state: 'retired', updated_at: nowIso() }).where('pod_name', '=', podName).execute();
}

/** A new scheduler adopting a dead one's warm pod: the row follows the pod. */
export async function adoptWarmPod(db: Q, podName: string, schedulerId: string): Promise<void> {
  await db.updateTable('warm_pod').set({ scheduler_id: schedulerId, updated_at: nowIso() }).where('pod_name', '=', podName).execute();
}

/** Every warm pod row not retired, for `floe kubernetes pods`. */
export async function listWarmPods(db: Q): Promise<WarmPodRow[]> {
  return (await db.selectFrom('warm_pod').selectAll().where('state', '!=', 'retired').orderBy('pod_name').execute()).map(toRow);
}
