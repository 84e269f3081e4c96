// Small pieces shared by the admin pages (pools, variables, connections).
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type InputHTMLAttributes, type ReactNode, type RefObject, useEffect, useRef, useState } from 'react';
import { api } from '../api.ts';

/** A labelled input with an optional hint under it (tied to the input for screen readers). */
export function TextField({ id, label, hint, ...input }: { id: string; label: string; hint?: ReactNode } & InputHTMLAttributes<HTMLInputElement>) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} aria-describedby={hint ? `${id}-hint` : undefined} {...input} />
      {hint && (
        <p id={`${id}-hint`} className="muted small">
          {hint}
        </p>
      )}
    </div>
  );
}

/** Focuses a form's first field when it opens (which also scrolls it into view). */
export function useFocusFirst<T extends HTMLElement>(): RefObject<T | null> {
  const ref = useRef<T>(null);
  useEffect(() => ref.current?.querySelector<HTMLElement>('input:not([disabled]), textarea')?.focus(), []);
  return ref;
}

/** A form's last lines: the server's refusal, if any (`errorPrefix` before it), then Save and Cancel. */
export function FormActions({ error, errorPrefix = '', saving, canSave, onCancel }: { error: Error | null; errorPrefix?: string; saving: boolean; canSave: boolean; onCancel: () => void }) {
  return (
    <>
      {error && (
        <p role="alert" className="error">
          {errorPrefix}
          {error.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" className="primary" disabled={saving || !canSave}>
          Save
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </>
  );
}

/**
 * An admin list's delete: the item asked about (`deleting`, for the confirmation) and the mutation that deletes
 * it at `path(id)`, refreshing the list (`queryKey`) and closing the confirmation when it succeeds.
 */
export function useDelete(queryKey: string, path: (id: string) => string) {
  const qc = useQueryClient();
  const [deleting, setDeleting] = useState<string | null>(null);
  const del = useMutation({
    mutationFn: (id: string) => api('DELETE', path(id)),
    onSuccess: () => {
      setDeleting(null);
      void qc.invalidateQueries({ queryKey: [queryKey] });
    },
  });
  return { deleting, setDeleting, del };
}
