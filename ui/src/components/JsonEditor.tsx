// A JSON editor: a text area with validation as you type (the error names the line and column).
import { useId } from 'react';

/** The error of JSON text in plain words, with the line and column when the parser gives a position. */
function jsonError(text: string, e: unknown): string {
  const msg = (e as Error).message;
  const pos = /position (\d+)/.exec(msg);
  if (pos) {
    const before = text.slice(0, Number(pos[1]));
    const line = before.split('\n').length;
    const col = Number(pos[1]) - before.lastIndexOf('\n');
    return `Invalid JSON at line ${line}, column ${col}: ${msg.replace(/ in JSON at position \d+.*$/, '')}`;
  }
  return `Invalid JSON: ${msg}`;
}

/** Any JSON value; empty text is no value (`value` undefined, no error): the caller decides whether that is allowed. */
export function parseJson(text: string): { value: unknown; error: string | null } {
  if (!text.trim()) return { value: undefined, error: null };
  try {
    return { value: JSON.parse(text) as unknown, error: null };
  } catch (e) {
    // Bare text is the usual slip: say how to write it as JSON.
    const t = text.trim();
    const hint = /^[^{["\d\-]/.test(t) && !['true', 'false', 'null'].includes(t) ? ` (text needs double quotes: ${JSON.stringify(t.length > 40 ? `${t.slice(0, 40)}…` : t)})` : '';
    return { value: undefined, error: jsonError(text, e) + hint };
  }
}

export function parseJsonObject(text: string, what = 'conf'): { value: Record<string, unknown> | null; error: string | null } {
  if (!text.trim()) return { value: {}, error: null };
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { value: null, error: `${what} must be a JSON object, like {"key": "value"}` };
    return { value: v as Record<string, unknown>, error: null };
  } catch (e) {
    return { value: null, error: jsonError(text, e) };
  }
}

export function JsonEditor({ label, value, onChange, error, hint = 'Valid JSON object: merged over the DAG’s params.', rows = 8, placeholder }: { label: string; value: string; onChange: (v: string) => void; error: string | null; hint?: string; rows?: number; placeholder?: string }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className="code"
        rows={rows}
        placeholder={placeholder}
        spellCheck={false}
        value={value}
        aria-invalid={!!error}
        aria-describedby={`${id}-msg`}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={`${id}-msg`} className={error ? 'error' : 'muted small'} role={error ? 'alert' : undefined}>
        {error ?? hint}
      </p>
    </div>
  );
}
