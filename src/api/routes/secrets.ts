// /api/v1/variables and /api/v1/connections, as Airflow's stable API has them (camelCase). Connection passwords
// are never returned (only `hasPassword`), nor the values of sensitive variables (`value: null`,
// `sensitive: true`) or sensitive extra fields (`***`): a read token must not be a way to the credentials. Error
// details never contain a password.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { addConnection, type ConnectionPatch, type ConnectionSummary, deleteConnection, getConnectionSummary, listConnections, updateConnection } from '../../core-queries/connections.ts';
import { asQueryError, deleteVariable, getVariable, listVariables, setVariable, type VariableRecord } from '../../core-queries/variables.ts';
import { type ConnectionFields, connectionFromFields, type FieldLabel, parseConnectionUri } from '../../secrets/connection.ts';
import { isSensitiveName, MASK } from '../../secrets/masker.ts';
import { storeOptions } from '../../secrets/settings.ts';
import type { ApiContext } from '../context.ts';
import { ApiError } from '../problem.ts';
import { idText, pageQuery, parseInput } from '../validate.ts';

const keyParams = z.object({ key: idText('variable key') });
const connParams = z.object({ connectionId: idText('connection id') });
const bodyLabel: FieldLabel = (f) => `body.${f}`;

function variableJson(v: VariableRecord) {
  return {
    key: v.key,
    value: v.sensitive || v.error ? null : v.value,
    description: v.description,
    sensitive: v.sensitive,
    encrypted: v.encrypted,
    ...(v.error ? { error: v.error } : {}),
    createdAt: v.createdAt,
    updatedAt: v.updatedAt,
  };
}

/** Extra fields whose names look sensitive are shown as `***`. */
function redactExtra(extra: Record<string, unknown> | null | undefined, names: readonly string[]): Record<string, unknown> | null {
  if (!extra) return null;
  return Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, isSensitiveName(k, names) ? MASK : v]));
}

function connectionJson(c: ConnectionSummary, names: readonly string[]) {
  return {
    connectionId: c.connId,
    connType: c.connType,
    description: c.description,
    host: c.host,
    port: c.port,
    login: c.login,
    schema: c.schema,
    extra: redactExtra(c.extra, names),
    hasPassword: c.hasPassword,
    encrypted: c.encrypted,
    ...(c.error ? { error: c.error } : {}),
  };
}

/** A password or URI must be text; said without echoing what was sent. */
function secretText(v: unknown, field: string): string | null | undefined {
  if (v === undefined || v === null || typeof v === 'string') return v;
  throw new ApiError(400, `body.${field}: expected a string${field === 'password' ? ' or null' : ''}`);
}

export function secretsRoutes(app: FastifyInstance, ctx: ApiContext): void {
  const o = () => storeOptions(ctx.cfg);
  const names = () => ctx.cfg.secrets.sensitiveNames;

  app.get('/variables', async (req) => {
    const q = parseInput(z.object(pageQuery).strict(), req.query, 'query');
    const { rows, total } = await listVariables(ctx.db.kysely, o(), q);
    return { variables: rows.map(variableJson), totalEntries: total };
  });

  async function oneVariable(key: string) {
    const rows = await ctx.db.kysely.selectFrom('variable').selectAll().where('key', '=', key).executeTakeFirst();
    if (!rows) throw new ApiError(404, `no variable "${key}"`);
    // A sensitive value is not returned, so it need not decrypt here.
    if (isSensitiveName(key, names()))
      return variableJson({ key, value: null, description: rows.description, sensitive: true, encrypted: rows.is_encrypted === 1, createdAt: rows.created_at, updatedAt: rows.updated_at });
    return variableJson((await getVariable(ctx.db.kysely, o(), key))!);
  }

  app.get('/variables/:key', async (req) => oneVariable(parseInput(keyParams, req.params, 'path').key));

  const postVariable = z.object({ key: idText('variable key'), value: z.unknown().optional(), description: z.string().max(10_000).nullable().optional() }).strict();
  app.post('/variables', async (req, reply) => {
    const body = parseInput(postVariable, req.body, 'body');
    if (body.value === undefined) throw new ApiError(400, 'body.value: expected a JSON value');
    if (await ctx.db.kysely.selectFrom('variable').select('key').where('key', '=', body.key).executeTakeFirst())
      throw new ApiError(409, `variable "${body.key}" already exists (PATCH /api/v1/variables/${body.key} changes it)`);
    await setVariable(ctx.db.kysely, o(), body.key, body.value, body.description ?? null);
    req.log.info({ variable: body.key, by: req.principal?.source }, 'variable created');
    return reply.code(201).header('location', `/api/v1/variables/${encodeURIComponent(body.key)}`).send(await oneVariable(body.key));
  });

  const patchVariable = z.object({ value: z.unknown().optional(), description: z.string().max(10_000).nullable().optional() }).strict();
  app.patch('/variables/:key', async (req) => {
    const { key } = parseInput(keyParams, req.params, 'path');
    const body = parseInput(patchVariable, req.body, 'body');
    const row = await ctx.db.kysely.selectFrom('variable').select('key').where('key', '=', key).executeTakeFirst();
    if (!row) throw new ApiError(404, `no variable "${key}"`);
    if (body.value === undefined) {
      if (body.description === undefined) throw new ApiError(400, 'body: expected value and/or description');
      await ctx.db.kysely.updateTable('variable').set({ description: body.description, updated_at: new Date().toISOString() }).where('key', '=', key).execute();
    } else await setVariable(ctx.db.kysely, o(), key, body.value, body.description);
    req.log.info({ variable: key, by: req.principal?.source }, 'variable changed');
    return oneVariable(key);
  });

  app.delete('/variables/:key', async (req, reply) => {
    const { key } = parseInput(keyParams, req.params, 'path');
    if (!(await deleteVariable(ctx.db.kysely, key))) throw new ApiError(404, `no variable "${key}"`);
    req.log.info({ variable: key, by: req.principal?.source }, 'variable deleted');
    return reply.code(204).send();
  });

  app.get('/connections', async (req) => {
    const q = parseInput(z.object(pageQuery).strict(), req.query, 'query');
    const { rows, total } = await listConnections(ctx.db.kysely, o(), q);
    return { connections: rows.map((c) => connectionJson(c, names())), totalEntries: total };
  });

  async function oneConnection(connId: string) {
    const c = await getConnectionSummary(ctx.db.kysely, o(), connId);
    if (!c) throw new ApiError(404, `no connection "${connId}"`);
    return connectionJson(c, names());
  }

  app.get('/connections/:connectionId', async (req) => oneConnection(parseInput(connParams, req.params, 'path').connectionId));

  // Checked by the connection parser, whose messages name the field and never echo a password.
  const any = () => z.unknown().optional();
  const fields = { connType: any(), description: any(), host: any(), port: any(), login: any(), password: any(), schema: any(), extra: any() };
  const postConnection = z.object({ connectionId: idText('connection id'), uri: any(), ...fields }).strict();
  app.post('/connections', async (req, reply) => {
    const body = parseInput(postConnection, req.body, 'body');
    const uri = secretText(body.uri, 'uri');
    const password = secretText(body.password, 'password');
    let c: ConnectionFields;
    try {
      if (uri !== undefined && uri !== null) {
        const extraFields = (['connType', 'host', 'port', 'login', 'password', 'schema'] as const).filter((f) => body[f] !== undefined);
        if (extraFields.length) throw new ApiError(400, `body.uri: cannot be combined with ${extraFields.map((f) => `body.${f}`).join(', ')} (put them in the URI)`);
        c = parseConnectionUri(uri, 'body.uri');
        if (body.description !== undefined) c.description = connectionFromFields({ connType: c.connType, description: body.description }, bodyLabel).description;
        if (body.extra !== undefined) c.extra = connectionFromFields({ connType: c.connType, extra: body.extra }, bodyLabel).extra;
      } else c = connectionFromFields({ ...body, password }, bodyLabel);
    } catch (e) {
      if (e instanceof ApiError) throw e;
      asQueryError(e);
    }
    await addConnection(ctx.db.kysely, o(), body.connectionId, c);
    req.log.info({ connection: body.connectionId, by: req.principal?.source }, 'connection created');
    return reply.code(201).header('location', `/api/v1/connections/${encodeURIComponent(body.connectionId)}`).send(await oneConnection(body.connectionId));
  });

  const patchConnection = z.object(fields).strict();
  app.patch('/connections/:connectionId', async (req) => {
    const { connectionId } = parseInput(connParams, req.params, 'path');
    const body = parseInput(patchConnection, req.body, 'body');
    const password = secretText(body.password, 'password');
    if (!Object.values(body).some((v) => v !== undefined)) throw new ApiError(400, 'body: expected at least one field to change');
    if (body.connType === null) throw new ApiError(400, 'body.connType: a connection always has a type');
    const patch: ConnectionPatch = {};
    try {
      // Each given field is checked as a connection field would be; null clears it (not connType).
      const check = connectionFromFields({ ...body, connType: body.connType ?? 'x', password: password ?? undefined }, bodyLabel);
      for (const f of ['connType', 'description', 'host', 'port', 'login', 'schema', 'extra'] as const) if (body[f] !== undefined) (patch as Record<string, unknown>)[f] = check[f];
      if (password !== undefined) patch.password = password;
    } catch (e) {
      asQueryError(e);
    }
    await updateConnection(ctx.db.kysely, o(), connectionId, patch);
    req.log.info({ connection: connectionId, fields: Object.keys(patch), by: req.principal?.source }, 'connection changed');
    return oneConnection(connectionId);
  });

  app.delete('/connections/:connectionId', async (req, reply) => {
    const { connectionId } = parseInput(connParams, req.params, 'path');
    if (!(await deleteConnection(ctx.db.kysely, connectionId))) throw new ApiError(404, `no connection "${connectionId}"`);
    req.log.info({ connection: connectionId, by: req.principal?.source }, 'connection deleted');
    return reply.code(204).send();
  });
}
