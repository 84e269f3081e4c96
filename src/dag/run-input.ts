// What a user may give a new DAG run: its id and its conf. Pure checks, shared by the CLI, the API and the
// scheduler's own run creation, so every way in refuses the same input with the same words.

/** Airflow's run-id rule: letters, digits and `_ . ~ : + -`, at most 250 characters (no `/`, no spaces). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_.~:+-]{1,250}$/;
export const RUN_ID_RULE = 'letters, digits and _ . ~ : + - only, 1 to 250 characters';

/** Why `runId` cannot name a run, or null. */
export function runIdProblem(runId: string): string | null {
  return RUN_ID_PATTERN.test(runId) ? null : `run id ${JSON.stringify(runId.length > 80 ? `${runId.slice(0, 77)}...` : runId)} is not allowed: use ${RUN_ID_RULE}`;
}

/** Nesting and size a run's conf may have: deeper or larger input is a mistake or an attack, not a parameter. */
export const MAX_CONF_DEPTH = 32;
export const MAX_CONF_BYTES = 64 * 1024;

/**
 * Why `conf` cannot be a run's conf, or null. Walks the value without recursion (a deeply nested value must
 * not overflow the stack that checks it) and stops at the first level past the limit.
 */
export function confProblem(conf: unknown): string | null {
  if (conf === null || typeof conf !== 'object' || Array.isArray(conf)) return 'conf must be a JSON object like {"key": "value"}';
  let level: unknown[] = [conf];
  for (let depth = 1; level.length; depth++) {
    if (depth > MAX_CONF_DEPTH) return `conf is nested more than ${MAX_CONF_DEPTH} levels deep`;
    const next: unknown[] = [];
    for (const v of level) if (v !== null && typeof v === 'object') next.push(...Object.values(v));
    level = next.filter((v) => v !== null && typeof v === 'object');
  }
  const bytes = Buffer.byteLength(JSON.stringify(conf));
  return bytes > MAX_CONF_BYTES ? `conf is ${bytes} bytes as JSON; at most ${MAX_CONF_BYTES} are allowed` : null;
}
