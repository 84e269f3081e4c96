// `{{ name }}` templates for shell commands and their env (Airflow's most used macros, no code execution).
import type { TaskContext } from '../sdk/types.ts';

export function templateVariables(ctx: TaskContext): Record<string, unknown> {
  const iso = (d: Date) => d.toISOString();
  return {
    ds: iso(ctx.logicalDate).slice(0, 10),
    ds_nodash: iso(ctx.logicalDate).slice(0, 10).replaceAll('-', ''),
    ts: iso(ctx.logicalDate),
    logical_date: iso(ctx.logicalDate),
    data_interval_start: iso(ctx.dataIntervalStart),
    data_interval_end: iso(ctx.dataIntervalEnd),
    run_id: ctx.runId,
    dag_id: ctx.dagId,
    task_id: ctx.taskId,
    try_number: ctx.tryNumber,
    map_index: ctx.mapIndex,
    params: ctx.params,
  };
}

/** Replaces each `{{ path }}` (e.g. `{{ ds }}`, `{{ params.table }}`); an unknown name is an error naming it. */
export function renderTemplate(template: string, vars: Record<string, unknown>, where: string): string {
  return template.replace(/\{\{\s*([A-Za-z_][\w.]*)\s*\}\}/g, (_, expr: string) => {
    let v: unknown = vars;
    for (const part of expr.split('.')) {
      if (v === null || typeof v !== 'object' || !(part in (v as object))) {
        throw new Error(`${where}: unknown template variable {{ ${expr} }} (known: ${Object.keys(vars).join(', ')})`);
      }
      v = (v as Record<string, unknown>)[part];
    }
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/**
 * Template variables for variables and connections, as Airflow's: `{{ var.value.KEY }}` (the value as text),
 * `{{ var.json.KEY.path }}` (into a JSON value), `{{ conn.ID.host }}` (also `port`, `login`, `password`,
 * `schema`, `conn_type`, `uri`, `extra` as JSON text, `extra_dejson.FIELD`). Only those the templates name are
 * read; what they read is registered for masking, so a rendered command shows `***` for a password.
 */
export async function secretTemplateVariables(ctx: TaskContext, templates: readonly string[]): Promise<Record<string, unknown>> {
  const text = templates.join('\n');
  const value: Record<string, string> = {};
  const json: Record<string, unknown> = {};
  const conn: Record<string, unknown> = {};
  for (const [, kind, key] of text.matchAll(/\{\{\s*var\.(value|json)\.([\w.-]+?)(?=[\s.}])/g)) {
    const v = await ctx.variables.get(key);
    if (kind === 'value') value[key] = typeof v === 'string' ? v : JSON.stringify(v);
    else json[key] = v;
  }
  for (const [, id] of text.matchAll(/\{\{\s*conn\.([\w-]+)\./g)) {
    if (id in conn) continue;
    const c = await ctx.connection(id);
    conn[id] = { conn_type: c.connType, host: c.host, port: c.port, login: c.login, password: c.password, schema: c.schema, extra: JSON.stringify(c.extra), extra_dejson: c.extra, uri: c.uri, description: c.description };
  }
  const out: Record<string, unknown> = {};
  if (Object.keys(value).length || Object.keys(json).length) out.var = { value, json };
  if (Object.keys(conn).length) out.conn = conn;
  return out;
}
