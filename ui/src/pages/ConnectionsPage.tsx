// Connections: id, type, host, port, login, schema, whether a password is set, extra (sensitive fields masked by
// the API); admins add, change and delete them. The password is never shown: an empty password field keeps it.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, type Connection, enc, get } from '../api.ts';
import { useSession } from '../auth.tsx';
import { Confirm } from '../components/Confirm.tsx';
import { FormActions, TextField, useDelete, useFocusFirst } from '../components/Field.tsx';
import { JsonEditor, parseJsonObject } from '../components/JsonEditor.tsx';
import { Loaded } from '../components/Query.tsx';
import { shortJson } from '../format.ts';

/** How the API shows a sensitive extra field. */
const MASK = '***';

type TextFields = 'connType' | 'host' | 'port' | 'login' | 'schema' | 'description';
const orNull = (s: string) => (s.trim() ? s.trim() : null);

/** Extra fields still holding the mask the API sent: saving them would store `***` in place of the secret. */
function maskedLeft(original: Record<string, unknown> | null, edited: Record<string, unknown>): string[] {
  return Object.entries(edited)
    .filter(([k, v]) => v === MASK && original?.[k] === MASK)
    .map(([k]) => k);
}

function ConnectionForm({ conn, onDone }: { conn: Connection | null; onDone: () => void }) {
  const qc = useQueryClient();
  const ref = useFocusFirst<HTMLFormElement>();
  const [connectionId, setConnectionId] = useState(conn?.connectionId ?? '');
  const [f, setF] = useState<Record<TextFields, string>>({
    connType: conn?.connType ?? '',
    host: conn?.host ?? '',
    port: conn?.port === null || conn?.port === undefined ? '' : String(conn.port),
    login: conn?.login ?? '',
    schema: conn?.schema ?? '',
    description: conn?.description ?? '',
  });
  const [password, setPassword] = useState('');
  const [removePassword, setRemovePassword] = useState(false);
  const initialExtra = conn?.extra ? JSON.stringify(conn.extra, null, 2) : '';
  const [extraText, setExtraText] = useState(initialExtra);
  const extraChanged = extraText !== initialExtra;
  const extra = parseJsonObject(extraText, 'extra');
  const masked = conn && extraChanged && extra.value ? maskedLeft(conn.extra, extra.value) : [];
  const extraError = extra.error ?? (masked.length ? `${masked.join(', ')} ${masked.length > 1 ? 'are' : 'is'} hidden (${MASK}): type the real value, remove the field, or leave the extra as it was.` : null);
  const portOk = /^\d{0,5}$/.test(f.port.trim()) && Number(f.port.trim() || 0) <= 65535;
  const set = (k: TextFields) => (e: { target: { value: string } }) => setF({ ...f, [k]: e.target.value });

  const m = useMutation({
    mutationFn: () => {
      const fields = { connType: f.connType.trim(), host: orNull(f.host), port: f.port.trim() ? Number(f.port.trim()) : null, login: orNull(f.login), schema: orNull(f.schema), description: orNull(f.description) };
      const extraValue = extra.value && Object.keys(extra.value).length ? extra.value : null;
      if (!conn) return api<Connection>('POST', '/connections', { connectionId: connectionId.trim(), ...fields, ...(password ? { password } : {}), ...(extraValue ? { extra: extraValue } : {}) });
      // PATCH keeps what is not sent: the password unless one is typed (or removal asked), the extra unless edited.
      return api<Connection>('PATCH', `/connections/${enc(conn.connectionId)}`, {
        ...fields,
        ...(removePassword ? { password: null } : password ? { password } : {}),
        ...(extraChanged ? { extra: extraValue } : {}),
      });
    },
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['connections'] });
      onDone();
    },
  });
  const ready = !!connectionId.trim() && !!f.connType.trim() && portOk && !extraError;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (ready) m.mutate();
  };
  const passwordHint = !conn
    ? 'Stored encrypted; never shown again. Leave empty for none.'
    : conn.hasPassword
      ? 'A password is set. Leave this empty to keep it; type a new one to replace it.'
      : 'No password is set. Leave this empty for none.';
  return (
    <form ref={ref} className="edit-form" onSubmit={submit} aria-label={conn ? `Edit connection ${conn.connectionId}` : 'New connection'}>
      <h2>{conn ? `Edit connection ${conn.connectionId}` : 'New connection'}</h2>
      {!conn && <TextField id="conn-id" label="Connection id" required autoComplete="off" value={connectionId} onChange={(e) => setConnectionId(e.target.value)} hint="Letters, digits, _ . - only." />}
      <TextField id="conn-type" label="Type" required autoComplete="off" value={f.connType} onChange={set('connType')} hint="postgres, mysql, http, aws, …" />
      <TextField id="conn-host" label="Host" autoComplete="off" value={f.host} onChange={set('host')} />
      <TextField id="conn-port" label="Port" inputMode="numeric" autoComplete="off" value={f.port} onChange={set('port')} aria-invalid={!portOk} hint={portOk ? undefined : 'A port number from 0 to 65535, or empty.'} />
      <TextField id="conn-login" label="Login" autoComplete="off" value={f.login} onChange={set('login')} />
      <TextField id="conn-password" label="Password" type="password" autoComplete="new-password" value={password} disabled={removePassword} onChange={(e) => setPassword(e.target.value)} hint={passwordHint} />
      {conn?.hasPassword && (
        <label className="switch">
          <input type="checkbox" checked={removePassword} onChange={(e) => setRemovePassword(e.target.checked)} /> Remove the password
        </label>
      )}
      <TextField id="conn-schema" label="Schema" autoComplete="off" value={f.schema} onChange={set('schema')} />
      <JsonEditor
        label="Extra (JSON object)"
        value={extraText}
        onChange={setExtraText}
        error={extraError}
        rows={4}
        placeholder='{"sslmode": "require"}'
        hint={conn?.extra && Object.values(conn.extra).includes(MASK) ? `Fields shown as ${MASK} are secret and kept while the extra is left as it is.` : 'Optional; a JSON object. Fields whose names look sensitive are stored encrypted and shown as ***.'}
      />
      <TextField id="conn-desc" label="Description" value={f.description} onChange={set('description')} />
      <FormActions error={m.error} errorPrefix="Not saved: " saving={m.isPending} canSave={ready} onCancel={onDone} />
    </form>
  );
}

const dash = (v: string | number | null) => (v === null || v === '' ? <span className="muted">—</span> : v);

function ConnectionRow({ c, canWrite, selected, onEdit, onDelete }: { c: Connection; canWrite: boolean; selected: boolean; onEdit: () => void; onDelete: () => void }) {
  return (
    <tr className={selected ? 'selected' : undefined}>
      <th scope="row">
        {c.connectionId}
        {c.description && <span className="muted small block">{c.description}</span>}
      </th>
      <td>{c.connType}</td>
      <td>{dash(c.host)}</td>
      <td>{dash(c.port)}</td>
      <td>{dash(c.login)}</td>
      <td>{dash(c.schema)}</td>
      <td>{c.hasPassword ? 'yes' : 'no'}</td>
      <td>
        {c.error ? (
          <span className="error">cannot be read: {c.error}</span>
        ) : c.extra ? (
          <code className="value" title={JSON.stringify(c.extra)}>
            {shortJson(c.extra)}
          </code>
        ) : (
          dash(null)
        )}
      </td>
      {canWrite && (
        <td>
          <div className="actions">
            <button type="button" onClick={onEdit} aria-label={`Edit connection ${c.connectionId}`}>
              Edit
            </button>
            <button type="button" className="danger-outline" onClick={onDelete} aria-label={`Delete connection ${c.connectionId}`}>
              Delete
            </button>
          </div>
        </td>
      )}
    </tr>
  );
}

export function ConnectionsPage() {
  const { canWrite } = useSession();
  // null: no form; '': the new-connection form; an id: that connection's form.
  const [editing, setEditing] = useState<string | null>(null);
  const q = useQuery({ queryKey: ['connections'], queryFn: () => get<{ connections: Connection[]; totalEntries: number }>('/connections?limit=1000'), refetchInterval: 10_000 });
  const { deleting, setDeleting, del } = useDelete('connections', (id) => `/connections/${enc(id)}`);
  const edited = editing ? q.data?.connections.find((c) => c.connectionId === editing) : undefined;
  return (
    <main>
      <div className="title-row">
        <h1>Connections</h1>
        {canWrite && editing !== '' && (
          <button type="button" className="primary" onClick={() => setEditing('')}>
            + New connection
          </button>
        )}
      </div>
      <p className="muted">
        How tasks reach other systems, by connection id, as stored in the metadata database; one set in the environment (<code>FLOE_CONN_…</code>) or a Kubernetes Secret is not listed and wins over these.
        Passwords are stored encrypted and never shown.
      </p>
      {canWrite && editing === '' && <ConnectionForm key="new" conn={null} onDone={() => setEditing(null)} />}
      {canWrite && edited && <ConnectionForm key={edited.connectionId} conn={edited} onDone={() => setEditing(null)} />}
      <Loaded q={q} what="the connections">
        {(d) =>
          d.connections.length === 0 ? (
            <p>No connections yet.</p>
          ) : (
            <>
              {d.totalEntries > d.connections.length && (
                <p className="notice">
                  Showing the first {d.connections.length} of {d.totalEntries} connections (by id).
                </p>
              )}
              <table className="list">
                <thead>
                  <tr>
                    <th scope="col">Connection</th>
                    <th scope="col">Type</th>
                    <th scope="col">Host</th>
                    <th scope="col">Port</th>
                    <th scope="col">Login</th>
                    <th scope="col">Schema</th>
                    <th scope="col">Password set</th>
                    <th scope="col">Extra</th>
                    {canWrite && <th scope="col">Actions</th>}
                  </tr>
                </thead>
                <tbody>
                  {d.connections.map((c) => (
                    <ConnectionRow key={c.connectionId} c={c} canWrite={canWrite} selected={editing === c.connectionId} onEdit={() => setEditing(c.connectionId)} onDelete={() => setDeleting(c.connectionId)} />
                  ))}
                </tbody>
              </table>
            </>
          )
        }
      </Loaded>
      <Confirm
        open={deleting !== null}
        title={`Delete connection ${deleting}?`}
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
        <p>Its password and extra are deleted too. Tasks that use it fail from now on (unless the environment or a Kubernetes Secret defines it).</p>
      </Confirm>
    </main>
  );
}
