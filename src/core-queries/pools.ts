// Pools: list, set, delete, and how many slots their queued and running tries hold. Shared by `floe pools …` and the API.
import type { Kysely } from 'kysely';
import type { Database, PoolTable } from '../db/schema.ts';
import { applyPage } from './dags.ts';
import { invalid, notFound } from './errors.ts';
import type { Page, Paged } from './page.ts';

type Db = Kysely<Database>;

export const DEFAULT_POOL = 'default_pool';

export async function listPools(db: Db, page: Page = {}): Promise<Paged<PoolTable>> {
  const [rows, total] = await Promise.all([
    applyPage(db.selectFrom('pool').selectAll().orderBy('name'), page).execute(),
    db.selectFrom('pool').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { rows, total: Number(total.n) };
}

export async function getPool(db: Db, name: string): Promise<PoolTable | null> {
  return (await db.selectFrom('pool').selectAll().where('name', '=', name).executeTakeFirst()) ?? null;
}

export interface PoolUsage {
  queued: number;
  running: number;
}

/** Slots held by queued and running tries, per pool (pools without any are absent). */
export async function poolUsage(db: Db, names: string[]): Promise<Map<string, PoolUsage>> {
  const out = new Map<string, PoolUsage>();
  if (!names.length) return out;
  const rows = await db
    .selectFrom('task_instance')
    .select(['pool', 'state', (eb) => eb.fn.sum<number>('pool_slots').as('n')])
    .where('state', 'in', ['queued', 'running'])
    .where('pool', 'in', names)
    .groupBy(['pool', 'state'])
    .execute();
  for (const r of rows) {
    const u = out.get(r.pool) ?? { queued: 0, running: 0 };
    u[r.state as keyof PoolUsage] = Number(r.n);
    out.set(r.pool, u);
  }
  return out;
}

/**
 * Creates a pool or changes its slots; `description` undefined keeps the current one (null clears it).
 * Returns whether the pool was created.
 */
export async function setPool(db: Db, name: string, slots: number, description?: string | null): Promise<{ created: boolean }> {
  if (!Number.isInteger(slots) || slots < 0) throw invalid('slots: expected 0 or more');
  const existed = !!(await getPool(db, name));
  await db
    .insertInto('pool')
    .values({ name, slots, description: description ?? null })
    .onConflict((oc) => oc.column('name').doUpdateSet({ slots, ...(description !== undefined ? { description } : {}) }))
    .execute();
  return { created: !existed };
}

/** Deletes a pool; tasks that name it wait (the scheduler warns) until it exists again. default_pool stays. */
export async function deletePool(db: Db, name: string): Promise<void> {
  if (name === DEFAULT_POOL) throw invalid(`${DEFAULT_POOL} cannot be deleted (set its slots instead)`);
  const r = await db.deleteFrom('pool').where('name', '=', name).executeTakeFirst();
  if (Number(r.numDeletedRows) !== 1) throw notFound(`no pool "${name}"`);
}
