// A small History-API router: real URLs for every page (deep links, back/forward), no extra dependency.
import { type AnchorHTMLAttributes, type MouseEvent, useEffect, useState } from 'react';

export interface Location {
  path: string;
  query: URLSearchParams;
}

const read = (): Location => ({ path: window.location.pathname, query: new URLSearchParams(window.location.search) });
const listeners = new Set<() => void>();

export function navigate(to: string, o: { replace?: boolean } = {}): void {
  if (o.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  for (const l of listeners) l();
  if (!o.replace) window.scrollTo(0, 0);
}

export function useLocation(): Location {
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const update = () => setLoc(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    // A child's effect (a Redirect) may have navigated before this effect subscribed: catch up.
    update();
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return loc;
}

/** A link that navigates without reloading (ctrl/cmd/middle click still open a new tab). */
export function Link({ href, onClick, ...rest }: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return (
    <a
      href={href}
      onClick={(e: MouseEvent<HTMLAnchorElement>) => {
        onClick?.(e);
        if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
        e.preventDefault();
        navigate(href);
      }}
      {...rest}
    />
  );
}

/** Matches `/dags/:dagId/runs/:runId` style patterns; params are decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split('/').filter(Boolean);
  const s = path.split('/').filter(Boolean);
  if (p.length !== s.length) return null;
  const out: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    if (p[i].startsWith(':')) out[p[i].slice(1)] = decodeURIComponent(s[i]);
    else if (p[i] !== s[i]) return null;
  }
  return out;
}

const e = encodeURIComponent;
export const urls = {
  dags: () => '/dags',
  dag: (dagId: string, view?: 'graph') => `/dags/${e(dagId)}${view ? `?view=${view}` : ''}`,
  run: (dagId: string, runId: string, view?: 'graph') => `/dags/${e(dagId)}/runs/${e(runId)}${view ? `?view=${view}` : ''}`,
  ti: (dagId: string, runId: string, taskId: string, mapIndex = -1) => `/dags/${e(dagId)}/runs/${e(runId)}/tasks/${e(taskId)}${mapIndex >= 0 ? `?mapIndex=${mapIndex}` : ''}`,
  tryOf: (dagId: string, runId: string, taskId: string, tryNumber: number, mapIndex = -1) =>
    `/dags/${e(dagId)}/runs/${e(runId)}/tasks/${e(taskId)}/tries/${tryNumber}${mapIndex >= 0 ? `?mapIndex=${mapIndex}` : ''}`,
  pools: () => '/pools',
  variables: () => '/variables',
  connections: () => '/connections',
  importErrors: () => '/import-errors',
};

export function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}
