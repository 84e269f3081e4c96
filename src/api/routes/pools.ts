// /api/v1/pools: list, get, create or resize (PUT), delete.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { deletePool, getPool, listPools, poolUsage, setPool } from '../../core-queries/pools.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../problem.ts';
import { poolJson } from '../serialize.ts';
import { idText, pageQuery, parseInput } from '../validate.ts';

const nameParams = z.object({ name: idText('pool name', 256) });

export function poolRoutes(app: FastifyInstance, ctx: ApiContext): void {
  app.get('/pools', async (req) => {
    const q = parseInput(z.object(pageQuery).strict(), req.query, 'query');
    const { rows, total } = await listPools(ctx.db.kysely, q);
    const usage = await poolUsage(ctx.db.kysely, rows.map((p) => p.name));
    return { pools: rows.map((p) => poolJson(p, usage.get(p.name))), totalEntries: total };
  });

  async function one(name: string) {
    const p = await getPool(ctx.db.kysely, name);
    if (!p) throw new ApiError(404, `no pool "${name}"`);
    return poolJson(p, (await poolUsage(ctx.db.kysely, [name])).get(name));
  }

  app.get('/pools/:name', async (req) => one(parseInput(nameParams, req.params, 'path').name));

  const putBody = z
    .object({
      slots: z.number({ error: 'expected a whole number of slots' }).int('expected a whole number of slots').min(0, 'expected 0 or more').max(1_000_000_000),
      /** Omitted: kept as it is; null: cleared. */
      description: z.string().max(10_000).nullable().optional(),
    })
    .strict();
  app.put('/pools/:name', async (req, reply) => {
    const { name } = parseInput(nameParams, req.params, 'path');
    const body = parseInput(putBody, req.body, 'body');
    const { created } = await setPool(ctx.db.kysely, name, body.slots, body.description);
    req.log.info({ pool: name, slots: body.slots, by: req.principal?.source }, created ? 'pool created' : 'pool changed');
    return reply.code(created ? 201 : 200).send(await one(name));
  });

  app.delete('/pools/:name', async (req, reply) => {
    const { name } = parseInput(nameParams, req.params, 'path');
    await deletePool(ctx.db.kysely, name);
    req.log.info({ pool: name, by: req.principal?.source }, 'pool deleted');
    return reply.code(204).send();
  });
}
