// The fault suite's shared parts: result rows, the task body that records what really ran (a side channel the
// scheduler cannot fake: each body appends to a file), the counts every scenario reports, a CPU burner.
import { type ChildProcess, spawn } from 'node:child_process';
import type { Db } from '../../src/db/connect.ts';
import { type Execution, groupBy, readExecutions } from '../multi-scheduler/helpers.ts';
import { SDK_IMPORT } from '../helpers/floe.ts';

export interface FaultRow {
  scenario: string;
  metric: string;
  value: number;
  /** What the value must be, e.g. `= 0`, `>= 500`; a row without one is informational. */
  expected?: string;
  ok: boolean;
}

export const row = (scenario: string, metric: string, value: number, want?: { eq?: number; min?: number; max?: number }): FaultRow => {
  if (!want) return { scenario, metric, value, ok: true };
  if (want.eq !== undefined) return { scenario, metric, value, expected: `= ${want.eq}`, ok: value === want.eq };
  if (want.min !== undefined) return { scenario, metric, value, expected: `>= ${want.min}`, ok: value >= want.min };
  return { scenario, metric, value, expected: `<= ${want.max}`, ok: value <= want.max! };
};

/**
 * A DAG file's preamble: `body(ms)` makes a task body that appends `S|E dag run task try pid ppid epochMs` to
 * $FLOE_TEST_EXEC_LOG (short O_APPEND writes do not interleave) around `ms` of work.
 */
export const BODY_SOURCE = `${SDK_IMPORT}
import { appendFileSync } from 'node:fs';
const body = (ms) => async (ctx) => {
  const mark = (what) => appendFileSync(process.env.FLOE_TEST_EXEC_LOG, [what, ctx.dagId, ctx.runId, ctx.taskId, ctx.tryNumber, process.pid, process.ppid, Date.now()].join(' ') + '\\n');
  mark('S');
  await new Promise((r) => setTimeout(r, ms));
  mark('E');
  return ctx.taskId;
};
`;

/**
 * The counts every scenario reports, from the database and the bodies' own records: task instances that did
 * not succeed (lost), tries left queued or running, tries whose body started more than once, and task
 * instances whose body ran to its end more than once (a side effect done twice).
 */
export async function exactlyOnceRows(scenario: string, db: Db, execLog: string, o: { minTis: number; runIdLike?: string }): Promise<FaultRow[]> {
  let q = db.kysely.selectFrom('task_instance').select(['dag_id', 'run_id', 'task_id', 'state']);
  if (o.runIdLike) q = q.where('run_id', 'like', o.runIdLike);
  const tis = await q.execute();
  const execs = readExecutions(execLog).filter((e) => !o.runIdLike || matchesLike(e.runId, o.runIdLike));
  const perTry = groupBy(execs, (e: Execution) => `${e.dagId} ${e.runId} ${e.taskId} ${e.tryNumber}`);
  const completedPerTi = groupBy(
    execs.filter((e) => e.end !== null),
    (e: Execution) => `${e.dagId} ${e.runId} ${e.taskId}`,
  );
  // Say what went wrong, with what the database recorded about it.
  const twice = [...completedPerTi.entries()].filter(([, l]) => l.length > 1).concat([...perTry.entries()].filter(([, l]) => l.length > 1));
  for (const [ti, list] of twice) {
    const [dagId, runId, taskId] = ti.split(' ');
    const history = await db.kysely.selectFrom('task_instance_history').selectAll().where('dag_id', '=', dagId).where('run_id', '=', runId).where('task_id', '=', taskId).execute();
    const failures = await db.kysely.selectFrom('task_launch_failure').selectAll().where('dag_id', '=', dagId).where('run_id', '=', runId).where('task_id', '=', taskId).execute();
    process.stderr.write(`${scenario}: ${ti} ran twice: ${JSON.stringify(list)}\n  history: ${JSON.stringify(history)}\n  launch failures: ${JSON.stringify(failures)}\n`);
  }
  return [
    row(scenario, 'task instances', tis.length, { min: o.minTis }),
    row(scenario, 'task instances not succeeded (lost)', tis.filter((t) => t.state !== 'success').length, { eq: 0 }),
    row(scenario, 'tries left queued or running', tis.filter((t) => t.state === 'queued' || t.state === 'running').length, { eq: 0 }),
    row(scenario, 'task bodies started (all tries)', execs.length),
    row(scenario, 'tries whose body started more than once', [...perTry.values()].filter((l) => l.length > 1).length, { eq: 0 }),
    row(scenario, 'task instances whose body completed more than once', [...completedPerTi.values()].filter((l) => l.length > 1).length, { eq: 0 }),
  ];
}

const matchesLike = (s: string, like: string): boolean => new RegExp(`^${like.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/%/g, '.*')}$`).test(s);

/** `n` processes spinning at normal priority: the machine overloaded, as on a busy node. */
export function startBurners(n: number): () => void {
  const procs: ChildProcess[] = [];
  for (let i = 0; i < n; i++) procs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return () => {
    for (const p of procs) p.kill('SIGKILL');
  };
}

export const randomIn = (min: number, max: number): number => min + Math.random() * (max - min);
