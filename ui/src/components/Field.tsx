// Small pieces shared by the admin forms (variables, connections).
import { type InputHTMLAttributes, type ReactNode, type RefObject, useEffect, useRef } from 'react';

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
