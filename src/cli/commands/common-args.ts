// Argument parsers shared by the commands; imports nothing heavy (the task-run fast path uses them).
export function parseDateArg(v: string, what: string): Date {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw new Error(`${what}: expected a date like 2024-01-31 or 2024-01-31T06:00:00Z, got "${v}"`);
  return d;
}

export function parseJsonObject(v: string, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch (e) {
    throw new Error(`${what}: not valid JSON: ${(e as Error).message}`);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${what}: expected a JSON object like {"key": "value"}`);
  return parsed as Record<string, unknown>;
}

export function parseIntArg(v: string, what: string): number {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new Error(`${what}: expected an integer, got "${v}"`);
  return n;
}
