// Loading and error states of a query, the same everywhere.
import type { UseQueryResult } from '@tanstack/react-query';
import type { ReactNode } from 'react';

export function Loaded<T>({ q, children, what }: { q: UseQueryResult<T>; children: (data: T) => ReactNode; what: string }) {
  if (q.isPending) return <p className="muted">Loading {what}…</p>;
  if (q.isError)
    return (
      <p role="alert" className="error">
        Could not load {what}: {q.error.message}
      </p>
    );
  return <>{children(q.data)}</>;
}
