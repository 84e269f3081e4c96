// A DAG: its grid (runs × tasks) or graph, a selected run's details, trigger with conf, pause/unpause, delete.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { lazy, Suspense, useMemo, useState } from 'react';
import { api, type DagDetail, type DagRun, type DagTask, enc, get, type TaskInstance } from '../api.ts';
import { useSession } from '../auth.tsx';
import { Confirm } from '../components/Confirm.tsx';
import { JsonEditor, parseJsonObject } from '../components/JsonEditor.tsx';
import { Loaded } from '../components/Query.tsx';
import { fmtDate, fmtDuration, fmtSchedule } from '../format.ts';
import { Link, navigate, urls } from '../router.tsx';
import { isUnfinishedRun, Legend, StateBadge, styleOf, UNFINISHED } from '../states.tsx';
import { PauseToggle } from './DagsPage.tsx';

const Graph = lazy(() => import('../components/Graph.tsx'));

interface Grid {
  dagRuns: DagRun[];
  totalEntries: number;
  taskInstances: TaskInstance[];
}

/** Tasks upstream first (a stable topological order), so the grid reads top to bottom like the graph. */
function topo(tasks: DagTask[]): DagTask[] {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const out: DagTask[] = [];
  const seen = new Set<string>();
  const visit = (t: DagTask) => {
    if (seen.has(t.taskId)) return;
    seen.add(t.taskId);
    for (const u of t.upstream) {
      const ut = byId.get(u);
      if (ut) visit(ut);
    }
    out.push(t);
  };
  tasks.forEach(visit);
  return out;
}

export const liveInterval = (busy: boolean) => (busy ? 2000 : 10_000);

function TriggerDialog({ dag, open, onClose }: { dag: DagDetail; open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [text, setText] = useState(() => JSON.stringify(dag.params ?? {}, null, 2));
  const { value, error } = parseJsonObject(text);
  const m = useMutation({
    mutationFn: (conf: Record<string, unknown>) => api<DagRun>('POST', `/dags/${enc(dag.dagId)}/dagRuns`, { conf }),
    onSuccess: (run) => {
      void qc.invalidateQueries({ queryKey: ['grid', dag.dagId] });
      onClose();
      navigate(urls.run(dag.dagId, run.runId));
    },
  });
  return (
    <Confirm open={open} title={`Trigger ${dag.dagId}`} confirmLabel="Trigger" busy={m.isPending} disabled={!!error} error={m.error?.message} onCancel={onClose} onConfirm={() => value && m.mutate(value)}>
      <p>A manual run starts as soon as the scheduler picks it up{dag.isPaused ? ' — this DAG is paused: the run waits until it is unpaused' : ''}.</p>
      <JsonEditor label="Run configuration (conf)" value={text} onChange={setText} error={error} />
    </Confirm>
  );
}

/** The states that matter most first: a mapped task's summary state is its instances' first in this order. */
const RANK = ['failed', 'upstream_failed', 'running', 'queued', 'up_for_retry', 'up_for_reschedule', 'scheduled', 'none', 'removed', 'skipped', 'success'];
const rank = (s: string | null) => (RANK.indexOf(s ?? 'none') < 0 ? RANK.length : RANK.indexOf(s ?? 'none'));

/**
 * One entry per task (by `key`): a mapped task has one task instance per map index, summarised as its instance in
 * the state that matters most, with `mapped` counting the instances by state (null for an unmapped task).
 */
function summariseInstances<T extends { state: string | null; mapIndex: number }>(tis: T[], key: (t: T) => string): Map<string, T & { mapped: string | null }> {
  const groups = new Map<string, T[]>();
  for (const t of tis) groups.set(key(t), [...(groups.get(key(t)) ?? []), t]);
  return new Map(
    [...groups].map(([k, group]) => {
      const pick = [...group].sort((a, b) => rank(a.state) - rank(b.state) || a.mapIndex - b.mapIndex)[0];
      const counts = group.length > 1 ? Object.entries(group.reduce<Record<string, number>>((acc, t) => ({ ...acc, [t.state ?? 'none']: (acc[t.state ?? 'none'] ?? 0) + 1 }), {})).map(([st, n]) => `${n} ${styleOf(st).label}`).join(', ') : null;
      return [k, { ...pick, mapped: counts ? `${group.length} mapped instances: ${counts}` : null }];
    }),
  );
}

function GridView({ dag, grid, runId }: { dag: DagDetail; grid: Grid; runId: string | null }) {
  const tasks = useMemo(() => topo(dag.tasks), [dag.tasks]);
  const runs = [...grid.dagRuns].reverse(); // oldest left, newest right
  const cell = summariseInstances(grid.taskInstances, (t) => `${t.runId}\u0000${t.taskId}`);
  if (!runs.length) return <p>No runs yet. {dag.schedule === null ? 'Trigger one.' : 'The scheduler creates them on schedule; you can also trigger one.'}</p>;
  return (
    <div className="grid-wrap">
      <table className="grid" aria-label={`Task states of the latest ${runs.length} runs`}>
        <thead>
          <tr>
            <th scope="col" className="task-col">
              Task \ run
            </th>
            {runs.map((r) => {
              const s = styleOf(r.state);
              return (
                <th key={r.runId} scope="col" className={r.runId === runId ? 'selected' : undefined}>
                  <Link
                    href={urls.run(dag.dagId, r.runId)}
                    className="run-head"
                    style={{ background: s.color, color: s.ink }}
                    title={`${r.runId}: ${s.label}, ${fmtDate(r.logicalDate)}, ${fmtDuration(r.startDate, r.endDate)}`}
                    aria-label={`run ${r.runId}: ${s.label}`}
                  >
                    {s.symbol || '·'}
                  </Link>
                </th>
              );
            })}
          </tr>
        </thead>
        <tbody>
          {tasks.map((t) => (
            <tr key={t.taskId}>
              <th scope="row" className="task-col">
                {t.taskId}
              </th>
              {runs.map((r) => {
                const ti = cell.get(`${r.runId}\u0000${t.taskId}`);
                const s = styleOf(ti?.state);
                return (
                  <td key={r.runId} className={r.runId === runId ? 'selected' : undefined}>
                    {ti ? (
                      <Link
                        href={urls.ti(dag.dagId, r.runId, t.taskId, ti.mapIndex)}
                        className="cell"
                        data-state={ti.state}
                        style={{ background: s.color, color: s.ink }}
                        title={ti.mapped ? `${t.taskId} in ${r.runId}: ${ti.mapped}` : `${t.taskId} in ${r.runId}: ${s.label}${ti.tryNumber ? `, try ${ti.tryNumber}` : ''}`}
                        aria-label={`${t.taskId} in run ${r.runId}: ${s.label}`}
                      >
                        {s.symbol}
                      </Link>
                    ) : (
                      <span className="cell empty" title={`${t.taskId} in ${r.runId}: not created yet`} aria-label="no task instance yet" />
                    )}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Deletes the DAG's metadata (runs, task instances, history) after a confirmation; its file stays. */
function DeleteDagDialog({ dag, open, onClose }: { dag: DagDetail; open: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: () => api('DELETE', `/dags/${enc(dag.dagId)}`),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['dags'] });
      onClose();
      navigate(urls.dags());
    },
  });
  return (
    <Confirm open={open} title={`Delete ${dag.dagId}?`} confirmLabel="Delete" danger busy={m.isPending} error={m.error?.message} onCancel={onClose} onConfirm={() => m.mutate()}>
      <p>
        Every run, task instance, try and XCom of this DAG is deleted from the metadata database. Its file and task logs stay: while the file defines the DAG, the
        next parse adds it again, without history.
      </p>
    </Confirm>
  );
}

function RunPanel({ dag, run, tis }: { dag: DagDetail; run: DagRun; tis: TaskInstance[] }) {
  const { canWrite } = useSession();
  const qc = useQueryClient();
  const [ask, setAsk] = useState<'success' | 'failed' | null>(null);
  const m = useMutation({
    mutationFn: (state: 'success' | 'failed') => api('PATCH', `/dags/${enc(dag.dagId)}/dagRuns/${enc(run.runId)}`, { state }),
    onSuccess: () => {
      setAsk(null);
      void qc.invalidateQueries({ queryKey: ['grid', dag.dagId] });
    },
  });
  const failed = tis.filter((t) => t.state === 'failed' || t.state === 'upstream_failed');
  return (
    <section className="panel" aria-labelledby="run-title">
      <h2 id="run-title">
        Run <code>{run.runId}</code> <StateBadge state={run.state} />
      </h2>
      <dl className="facts">
        <dt>Type</dt>
        <dd>{run.runType}</dd>
        <dt>Logical date</dt>
        <dd>{fmtDate(run.logicalDate)}</dd>
        <dt>Data interval</dt>
        <dd>
          {fmtDate(run.dataIntervalStart)} – {fmtDate(run.dataIntervalEnd)}
        </dd>
        <dt>Started</dt>
        <dd>{fmtDate(run.startDate)}</dd>
        <dt>Ended</dt>
        <dd>{fmtDate(run.endDate)}</dd>
        <dt>Duration</dt>
        <dd>{fmtDuration(run.startDate, run.endDate)}</dd>
        <dt>Conf</dt>
        <dd>
          <code>{JSON.stringify(run.conf)}</code>
        </dd>
      </dl>
      {failed.length > 0 && (
        <p>
          Failed:{' '}
          {failed.map((t, i) => (
            <span key={t.taskId}>
              {i > 0 && ', '}
              <Link href={urls.ti(dag.dagId, run.runId, t.taskId, t.mapIndex)}>{t.taskId}</Link> ({styleOf(t.state).label})
            </span>
          ))}
        </p>
      )}
      {canWrite && (
        <div className="actions">
          <button type="button" onClick={() => setAsk('success')} disabled={run.state === 'success'}>
            Mark run success
          </button>
          <button type="button" className="danger-outline" onClick={() => setAsk('failed')} disabled={run.state === 'failed'}>
            Mark run failed
          </button>
        </div>
      )}
      <Confirm open={ask !== null} title={`Mark run ${ask}?`} confirmLabel={`Mark ${ask}`} danger={ask === 'failed'} busy={m.isPending} error={m.error?.message} onCancel={() => setAsk(null)} onConfirm={() => ask && m.mutate(ask)}>
        <p>
          {ask === 'success'
            ? 'Every task instance of this run that is not success or skipped becomes success (tries in flight end as success).'
            : 'Tries in flight end as failed; task instances still waiting are skipped.'}
        </p>
      </Confirm>
    </section>
  );
}

export function DagPage({ dagId, runId, view }: { dagId: string; runId: string | null; view: 'grid' | 'graph' }) {
  const { canWrite } = useSession();
  const [triggering, setTriggering] = useState(false);
  const [deleting, setDeleting] = useState(false);
  const dag = useQuery({ queryKey: ['dag', dagId], queryFn: () => get<DagDetail>(`/dags/${enc(dagId)}`), refetchInterval: 15_000 });
  const grid = useQuery({
    queryKey: ['grid', dagId],
    queryFn: () => get<Grid>(`/dags/${enc(dagId)}/grid?limit=25`),
    refetchInterval: (q) => liveInterval(!!q.state.data?.dagRuns.some((r) => isUnfinishedRun(r.state)) || !!q.state.data?.taskInstances.some((t) => UNFINISHED.has(t.state) && t.state !== 'none')),
  });
  // A selected run older than the grid's page is read on its own.
  const inGrid = grid.data?.dagRuns.find((r) => r.runId === runId);
  const single = useQuery({
    queryKey: ['run', dagId, runId],
    enabled: !!runId && !!grid.data && !inGrid,
    queryFn: () => get<DagRun>(`/dags/${enc(dagId)}/dagRuns/${enc(runId!)}`),
  });
  const singleTis = useQuery({
    queryKey: ['runTis', dagId, runId],
    enabled: !!runId && !!grid.data && !inGrid,
    queryFn: () => get<{ taskInstances: TaskInstance[] }>(`/dags/${enc(dagId)}/dagRuns/${enc(runId!)}/taskInstances?limit=1000`),
    refetchInterval: 3000,
  });
  const selectedRun = inGrid ?? single.data ?? (runId ? undefined : grid.data?.dagRuns[0]);
  const selectedTis = selectedRun ? (inGrid || !runId ? (grid.data?.taskInstances ?? []).filter((t) => t.runId === selectedRun.runId) : (singleTis.data?.taskInstances ?? [])) : [];
  const summary = summariseInstances(selectedTis, (t) => t.taskId);
  const states = new Map([...summary].map(([taskId, t]) => [taskId, t.state]));
  const base = runId ? urls.run(dagId, runId) : urls.dag(dagId);

  return (
    <main>
      <Loaded q={dag} what={`DAG ${dagId}`}>
        {(d) => (
          <>
            <nav aria-label="Breadcrumb" className="crumbs">
              <Link href={urls.dags()}>DAGs</Link> › <span aria-current="page">{d.dagId}</span>
            </nav>
            <div className="title-row">
              <h1>{d.dagId}</h1>
              <PauseToggle dag={d} />
              {canWrite && (
                <>
                  <button type="button" className="primary" onClick={() => setTriggering(true)}>
                    ▶ Trigger
                  </button>
                  <button type="button" className="danger-outline" onClick={() => setDeleting(true)}>
                    Delete DAG
                  </button>
                </>
              )}
            </div>
            <p className="muted">
              {d.description ? `${d.description} · ` : ''}schedule <code>{fmtSchedule(d.schedule)}</code> · {d.tasks.length} task{d.tasks.length === 1 ? '' : 's'} · <code>{d.fileloc}</code>
            </p>
            {d.hasImportErrors && (
              <p className="banner error-banner">
                The file of this DAG failed to import on its last parse; this is its last good version. <Link href={urls.importErrors()}>See the import errors</Link>.
              </p>
            )}
            {triggering && <TriggerDialog dag={d} open={triggering} onClose={() => setTriggering(false)} />}
            {deleting && <DeleteDagDialog dag={d} open={deleting} onClose={() => setDeleting(false)} />}
            <div className="tabs" role="tablist" aria-label="View">
              <Link role="tab" aria-selected={view === 'grid'} href={base}>
                Grid
              </Link>
              <Link role="tab" aria-selected={view === 'graph'} href={`${base}?view=graph`}>
                Graph
              </Link>
            </div>
            <Legend />
            <div className="dag-body">
              <div className="dag-main">
                <Loaded q={grid} what="the runs">
                  {(g) =>
                    view === 'grid' ? (
                      <GridView dag={d} grid={g} runId={selectedRun?.runId ?? null} />
                    ) : (
                      <>
                        <p className="muted small">
                          {selectedRun ? (
                            <>
                              Coloured by run <code>{selectedRun.runId}</code> ({styleOf(selectedRun.state).label}); pick another run in the grid.
                            </>
                          ) : (
                            'No run yet: tasks have no state.'
                          )}
                        </p>
                        <Suspense fallback={<p className="muted">Loading the graph…</p>}>
                          <Graph tasks={d.tasks} states={states} onSelect={(taskId) => selectedRun && navigate(urls.ti(d.dagId, selectedRun.runId, taskId, summary.get(taskId)?.mapIndex ?? -1))} />
                        </Suspense>
                      </>
                    )
                  }
                </Loaded>
              </div>
              {selectedRun && (
                <aside className="dag-side">
                  <RunPanel dag={d} run={selectedRun} tis={selectedTis} />
                </aside>
              )}
            </div>
          </>
        )}
      </Loaded>
    </main>
  );
}
