// Variables: key, JSON value (sensitive ones never shown), description; admins create, change and delete them.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, enc, get, type Variable } from '../api.ts';
import { useSession } from '../auth.tsx';
import { Confirm } from '../components/Confirm.tsx';
import { FormActions, TextField, useDelete, useFocusFirst } from '../components/Field.tsx';
import { JsonEditor, parseJson } from '../components/JsonEditor.tsx';
import { Loaded } from '../components/Query.tsx';
import { shortJson } from '../format.ts';

/** A value the page cannot show: sensitive (never returned) or not decryptable by this server. */
const hidden = (v: Variable) => v.sensitive || v.error !== undefined;

function VariableValue({ v }: { v: Variable }) {
  if (v.sensitive) return <span className="muted">*** (sensitive)</span>;
  if (v.error) return <span className="error">cannot be read: {v.error}</span>;
  const full = JSON.stringify(v.value);
  return (
    <code className="value" title={full.length > 80 ? full : undefined}>
      {shortJson(v.value)}
    </code>
  );
}

function VariableForm({ variable, onDone }: { variable: Variable | null; onDone: () => void }) {
  const qc = useQueryClient();
  const ref = useFocusFirst<HTMLFormElement>();
  const [key, setKey] = useState(variable?.key ?? '');
  // A hidden value is never put in the form: a new one must be typed.
  const [text, setText] = useState(variable && !hidden(variable) ? JSON.stringify(variable.value, null, 2) : '');
  const [description, setDescription] = useState(variable?.description ?? '');
  const { value, error } = parseJson(text);
  const m = useMutation({
    mutationFn: () => {
      const desc = description.trim() ? description : null;
      return variable ? api<Variable>('PATCH', `/variables/${enc(variable.key)}`, { value, description: desc }) : api<Variable>('POST', '/variables', { key: key.trim(), value, description: desc });
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['variables'] });
      onDone();
    },
  });
  const ready = value !== undefined && !!key.trim();
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ready) m.mutate();
  };
  const hint = variable && hidden(variable)
    ? `The current value is not shown (${variable.sensitive ? 'sensitive' : 'this server cannot decrypt it'}). Type the new value as JSON, e.g. "s3cr3t" with the quotes; saving replaces it.`
    : 'Any JSON value: "text" (with the quotes), 42, true, {"rows": 100}, [1, 2].';
  return (
    <form ref={ref} className="edit-form" onSubmit={submit} aria-label={variable ? `Edit variable ${variable.key}` : 'New variable'}>
      <h2>{variable ? `Edit variable ${variable.key}` : 'New variable'}</h2>
      {!variable && (
        <TextField
          id="var-key"
          label="Key"
          required
          autoComplete="off"
          value={key}
          onChange={(e) => setKey(e.target.value)}
          hint="Letters, digits, _ . - only. A key that looks sensitive (password, secret, token, api_key, …) is stored encrypted and its value is never shown again."
        />
      )}
      <JsonEditor label="Value (JSON)" value={text} onChange={setText} error={error} hint={hint} rows={4} />
      <TextField id="var-desc" label="Description" value={description} onChange={(e) => setDescription(e.target.value)} />
      <FormActions error={m.error} errorPrefix="Not saved: " saving={m.isPending} canSave={ready} onCancel={onDone} />
    </form>
  );
}

export function VariablesPage() {
  const { canWrite } = useSession();
  // null: no form; '': the new-variable form; a key: that variable's form.
  const [editing, setEditing] = useState<string | null>(null);
  const q = useQuery({ queryKey: ['variables'], queryFn: () => get<{ variables: Variable[]; totalEntries: number }>('/variables?limit=1000'), refetchInterval: 10_000 });
  const { deleting, setDeleting, del } = useDelete('variables', (id) => `/variables/${enc(id)}`);
  const editedVar = editing ? q.data?.variables.find((v) => v.key === editing) : undefined;
  return (
    <main>
      <div className="title-row">
        <h1>Variables</h1>
        {canWrite && editing !== '' && (
          <button type="button" className="primary" onClick={() => setEditing('')}>
            + New variable
          </button>
        )}
      </div>
      <p className="muted">
        Values tasks read by key (JSON), as stored in the metadata database; one set in the environment (<code>FLOE_VAR_…</code>) or a Kubernetes Secret is not listed and wins over these. Values of sensitive
        variables are stored encrypted and never shown.
      </p>
      {canWrite && editing === '' && <VariableForm key="new" variable={null} onDone={() => setEditing(null)} />}
      {canWrite && editedVar && <VariableForm key={editedVar.key} variable={editedVar} onDone={() => setEditing(null)} />}
      <Loaded q={q} what="the variables">
        {(d) =>
          d.variables.length === 0 ? (
            <p>No variables yet.</p>
          ) : (
            <>
              {d.totalEntries > d.variables.length && (
                <p className="notice">
                  Showing the first {d.variables.length} of {d.totalEntries} variables (by key).
                </p>
              )}
              <table className="list">
                <thead>
                  <tr>
                    <th scope="col">Key</th>
                    <th scope="col">Value</th>
                    <th scope="col">Description</th>
                    {canWrite && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.variables.map((v) => (
                    <tr key={v.key} className={editing === v.key ? 'selected' : undefined}>
                      <th scope="row">{v.key}</th>
                      <td>
                        <VariableValue v={v} />
                      </td>
                      <td>{v.description}</td>
                      {canWrite && (
                        <td>
                          <div className="actions">
                            <button type="button" onClick={() => setEditing(v.key)} aria-label={`Edit variable ${v.key}`}>
                              Edit
                            </button>
                            <button type="button" className="danger-outline" onClick={() => setDeleting(v.key)} aria-label={`Delete variable ${v.key}`}>
                              Delete
                            </button>
                          </div>
                        </td>
                      )}
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </Loaded>
      <Confirm
        open={deleting !== null}
        title={`Delete variable ${deleting}?`}
        confirmLabel="Delete"
        danger
        busy={del.isPending}
        error={del.error?.message}
        onCancel={() => {
          setDeleting(null);
          del.reset();
        }}
        onConfirm={() => deleting && del.mutate(deleting)}
      >
        <p>Tasks that read it from now on get their default, or fail without one (unless the environment or a Kubernetes Secret sets it).</p>
      </Confirm>
    </main>
  );
}
