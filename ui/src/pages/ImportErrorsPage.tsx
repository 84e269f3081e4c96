import { useQuery } from '@tanstack/react-query';
import { get, type ImportError } from '../api.ts';
import { Loaded } from '../components/Query.tsx';
import { fmtDate } from '../format.ts';

export function ImportErrorsPage() {
  const q = useQuery({ queryKey: ['importErrors', 'all'], queryFn: () => get<{ importErrors: ImportError[] }>('/importErrors?limit=1000'), refetchInterval: 10_000 });
  return (
    <main>
      <h1>Import errors</h1>
      <p className="muted">DAG files as the DAG processor last parsed them. Errors stop a file's DAGs from loading (their last good version stays); warnings do not.</p>
      <Loaded q={q} what="the import errors">
        {(d) =>
          d.importErrors.length === 0 ? (
            <p>Every DAG file imported cleanly.</p>
          ) : (
            <ul className="errors">
              {d.importErrors.map((e) => (
                <li key={e.id} className={e.kind}>
                  <strong>{e.kind}</strong>{' '}
                  <code>
                    {e.fileloc}
                    {e.line ? `:${e.line}` : ''}
                  </code>
                  {e.dagId && <> · DAG {e.dagId}</>}
                  {e.taskId && <> · task {e.taskId}</>} <span className="muted">· {fmtDate(e.timestamp)}</span>
                  <pre>{e.message}</pre>
                </li>
              ))}
            </ul>
          )
        }
      </Loaded>
    </main>
  );
}
