// DAGs: id, paused toggle, schedule, next run, states of recent runs; a banner when files failed to import.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, type Dag, type DagStats, enc, get, type ImportError } from '../api.ts';
import { useSession } from '../auth.tsx';
import { Loaded } from '../components/Query.tsx';
import { fmtDate, fmtSchedule } from '../format.ts';
import { Link, urls } from '../router.tsx';
import { StateBadge, styleOf } from '../states.tsx';

export function ImportErrorsBanner() {
  const q = useQuery({ queryKey: ['importErrors'], queryFn: () => get<{ importErrors: ImportError[]; totalEntries: number }>('/importErrors?kind=error&limit=1000'), refetchInterval: 10_000 });
  const errors = q.data?.importErrors ?? [];
  if (!errors.length) return null;
  return (
    <section className="banner error-banner" aria-labelledby="ie-title">
      <h2 id="ie-title">
        {errors.length} DAG file{errors.length === 1 ? '' : 's'} failed to import
      </h2>
      <details>
        <summary>Show the errors</summary>
        <ul>
          {errors.slice(0, 20).map((e) => (
            <li key={e.id}>
              <code>
                {e.fileloc}
                {e.line ? `:${e.line}` : ''}
              </code>
              {e.dagId && <> (DAG {e.dagId})</>}
              <pre>{e.message}</pre>
            </li>
          ))}
        </ul>
        {errors.length > 20 && <Link href={urls.importErrors()}>All {errors.length} import errors</Link>}
      </details>
    </section>
  );
}

function RunCounts({ stats }: { stats: DagStats | undefined }) {
  if (!stats) return <span className="muted">…</span>;
  const entries = Object.entries(stats.recentRuns).filter(([, n]) => n > 0);
  if (!entries.length) return <span className="muted">no runs yet</span>;
  return (
    <ul className="counts" aria-label="States of recent runs">
      {entries.map(([state, n]) => {
        const s = styleOf(state);
        return (
          <li key={state} title={`${n} ${s.label}`}>
            <span className="dot" style={{ background: s.color, color: s.ink }} aria-hidden="true">
              {s.symbol}
            </span>
            {n} {s.label}
          </li>
        );
      })}
    </ul>
  );
}

export function PauseToggle({ dag }: { dag: Pick<Dag, 'dagId' | 'isPaused'> }) {
  const { canWrite } = useSession();
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: (isPaused: boolean) => api<Dag>('PATCH', `/dags/${enc(dag.dagId)}`, { isPaused }),
    onSettled: () => qc.invalidateQueries({ queryKey: ['dags'] }).then(() => qc.invalidateQueries({ queryKey: ['dag', dag.dagId] })),
  });
  const paused = m.isPending ? m.variables : dag.isPaused;
  if (!canWrite) return <span className={paused ? 'paused' : 'active'}>{paused ? 'paused' : 'active'}</span>;
  return (
    <label className="switch">
      <input type="checkbox" role="switch" checked={!paused} disabled={m.isPending} aria-label={`${dag.dagId}: ${paused ? 'paused, switch on to unpause' : 'active, switch off to pause'}`} onChange={(e) => m.mutate(!e.target.checked)} />
      <span>{paused ? 'paused' : 'active'}</span>
      {m.isError && <span role="alert" className="error"> {m.error.message}</span>}
    </label>
  );
}

export function DagsPage() {
  const dags = useQuery({ queryKey: ['dags'], queryFn: () => get<{ dags: Dag[]; totalEntries: number }>('/dags?limit=1000'), refetchInterval: 10_000 });
  const ids = dags.data?.dags.map((d) => d.dagId) ?? [];
  const stats = useQuery({
    queryKey: ['dagStats', ids],
    enabled: ids.length > 0,
    queryFn: () => get<{ dagStats: DagStats[] }>(`/dagStats?dagIds=${ids.map(enc).join(',')}`),
    refetchInterval: (q) => (q.state.data?.dagStats.some((s) => (s.recentRuns.running ?? 0) + (s.recentRuns.queued ?? 0) > 0) ? 3000 : 10_000),
  });
  const byId = new Map(stats.data?.dagStats.map((s) => [s.dagId, s]));
  return (
    <main>
      <h1>DAGs</h1>
      <ImportErrorsBanner />
      <Loaded q={dags} what="the DAGs">
        {(d) =>
          d.dags.length === 0 ? (
            <p>No DAGs yet: put a DAG file in the DAGs folder and start the scheduler (<code>floe standalone</code>).</p>
          ) : (
            <table className="list">
              <thead>
                <tr>
                  <th scope="col">DAG</th>
                  <th scope="col">On</th>
                  <th scope="col">Schedule</th>
                  <th scope="col">Next run</th>
                  <th scope="col">Last run</th>
                  <th scope="col">Recent runs</th>
                </tr>
              </thead>
              <tbody>
                {d.dags.map((dag) => {
                  const s = byId.get(dag.dagId);
                  return (
                    <tr key={dag.dagId}>
                      <th scope="row">
                        <Link href={urls.dag(dag.dagId)}>{dag.dagId}</Link>
                        {dag.hasImportErrors && (
                          <span className="warn-tag" title="The file defining this DAG failed to import on its last parse: the last good version is shown">
                            import error
                          </span>
                        )}
                        {dag.description && <div className="muted small">{dag.description}</div>}
                        {dag.tags.length > 0 && (
                          <div className="tags">
                            {dag.tags.map((t) => (
                              <span key={t} className="tag">
                                {t}
                              </span>
                            ))}
                          </div>
                        )}
                      </th>
                      <td>
                        <PauseToggle dag={dag} />
                      </td>
                      <td>
                        <code>{fmtSchedule(dag.schedule)}</code>
                      </td>
                      <td>{s?.nextRun ? <span title={`logical date ${s.nextRun.logicalDate}; due ${s.nextRun.dataIntervalEnd}`}>{fmtDate(s.nextRun.dataIntervalEnd)}</span> : <span className="muted">—</span>}</td>
                      <td>
                        {s?.lastRun ? (
                          <Link href={urls.run(dag.dagId, s.lastRun.runId)} aria-label={`last run of ${dag.dagId}: ${styleOf(s.lastRun.state).label}, ${fmtDate(s.lastRun.logicalDate)}`}>
                            <StateBadge state={s.lastRun.state} /> {fmtDate(s.lastRun.logicalDate)}
                          </Link>
                        ) : (
                          <span className="muted">—</span>
                        )}
                      </td>
                      <td>
                        <RunCounts stats={s} />
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          )
        }
      </Loaded>
    </main>
  );
}
