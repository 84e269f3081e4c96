// A task instance: every try (state, dates, duration, reason, executor and its handle), the selected try's log
// (live while it runs), its pod when it ran on Kubernetes, XCom; clear and mark with a confirmation.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, enc, get, type PodRef, type TaskInstanceDetail, type Try, type XCom } from '../api.ts';
import { useSession } from '../auth.tsx';
import { Confirm } from '../components/Confirm.tsx';
import { LogView } from '../components/LogView.tsx';
import { PodView } from '../components/PodView.tsx';
import { Loaded } from '../components/Query.tsx';
import { fmtDate, fmtDuration } from '../format.ts';
import { explainPodReason } from '../pod-reasons.ts';
import { Link, urls } from '../router.tsx';
import { StateBadge, styleOf, UNFINISHED } from '../states.tsx';

/** Which executor ran a try, from its handle: a pod, a local process, or a queue job. */
function executorOf(externalId: string | null, pod: PodRef | null): string {
  if (pod) return 'kubernetes';
  if (!externalId) return '—';
  if (/^pid:\d+$/.test(externalId)) return 'local';
  return 'queue';
}

interface ClearAnswer {
  taskInstances: { taskId: string; state: string }[];
  notCleared: { taskId: string; state: string; reason: string }[];
}

type Action = 'clear' | 'success' | 'failed';

function Actions({ ti }: { ti: TaskInstanceDetail }) {
  const qc = useQueryClient();
  const [action, setAction] = useState<Action | null>(null);
  const [downstream, setDownstream] = useState(true);
  const base = `/dags/${enc(ti.dagId)}`;
  const clearBody = (dryRun: boolean) => ({ dagRunId: ti.runId, taskIds: [ti.taskId], onlyFailed: false, includeDownstream: downstream, dryRun });
  const preview = useQuery({
    queryKey: ['clearPreview', ti.dagId, ti.runId, ti.taskId, downstream, ti.state],
    enabled: action === 'clear',
    queryFn: () => api<ClearAnswer>('POST', `${base}/clearTaskInstances`, clearBody(true)),
  });
  const m = useMutation({
    mutationFn: (a: Action) =>
      a === 'clear'
        ? api('POST', `${base}/clearTaskInstances`, clearBody(false))
        : api('PATCH', `${base}/dagRuns/${enc(ti.runId)}/taskInstances/${enc(ti.taskId)}${ti.mapIndex >= 0 ? `?mapIndex=${ti.mapIndex}` : ''}`, { newState: a }),
    onSuccess: () => {
      setAction(null);
      void qc.invalidateQueries();
    },
  });
  const inFlight = ti.state === 'running' || ti.state === 'queued';
  const titles: Record<Action, string> = { clear: `Clear ${ti.taskId}?`, success: `Mark ${ti.taskId} success?`, failed: `Mark ${ti.taskId} failed?` };
  return (
    <div className="actions">
      <button type="button" onClick={() => setAction('clear')} disabled={inFlight || ti.state === 'none'} title={inFlight ? 'A try in flight cannot be cleared: mark it failed first' : undefined}>
        ↻ Clear
      </button>
      <button type="button" onClick={() => setAction('success')} disabled={ti.state === 'success'}>
        ✓ Mark success
      </button>
      <button type="button" className="danger-outline" onClick={() => setAction('failed')} disabled={ti.state === 'failed'}>
        ✗ Mark failed
      </button>
      <Confirm
        open={action !== null}
        title={action ? titles[action] : ''}
        confirmLabel={action === 'clear' ? 'Clear' : `Mark ${action}`}
        danger={action === 'failed'}
        busy={m.isPending}
        error={m.error?.message}
        onCancel={() => {
          setAction(null);
          m.reset();
        }}
        onConfirm={() => action && m.mutate(action)}
      >
        {action === 'clear' && (
          <>
            <p>Cleared task instances run again: the scheduler decides them anew by their trigger rules, and a finished run is started again.</p>
            <label>
              <input type="checkbox" checked={downstream} onChange={(e) => setDownstream(e.target.checked)} /> Also clear downstream tasks
            </label>
            {preview.data && (
              <p>
                Will clear: {preview.data.taskInstances.map((t) => `${t.taskId} (${styleOf(t.state).label})`).join(', ') || 'nothing'}
                {preview.data.notCleared.length > 0 && <> · left alone (in flight): {preview.data.notCleared.map((t) => t.taskId).join(', ')}</>}
              </p>
            )}
          </>
        )}
        {action === 'success' && <p>The task instance becomes success{inFlight ? ' and its running try is ended' : ''}; downstream tasks blocked as upstream failed run again.</p>}
        {action === 'failed' && <p>The task instance becomes failed{inFlight ? ' and its running try is ended (its process is not killed; its outcome is ignored)' : ''}.</p>}
      </Confirm>
    </div>
  );
}

function TriesTable({ ti, selected }: { ti: TaskInstanceDetail; selected: number }) {
  return (
    <table className="list tries">
      <caption className="sr-only">Tries</caption>
      <thead>
        <tr>
          <th scope="col">Try</th>
          <th scope="col">State</th>
          <th scope="col">Started</th>
          <th scope="col">Ended</th>
          <th scope="col">Duration</th>
          <th scope="col">Executor</th>
          <th scope="col">External id</th>
          <th scope="col">Reason</th>
        </tr>
      </thead>
      <tbody>
        {ti.tries.map((t: Try, i) => (
          <tr key={i} className={t.tryNumber === selected ? 'selected' : undefined} aria-current={t.tryNumber === selected && t.state !== 'launch_failed' ? 'true' : undefined}>
            <td>
              <Link href={urls.tryOf(ti.dagId, ti.runId, ti.taskId, t.tryNumber, ti.mapIndex)} aria-label={`try ${t.tryNumber}${t.state === 'launch_failed' ? ' (launch failure)' : ''}`}>
                #{t.tryNumber}
              </Link>
            </td>
            <td>
              <StateBadge state={t.state} />
            </td>
            <td>{fmtDate(t.startDate)}</td>
            <td>{fmtDate(t.endDate)}</td>
            <td>{fmtDuration(t.startDate, t.endDate)}</td>
            <td>{executorOf(t.externalExecutorId, t.pod)}</td>
            <td>
              <code className="small">{t.pod ? `${t.pod.namespace}/${t.pod.name}` : (t.externalExecutorId ?? '—')}</code>
            </td>
            <td className="reason-cell">
              {t.reason ?? ''}
              {explainPodReason(t.reason) && t.pod && <div className="muted small">{explainPodReason(t.reason)}</div>}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function TaskInstancePage(p: { dagId: string; runId: string; taskId: string; mapIndex: number; tryNumber: number | null }) {
  const { canWrite } = useSession();
  const tiPath = `/dags/${enc(p.dagId)}/dagRuns/${enc(p.runId)}/taskInstances/${enc(p.taskId)}`;
  const mi = p.mapIndex >= 0 ? `?mapIndex=${p.mapIndex}` : '';
  const q = useQuery({
    queryKey: ['ti', p.dagId, p.runId, p.taskId, p.mapIndex],
    queryFn: () => get<TaskInstanceDetail>(`${tiPath}${mi}`),
    refetchInterval: (qq) => (qq.state.data && UNFINISHED.has(qq.state.data.state) ? 2000 : 10_000),
  });
  const xcom = useQuery({ queryKey: ['xcom', p.dagId, p.runId, p.taskId, p.mapIndex, q.data?.state], queryFn: () => get<{ xcomEntries: XCom[] }>(`${tiPath}/xcomEntries${mi}`) });
  return (
    <main>
      <nav aria-label="Breadcrumb" className="crumbs">
        <Link href={urls.dags()}>DAGs</Link> › <Link href={urls.dag(p.dagId)}>{p.dagId}</Link> › <Link href={urls.run(p.dagId, p.runId)}>{p.runId}</Link> ›{' '}
        <span aria-current="page">{p.taskId}</span>
      </nav>
      <Loaded q={q} what={`task instance ${p.taskId}`}>
        {(ti) => {
          const selected = p.tryNumber ?? ti.tryNumber;
          const current = selected === ti.tryNumber;
          const live = current && (ti.state === 'running' || ti.state === 'queued');
          const lastOfTry = [...ti.tries].reverse().find((t) => t.tryNumber === selected);
          return (
            <>
              <div className="title-row">
                <h1>
                  {ti.taskId}
                  {ti.mapIndex >= 0 ? `[${ti.mapIndex}]` : ''}
                </h1>
                <StateBadge state={ti.state} />
                {canWrite && <Actions ti={ti} />}
              </div>
              <dl className="facts">
                <dt>Run</dt>
                <dd>
                  <Link href={urls.run(ti.dagId, ti.runId)}>{ti.runId}</Link>
                </dd>
                <dt>Try</dt>
                <dd>
                  {ti.tryNumber} (retries allowed: {ti.maxTries})
                </dd>
                <dt>Pool / queue</dt>
                <dd>
                  {ti.pool} / {ti.queue}
                </dd>
                <dt>Host</dt>
                <dd>{ti.hostname ?? '—'}</dd>
                {ti.nextRetryAt && (
                  <>
                    <dt>Next try</dt>
                    <dd>{fmtDate(ti.nextRetryAt)}</dd>
                  </>
                )}
                {ti.reason && (
                  <>
                    <dt>Reason</dt>
                    <dd className="reason-text">{ti.reason}</dd>
                  </>
                )}
              </dl>
              <h2>Tries</h2>
              {ti.tries.length ? <TriesTable ti={ti} selected={selected} /> : <p className="muted">No try yet: the task instance is {styleOf(ti.state).label}.</p>}
              {selected > 0 && (
                <section aria-labelledby="try-title">
                  <h2 id="try-title">
                    Try {selected} {lastOfTry && <StateBadge state={lastOfTry.state} />}
                  </h2>
                  {lastOfTry?.reason && (
                    <p className="reason" role="note">
                      <strong>Reason:</strong> {lastOfTry.reason}
                      {explainPodReason(lastOfTry.reason) && lastOfTry.pod && <span className="block">{explainPodReason(lastOfTry.reason)}</span>}
                    </p>
                  )}
                  <PodView path={`${tiPath}/tries/${selected}/pods${mi}`} live={live} />
                  <h3>Log</h3>
                  <LogView key={`${selected}`} path={`${tiPath}/logs/${selected}${mi}`} live={live} />
                </section>
              )}
              <h2>XCom</h2>
              <Loaded q={xcom} what="XCom">
                {(x) =>
                  x.xcomEntries.length ? (
                    <table className="list">
                      <thead>
                        <tr>
                          <th scope="col">Key</th>
                          <th scope="col">Value</th>
                          <th scope="col">Pushed</th>
                        </tr>
                      </thead>
                      <tbody>
                        {x.xcomEntries.map((e) => (
                          <tr key={e.key}>
                            <td>
                              <code>{e.key}</code>
                            </td>
                            <td>
                              <pre className="xcom">{JSON.stringify(e.value, null, 2)}</pre>
                            </td>
                            <td>{fmtDate(e.timestamp)}</td>
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  ) : (
                    <p className="muted">No XCom values.</p>
                  )
                }
              </Loaded>
            </>
          );
        }}
      </Loaded>
    </main>
  );
}
