// A JSON object editor: a text area with validation as you type (the error names the line and column).
import { useId } from 'react';

export function parseJsonObject(text: string): { value: Record<string, unknown> | null; error: string | null } {
  if (!text.trim()) return { value: {}, error: null };
  try {
    const v = JSON.parse(text) as unknown;
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return { value: null, error: 'conf must be a JSON object, like {"key": "value"}' };
    return { value: v as Record<string, unknown>, error: null };
  } catch (e) {
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    if (pos) {
      const before = text.slice(0, Number(pos[1]));
      const line = before.split('\n').length;
      const col = Number(pos[1]) - before.lastIndexOf('\n');
      return { value: null, error: `Invalid JSON at line ${line}, column ${col}: ${msg.replace(/ in JSON at position \d+.*$/, '')}` };
    }
    return { value: null, error: `Invalid JSON: ${msg}` };
  }
}

export function JsonEditor({ label, value, onChange, error }: { label: string; value: string; onChange: (v: string) => void; error: string | null }) {
  const id = useId();
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        className="code"
        rows={8}
        spellCheck={false}
        value={value}
        aria-invalid={!!error}
        aria-describedby={`${id}-msg`}
        onChange={(e) => onChange(e.target.value)}
      />
      <p id={`${id}-msg`} className={error ? 'error' : 'muted small'} role={error ? 'alert' : undefined}>
        {error ?? 'Valid JSON object: merged over the DAG’s params.'}
      </p>
    </div>
  );
}
