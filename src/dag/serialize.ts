// DagDefinition (live objects from a DAG file) → SerializedDag (plain JSON), validating as it goes.
import { z } from 'zod';
import { type DagDefinition, isTaskRef, type TaskNode } from '../sdk/dag.ts';
import type { PodTaskSpec, PodValueSpec } from '../sdk/pod-task.ts';
import { TRIGGER_RULES, type TaskOptions } from '../sdk/types.ts';
import { validateSchedule } from './timetable.ts';
import { DEFAULT_MAX_MAP_LENGTH, mapCount, type SerializedMapInput, type SerializedMapping } from './mapping.ts';
import type { SerializedDag, SerializedSensor, SerializedTask } from './model.ts';

export interface DagProblem {
  dagId: string | null;
  taskId: string | null;
  /** file:line where known. */
  at: string | null;
  message: string;
}

export interface SerializeDefaults {
  defaultRetryDelay: number;
  maxActiveRuns: number;
  maxActiveTasks: number;
  /** core.maxMapLength: a literal list mapped into more instances is an import error. */
  maxMapLength?: number;
}

const ID = /^[A-Za-z0-9_.-]{1,250}$/;
const ID_HELP = 'letters, digits, "_", "-" and "." only, at most 250 characters';

const taskOptionsSchema = z
  .object({
    retries: z.number().int().nonnegative(),
    retryDelay: z.number().nonnegative(),
    retryExponentialBackoff: z.boolean(),
    maxRetryDelay: z.number().positive(),
    executionTimeout: z.number().positive(),
    triggerRule: z.enum(TRIGGER_RULES, { message: `expected one of ${TRIGGER_RULES.join(', ')}` }),
    pool: z.string().min(1),
    poolSlots: z.number().int().positive(),
    queue: z.string().min(1),
    executorConfig: z.record(z.string(), z.unknown()),
    doc: z.string(),
  })
  .partial()
  .strict();

function toIso(value: unknown, field: string): string {
  const d = value instanceof Date ? value : typeof value === 'string' ? new Date(value) : null;
  if (!d || Number.isNaN(d.getTime())) throw new Error(`${field}: expected a Date or ISO date string, got ${JSON.stringify(value)}`);
  return d.toISOString();
}

/** JSON round trip: V1Pod instances become their camelCase JSON; functions and undefined are dropped. */
function toJson<T>(v: T): T {
  return v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T);
}

export function findCycle(tasks: Map<string, { upstream: Iterable<string> }>): string[] | null {
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 2) return null;
    if (state.get(id) === 1) return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 1);
    stack.push(id);
    for (const up of tasks.get(id)?.upstream ?? []) {
      const c = visit(up);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 2);
    return null;
  };
  for (const id of tasks.keys()) {
    const c = visit(id);
    if (c) return c.reverse();
  }
  return null;
}

const sensorSchema = z
  .object({
    pokeInterval: z.number().positive().finite().default(60),
    timeout: z.number().positive().finite().optional(),
    mode: z.enum(['poke', 'reschedule'], { message: 'expected "poke" or "reschedule"' }).default('poke'),
    softFail: z.boolean().default(false),
    exponentialBackoff: z.boolean().default(false),
    maxWait: z.number().positive().finite().optional(),
  })
  .strict();

function serializeSensor(node: TaskNode, dagRunTimeout: number | null): SerializedSensor {
  const parsed = sensorSchema.safeParse(Object.fromEntries(Object.entries(node.sensor ?? {}).filter(([, v]) => v !== undefined)));
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`sensor ${node.taskId}: option ${i.path.join('.') || '(options)'}: ${i.message}`);
  }
  const o = parsed.data;
  if (o.timeout === undefined && dagRunTimeout === null)
    throw new Error(`sensor ${node.taskId} has no timeout and its DAG has no dagRunTimeout: give it timeout (seconds), or it could wait forever`);
  return { mode: o.mode, pokeInterval: o.pokeInterval, timeout: o.timeout ?? null, softFail: o.softFail, exponentialBackoff: o.exponentialBackoff, maxWait: o.maxWait ?? null };
}

function serializeMapping(node: TaskNode, maxMapLength: number): SerializedMapping | undefined {
  if (node.body.kind !== 'function' || !node.body.map) return undefined;
  const inputs = node.body.map.inputs.map((i): SerializedMapInput =>
    isTaskRef(i.source) ? { name: i.name, taskId: i.source.taskId, key: i.source.key } : { name: i.name, length: Array.isArray(i.source) ? i.source.length : 0 },
  );
  const literal = inputs.map((i) => ('length' in i ? i.length : 1));
  if (inputs.every((i) => 'length' in i) && mapCount(literal) > maxMapLength)
    throw new Error(`task ${node.taskId} is mapped over literal lists making ${mapCount(literal)} instances, more than the ${maxMapLength} allowed (core.maxMapLength)`);
  return { inputs };
}

function serializeTask(node: TaskNode, defaults: TaskOptions, cfg: SerializeDefaults, dagRunTimeout: number | null = null): SerializedTask {
  const merged = { ...defaults, ...node.options };
  const parsed = taskOptionsSchema.safeParse(merged);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new Error(`task option ${i.path.join('.') || '(options)'}: ${i.message}`);
  }
  const o = parsed.data;
  return {
    taskId: node.taskId,
    kind: node.body.kind,
    upstream: [...node.upstream].sort(),
    retries: o.retries ?? 0,
    retryDelay: o.retryDelay ?? cfg.defaultRetryDelay,
    retryExponentialBackoff: o.retryExponentialBackoff ?? false,
    maxRetryDelay: o.maxRetryDelay ?? null,
    executionTimeout: o.executionTimeout ?? null,
    triggerRule: o.triggerRule ?? 'all_success',
    pool: o.pool ?? 'default_pool',
    poolSlots: o.poolSlots ?? 1,
    queue: o.queue ?? 'default',
    executorConfig: toJson(merged.executorConfig) ?? null,
    doc: o.doc ?? null,
    // Present only when used, so DAGs without them serialize (and hash) as before.
    ...(node.body.kind === 'function' && node.body.map ? { mapped: serializeMapping(node, cfg.maxMapLength ?? DEFAULT_MAX_MAP_LENGTH) } : {}),
    ...(node.flow ? { flow: node.flow.kind === 'branch' ? { kind: 'branch' as const } : { kind: 'short_circuit' as const, ignoreDownstreamTriggerRules: node.flow.ignoreDownstreamTriggerRules !== false } } : {}),
    ...(node.sensor ? { sensor: serializeSensor(node, dagRunTimeout) } : {}),
    ...(node.body.kind === 'pod' ? { pod: serializePodTask(node.body) } : {}),
  };
}

/** A pod task's settings as JSON: TaskRefs in args/env become `{ xcom, key }`, a V1Pod override its JSON. */
function serializePodTask(body: Extract<TaskNode['body'], { kind: 'pod' }>): PodTaskSpec {
  const value = (v: unknown, where: string): PodValueSpec => {
    if (isTaskRef(v)) return { xcom: v.taskId, key: v.key };
    if (typeof v === 'string') return v;
    throw new Error(`${where}: expected a string (a template) or a task's result, got ${v === null ? 'null' : typeof v}`);
  };
  if (typeof body.image !== 'string' || !body.image.trim()) throw new Error('image: expected the container image to run, e.g. "python:3.12-slim"');
  if (body.command !== null && (!Array.isArray(body.command) || body.command.some((c) => typeof c !== 'string'))) throw new Error('command: expected an array of strings');
  if (!Array.isArray(body.args)) throw new Error('args: expected an array');
  if (!body.env || typeof body.env !== 'object' || Array.isArray(body.env)) throw new Error('env: expected an object of NAME: value');
  if (!['delete', 'deleteSucceeded', 'keep'].includes(body.onFinish)) throw new Error(`onFinish: expected "delete", "deleteSucceeded" or "keep", got ${JSON.stringify(body.onFinish)}`);
  if (!(Number.isFinite(body.startupTimeout) && body.startupTimeout > 0)) throw new Error(`startupTimeout: expected a positive number of seconds, got ${JSON.stringify(body.startupTimeout)}`);
  return {
    image: body.image,
    command: body.command,
    args: body.args.map((a, i) => value(a, `args[${i}]`)),
    env: Object.fromEntries(Object.entries(body.env).map(([k, v]) => [k, value(v, `env.${k}`)])),
    podTemplate: body.podTemplate,
    podOverride: (toJson(body.podOverride) as object | undefined) ?? null,
    namespace: body.namespace,
    xcom: body.xcom,
    onFinish: body.onFinish,
    startupTimeout: body.startupTimeout,
  };
}

/** Serializes one DAG; every problem found is returned (an invalid DAG yields no SerializedDag). */
export function serializeDag(def: DagDefinition, fileloc: string, cfg: SerializeDefaults): { dag: SerializedDag | null; problems: DagProblem[] } {
  const o = def.options;
  const problems: DagProblem[] = def.problems.map((p) => ({ dagId: def.dagId, taskId: null, at: p.at, message: p.message }));
  const fail = (message: string, taskId: string | null = null, at: string | null = null) =>
    problems.push({ dagId: def.dagId, taskId, at, message });

  if (!ID.test(def.dagId)) fail(`dagId "${def.dagId}" is invalid: ${ID_HELP}`);
  const timezone = o.timezone ?? 'UTC';
  const scheduleError = validateSchedule(o.schedule ?? null, timezone);
  if (scheduleError) fail(scheduleError);
  let startDate: string | null = null;
  let endDate: string | null = null;
  try {
    startDate = o.startDate != null ? toIso(o.startDate, 'startDate') : null;
    endDate = o.endDate != null ? toIso(o.endDate, 'endDate') : null;
  } catch (e) {
    fail((e as Error).message);
  }
  if (o.schedule != null && !startDate) fail('startDate is required when a schedule is set');
  for (const [field, v] of [['maxActiveRuns', o.maxActiveRuns], ['maxActiveTasks', o.maxActiveTasks]] as const)
    if (v !== undefined && !(Number.isInteger(v) && v > 0)) fail(`${field}: expected a positive integer, got ${JSON.stringify(v)}`);
  let dagRunTimeout: number | null = null;
  if (o.dagRunTimeout != null) {
    if (typeof o.dagRunTimeout === 'number' && Number.isFinite(o.dagRunTimeout) && o.dagRunTimeout > 0) dagRunTimeout = o.dagRunTimeout;
    else fail(`dagRunTimeout: expected a positive number of seconds, got ${JSON.stringify(o.dagRunTimeout)}`);
  }

  const tasks: SerializedTask[] = [];
  for (const node of def.tasks.values()) {
    if (!ID.test(node.taskId)) fail(`taskId "${node.taskId}" is invalid: ${ID_HELP}`, node.taskId, node.declaredAt);
    try {
      tasks.push(serializeTask(node, o.defaultArgs ?? {}, cfg, dagRunTimeout));
    } catch (e) {
      fail((e as Error).message, node.taskId, node.declaredAt);
    }
  }
  const cycle = findCycle(def.tasks);
  if (cycle) fail(`cycle between tasks: ${cycle.join(' → ')}`);
  if (problems.length) return { dag: null, problems };
  return {
    dag: {
      dagId: def.dagId,
      fileloc,
      schedule: o.schedule ?? null,
      timezone,
      startDate,
      endDate,
      catchup: o.catchup ?? false,
      maxActiveRuns: o.maxActiveRuns ?? cfg.maxActiveRuns,
      maxActiveTasks: o.maxActiveTasks ?? cfg.maxActiveTasks,
      params: toJson(o.params ?? {}),
      tags: o.tags ?? [],
      description: o.description ?? null,
      ...(dagRunTimeout !== null ? { dagRunTimeout } : {}),
      tasks,
    },
    problems,
  };
}
