// Pools: usage (queued and running slots against the size), resize, create, delete.
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { api, enc, get, type Pool } from '../api.ts';
import { useSession } from '../auth.tsx';
import { Confirm } from '../components/Confirm.tsx';
import { FormActions, useDelete } from '../components/Field.tsx';
import { Loaded } from '../components/Query.tsx';

function PoolForm({ pool, onDone }: { pool: Pool | null; onDone: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(pool?.name ?? '');
  const [slots, setSlots] = useState(String(pool?.slots ?? 8));
  const [description, setDescription] = useState(pool?.description ?? '');
  const m = useMutation({
    mutationFn: () => api<Pool>('PUT', `/pools/${enc(name.trim())}`, { slots: Number(slots), description: description.trim() ? description : null }),
    onSuccess: () => {
      void qc.invalidateQueries({ queryKey: ['pools'] });
      onDone();
    },
  });
  const slotsOk = /^\d+$/.test(slots.trim());
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (slotsOk && name.trim()) m.mutate();
  };
  return (
    <form className="pool-form" onSubmit={submit} aria-label={pool ? `Edit pool ${pool.name}` : 'New pool'}>
      {!pool && (
        <div className="field">
          <label htmlFor="pool-name">Name</label>
          <input id="pool-name" required value={name} onChange={(e) => setName(e.target.value)} />
        </div>
      )}
      <div className="field">
        <label htmlFor={`slots-${pool?.name ?? 'new'}`}>Slots</label>
        <input id={`slots-${pool?.name ?? 'new'}`} inputMode="numeric" value={slots} aria-invalid={!slotsOk} onChange={(e) => setSlots(e.target.value)} />
        {!slotsOk && <p className="error">A whole number, 0 or more.</p>}
      </div>
      <div className="field">
        <label htmlFor={`desc-${pool?.name ?? 'new'}`}>Description</label>
        <input id={`desc-${pool?.name ?? 'new'}`} value={description} onChange={(e) => setDescription(e.target.value)} />
      </div>
      <FormActions error={m.error} saving={m.isPending} canSave={slotsOk} onCancel={onDone} />
    </form>
  );
}

export function PoolsPage() {
  const { canWrite } = useSession();
  const [editing, setEditing] = useState<string | null>(null);
  const q = useQuery({ queryKey: ['pools'], queryFn: () => get<{ pools: Pool[] }>('/pools?limit=1000'), refetchInterval: 3000 });
  const { deleting, setDeleting, del } = useDelete('pools', (id) => `/pools/${enc(id)}`);
  return (
    <main>
      <div className="title-row">
        <h1>Pools</h1>
        {canWrite && editing !== '' && (
          <button type="button" className="primary" onClick={() => setEditing('')}>
            + New pool
          </button>
        )}
      </div>
      <p className="muted">A pool limits how many tries of the tasks that name it hold a slot at once (queued or running).</p>
      {editing === '' && <PoolForm pool={null} onDone={() => setEditing(null)} />}
      <Loaded q={q} what="the pools">
        {(d) => (
          <table className="list">
            <thead>
              <tr>
                <th scope="col">Pool</th>
                <th scope="col">Usage</th>
                <th scope="col">Running</th>
                <th scope="col">Queued</th>
                <th scope="col">Open</th>
                <th scope="col">Slots</th>
                <th scope="col">Description</th>
                {canWrite && <th scope="col">Actions</th>}
              </tr>
            </thead>
            <tbody>
              {d.pools.map((p) => (
                <tr key={p.name}>
                  <th scope="row">{p.name}</th>
                  <td>
                    <meter min={0} max={Math.max(1, p.slots)} value={Math.min(p.occupiedSlots, Math.max(1, p.slots))} aria-label={`${p.name}: ${p.occupiedSlots} of ${p.slots} slots in use`} />{' '}
                    {p.occupiedSlots}/{p.slots}
                  </td>
                  <td>{p.runningSlots}</td>
                  <td>{p.queuedSlots}</td>
                  <td>{p.openSlots}</td>
                  <td>{editing === p.name ? <PoolForm pool={p} onDone={() => setEditing(null)} /> : p.slots}</td>
                  <td>{p.description}</td>
                  {canWrite && (
                    <td>
                      <div className="actions">
                        <button type="button" onClick={() => setEditing(p.name)} aria-label={`Edit pool ${p.name}`}>
                          Edit
                        </button>
                        {p.name !== 'default_pool' && (
                          <button type="button" className="danger-outline" onClick={() => setDeleting(p.name)} aria-label={`Delete pool ${p.name}`}>
                            Delete
                          </button>
                        )}
                      </div>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Loaded>
      <Confirm open={deleting !== null} title={`Delete pool ${deleting}?`} confirmLabel="Delete" danger busy={del.isPending} error={del.error?.message} onCancel={() => setDeleting(null)} onConfirm={() => deleting && del.mutate(deleting)}>
        <p>Tries already queued or running finish; tasks that name this pool wait until it exists again.</p>
      </Confirm>
    </main>
  );
}
