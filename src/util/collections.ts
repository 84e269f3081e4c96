// Small collection helpers shared by the DB code, which batches its statements by DAG run and by size.

/** Items grouped by `keyOf`, in first-seen order of the keys. */
export function groupBy<T>(items: Iterable<T>, keyOf: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = keyOf(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}

/** `list` cut into consecutive slices of at most `size` items. */
export function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** The DAG-run part of a key, for grouping rows or keys by run. */
export const runKey = (dagId: string, runId: string): string => `${dagId}\u0000${runId}`;
