// The pod a Kubernetes try ran in, as Floe created it (its rendered spec, as YAML), what Kubernetes said about it
// (its events), and why it failed in plain words.
import { useQuery } from '@tanstack/react-query';
import { stringify } from 'yaml';
import { ApiError, get, type TaskPod } from '../api.ts';
import { fmtDate } from '../format.ts';
import { explainPodReason } from '../pod-reasons.ts';

export function PodView({ path, live }: { path: string; live: boolean }) {
  const q = useQuery({
    queryKey: ['pods', path],
    queryFn: async () => {
      try {
        return (await get<{ pods: TaskPod[] }>(path)).pods;
      } catch (e) {
        if (e instanceof ApiError && e.status === 404) return [];
        throw e;
      }
    },
    refetchInterval: live ? 3000 : false,
  });
  if (!q.data?.length) return null;
  return (
    <section aria-labelledby="pod-title" className="panel">
      <h3 id="pod-title">Kubernetes pod{q.data.length > 1 ? 's' : ''}</h3>
      {q.data.map((p) => {
        const plain = explainPodReason(p.reason);
        return (
          <div key={p.podName} className="pod">
            <p>
              <code>
                {p.namespace}/{p.podName}
              </code>{' '}
              <span className="muted small">
                created {fmtDate(p.createdAt)}
                {p.podUid ? ` · uid ${p.podUid}` : ''}
              </span>
            </p>
            {p.reason && (
              <div className="reason" role="note">
                <strong>Why it failed: {p.reason}</strong>
                {plain && <p>{plain}</p>}
              </div>
            )}
            <h4>Events</h4>
            {p.events?.length ? (
              <table className="list small">
                <thead>
                  <tr>
                    <th scope="col">Type</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Message</th>
                    <th scope="col">Count</th>
                    <th scope="col">Last seen</th>
                  </tr>
                </thead>
                <tbody>
                  {p.events.map((e, i) => (
                    <tr key={i} className={e.type === 'Warning' ? 'warning' : undefined}>
                      <td>{e.type === 'Warning' ? '⚠ Warning' : (e.type ?? '')}</td>
                      <td>{e.reason}</td>
                      <td>{e.message}</td>
                      <td>{e.count ?? ''}</td>
                      <td>{fmtDate(e.lastTimestamp ?? e.firstTimestamp ?? null)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            ) : (
              <p className="muted">No events recorded.</p>
            )}
            <details>
              <summary>Pod spec as created (YAML)</summary>
              <pre className="yaml" tabIndex={0}>
                {stringify(p.spec)}
              </pre>
            </details>
          </div>
        );
      })}
    </section>
  );
}
