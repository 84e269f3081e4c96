// The shell: login gate, header navigation, and the page for the current URL.
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { getToken, type Me, setToken, setUnauthorizedHandler, whoAmI } from './api.ts';
import { LoginForm, SessionContext } from './auth.tsx';
import { DagPage } from './pages/DagPage.tsx';
import { DagsPage } from './pages/DagsPage.tsx';
import { ConnectionsPage } from './pages/ConnectionsPage.tsx';
import { ImportErrorsPage } from './pages/ImportErrorsPage.tsx';
import { PoolsPage } from './pages/PoolsPage.tsx';
import { TaskInstancePage } from './pages/TaskInstancePage.tsx';
import { VariablesPage } from './pages/VariablesPage.tsx';
import { Link, match, Redirect, urls, useLocation } from './router.tsx';

function Page() {
  const { path, query } = useLocation();
  let m: Record<string, string> | null;
  if (path === '/' || path === '') return <Redirect to={urls.dags()} />;
  if (match('/dags', path)) return <DagsPage />;
  if ((m = match('/dags/:dagId', path))) return <DagPage dagId={m.dagId} runId={null} view={query.get('view') === 'graph' ? 'graph' : 'grid'} />;
  if ((m = match('/dags/:dagId/runs/:runId', path))) return <DagPage dagId={m.dagId} runId={m.runId} view={query.get('view') === 'graph' ? 'graph' : 'grid'} />;
  const mapIndex = Number(query.get('mapIndex') ?? -1);
  if ((m = match('/dags/:dagId/runs/:runId/tasks/:taskId', path))) return <TaskInstancePage dagId={m.dagId} runId={m.runId} taskId={m.taskId} mapIndex={mapIndex} tryNumber={null} />;
  if ((m = match('/dags/:dagId/runs/:runId/tasks/:taskId/tries/:tryNumber', path)))
    return <TaskInstancePage dagId={m.dagId} runId={m.runId} taskId={m.taskId} mapIndex={mapIndex} tryNumber={Number(m.tryNumber)} />;
  if (match('/pools', path)) return <PoolsPage />;
  if (match('/variables', path)) return <VariablesPage />;
  if (match('/connections', path)) return <ConnectionsPage />;
  if (match('/import-errors', path)) return <ImportErrorsPage />;
  return (
    <main>
      <h1>Page not found</h1>
      <p>
        Nothing is at <code>{path}</code>. <Link href={urls.dags()}>Go to the DAGs</Link>.
      </p>
    </main>
  );
}

export function App() {
  const qc = useQueryClient();
  const [me, setMe] = useState<Me | null>(null);
  const [checking, setChecking] = useState(true);
  const [notice, setNotice] = useState<string | null>(null);
  const { path } = useLocation();

  useEffect(() => {
    // A token kept from earlier in this tab (or none needed: api.auth none) logs in without the form.
    whoAmI(getToken())
      .then(setMe)
      .catch(() => setToken(null))
      .finally(() => setChecking(false));
    setUnauthorizedHandler(() => {
      setToken(null);
      setMe(null);
      setNotice('The server no longer accepts your token: log in again.');
      qc.clear();
    });
  }, [qc]);

  if (checking) return <p className="muted page-pad">Loading…</p>;
  if (!me)
    return (
      <LoginForm
        notice={notice}
        onLogin={(m) => {
          setNotice(null);
          setMe(m);
        }}
      />
    );
  const logout = () => {
    setToken(null);
    setMe(null);
    qc.clear();
  };
  const nav = [
    { href: urls.dags(), label: 'DAGs', active: path.startsWith('/dags') },
    { href: urls.pools(), label: 'Pools', active: path.startsWith('/pools') },
    { href: urls.variables(), label: 'Variables', active: path.startsWith('/variables') },
    { href: urls.connections(), label: 'Connections', active: path.startsWith('/connections') },
    { href: urls.importErrors(), label: 'Import errors', active: path.startsWith('/import-errors') },
  ];
  return (
    <SessionContext.Provider value={{ me, canWrite: me.role === 'admin', logout }}>
      <a className="skip" href="#content">
        Skip to content
      </a>
      <header className="top">
        <Link href={urls.dags()} className="brand">
          <span className="logo" aria-hidden="true">≋</span> Floe
        </Link>
        <nav aria-label="Main">
          <ul>
            {nav.map((n) => (
              <li key={n.href}>
                <Link href={n.href} aria-current={n.active ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="who">
          <span className="role" title={me.role === 'admin' ? 'This token may change things' : 'This token may only read'}>
            {me.auth === 'none' ? 'no auth' : me.role === 'admin' ? 'admin' : 'read-only'}
          </span>
          {me.auth !== 'none' && (
            <button type="button" onClick={logout}>
              Log out
            </button>
          )}
        </div>
      </header>
      <div id="content" tabIndex={-1}>
        <Page />
      </div>
    </SessionContext.Provider>
  );
}
