// Dynamic task mapping, the pure part shared by the scheduler (how many instances) and the task runner (which
// elements instance i gets). Several mapped inputs combine as a cross product, in declaration order with the last
// input varying fastest (Airflow's order): expand({ x: [1, 2], y: ['a', 'b'] }) gives (1,a) (1,b) (2,a) (2,b).

/** One mapped input as the scheduler sees it: a literal list (its length is known) or another task's result. */
export type SerializedMapInput = { name: string | null; length: number } | { name: string | null; taskId: string; key: string };

export interface SerializedMapping {
  inputs: SerializedMapInput[];
}

/** Default limit on the instances of one mapped task (core.maxMapLength; Airflow's max_map_length). */
export const DEFAULT_MAX_MAP_LENGTH = 1024;

/** Number of instances of a task mapped over inputs of these lengths. */
export function mapCount(lengths: readonly number[]): number {
  return lengths.reduce((a, b) => a * b, 1);
}

/** The element index of each input for instance `mapIndex` (row-major: the last input varies fastest). */
export function positionsOf(mapIndex: number, lengths: readonly number[]): number[] {
  const out = new Array<number>(lengths.length);
  let rest = mapIndex;
  for (let i = lengths.length - 1; i >= 0; i--) {
    out[i] = rest % lengths[i];
    rest = Math.floor(rest / lengths[i]);
  }
  return out;
}

/** How a value that is not a list is described in errors: `a number (42)`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing (undefined)';
  if (v === null) return 'null';
  const kind = Array.isArray(v) ? 'a list' : typeof v === 'object' ? 'an object' : `a ${typeof v}`;
  let text: string;
  try {
    text = JSON.stringify(v) ?? String(v);
  } catch {
    text = String(v);
  }
  return `${kind} (${text.length > 60 ? `${text.slice(0, 57)}...` : text})`;
}

/** Describes where a mapped input comes from, for errors: `task nums's result`, `field x (task nums's result)`. */
export function describeInput(input: SerializedMapInput): string {
  const src = 'taskId' in input ? `the result of task ${input.taskId}${input.key !== 'return_value' ? ` (XCom ${input.key})` : ''}` : `a literal list`;
  return input.name ? `field "${input.name}" (${src})` : src;
}

/**
 * The instances a mapped task gets from its inputs' lengths, or why it cannot be expanded: a value that is not a
 * list, or more instances than `maxLength`. `lengths[i]` is a number, or the value of input i when it is not a list.
 */
export function expansionOf(
  taskId: string,
  mapping: SerializedMapping,
  lengths: readonly (number | { notAList: unknown })[],
  maxLength: number,
): { count: number } | { error: string } {
  const ns: number[] = [];
  for (let i = 0; i < mapping.inputs.length; i++) {
    const l = lengths[i];
    if (typeof l !== 'number')
      return { error: `task ${taskId} is mapped over ${describeInput(mapping.inputs[i])}, which must be a list (an array) but is ${describeValue(l.notAList)}` };
    ns.push(l);
  }
  const count = mapCount(ns);
  if (count > maxLength)
    return {
      error: `task ${taskId} would be mapped into ${count} instances${ns.length > 1 ? ` (${ns.join(' × ')})` : ''}, more than the ${maxLength} allowed (core.maxMapLength)`,
    };
  return { count };
}
