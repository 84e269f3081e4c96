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
