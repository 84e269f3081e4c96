// dag() and task(): the TaskFlow authoring API. Building a DAG only records structure; nothing runs here.
import type { PodTaskSpec } from './pod-task.ts';
import type { JsonObject, SensorMode, TaskContext, TaskOptions } from './types.ts';

export type ScheduleSpec = string | { every: number } | null;

export interface DagOptions {
  dagId: string;
  /** cron ("0 6 * * *"), preset ("@daily"), `{ every: seconds }`, or null for manual runs only. */
  schedule?: ScheduleSpec;
  startDate?: Date | string;
  endDate?: Date | string;
  /** Create runs for every missed interval since startDate (default false). */
  catchup?: boolean;
  /** IANA time zone for cron schedules (default UTC). */
  timezone?: string;
  maxActiveRuns?: number;
  maxActiveTasks?: number;
  defaultArgs?: TaskOptions;
  params?: JsonObject;
  tags?: string[];
  description?: string;
  /**
   * Seconds a run of this DAG may take from its start: past it the run fails and its unfinished task instances are
   * skipped (Airflow's dagrun_timeout). Also bounds sensors that set no timeout of their own.
   */
  dagRunTimeout?: number;
}

/**
 * How the arguments of a mapped task's instance are built (see sdk/mapping.ts). `positional`: the element is the
 * only argument. `params`: fields are bound to the function's parameters by name. `object`: the fields form the
 * function's single object argument.
 */
export interface MapSpec {
  binding: 'positional' | 'params' | 'object';
  /** The function's parameter names after the context (null: destructured or unknown). */
  params: (string | null)[];
  /** Constant fields (`.partial({...})`); values may hold TaskRefs. */
  partial: Record<string, unknown>;
  /** Mapped inputs in declaration order (a cross product): a TaskRef to a list, or a literal array. `name` null: `.expand(list)`. */
  inputs: { name: string | null; source: unknown }[];
}

/** How a task gets its result: a function, a shell command, a built-in sensor, or a pod of any image (podTask). */
export type TaskBody =
  | { kind: 'function'; fn: (ctx: TaskContext, ...args: unknown[]) => unknown; args: unknown[]; map?: MapSpec }
  | { kind: 'shell'; command: string | ((ctx: TaskContext) => string); env: Record<string, string>; cwd?: string }
  | { kind: 'file_sensor'; path: string | ((ctx: TaskContext) => string) }
  | {
      kind: 'external_task_sensor';
      externalDagId: string;
      externalTaskId: string | null;
      allowedStates: string[];
      failedStates: string[];
      /** Seconds: the other DAG's run has logical date = this run's logical date − executionDelta. */
      executionDelta: number;
    }
  | ({ kind: 'pod' } & Omit<PodTaskSpec, 'args' | 'env'> & { args: unknown[]; env: Record<string, unknown> });

/** A sensor's settings as declared (validated when the DAG is serialized). */
export interface SensorSpecInput {
  pokeInterval?: unknown;
  timeout?: unknown;
  mode?: SensorMode | unknown;
  softFail?: unknown;
  exponentialBackoff?: unknown;
  maxWait?: unknown;
}

/** Tasks whose result decides which downstream tasks run. */
export type FlowSpec = { kind: 'branch' } | { kind: 'short_circuit'; ignoreDownstreamTriggerRules: boolean };

export interface TaskNode {
  taskId: string;
  options: TaskOptions;
  body: TaskBody;
  upstream: Set<string>;
  /** Where the task was declared (file:line), for error messages. */
  declaredAt: string | null;
  sensor?: SensorSpecInput;
  flow?: FlowSpec;
}

/** What a TaskRef of a task declaration says beyond options and body. */
export interface TaskExtras {
  sensor?: SensorSpecInput;
  flow?: FlowSpec;
}

const XCOM_REF = Symbol.for('floe.xcomRef');

/**
 * The result of calling a task inside a DAG: a reference to its XCom. Pass it to another task to make that
 * task depend on this one and receive the value at run time. Deliberately not a thenable (no `.then`),
 * so `await` on it is a type error rather than a silent hang.
 */
export class TaskRef<T = unknown> {
  readonly [XCOM_REF] = true;
  declare readonly __type?: T;
  constructor(
    readonly dag: DagDefinition,
    readonly taskId: string,
    readonly key: string = 'return_value',
  ) {}

  /** Explicit dependency: this task runs after every given task. Returns this, for chaining. */
  after(...upstream: (TaskRef | TaskRef[])[]): this {
    for (const u of upstream.flat()) this.dag.addEdge(u.taskId, this.taskId);
    return this;
  }

  /** Explicit dependency the other way round: each given task runs after this one. Returns the last given. */
  before<D extends TaskRef | TaskRef[]>(downstream: D): D {
    for (const d of [downstream].flat()) this.dag.addEdge(this.taskId, d.taskId);
    return downstream;
  }
}

export function isTaskRef(v: unknown): v is TaskRef {
  return typeof v === 'object' && v !== null && (v as Record<symbol, unknown>)[XCOM_REF] === true;
}

/** `chain(a, b, [c, d], e)`: a → b → (c, d) → e. */
export function chain(...steps: (TaskRef | TaskRef[])[]): void {
  for (let i = 1; i < steps.length; i++) {
    for (const up of [steps[i - 1]].flat()) for (const down of [steps[i]].flat()) up.dag.addEdge(up.taskId, down.taskId);
  }
}

export class DagDefinition {
  readonly tasks = new Map<string, TaskNode>();
  /** Set while the DAG body runs; task() calls attach to it. */
  constructor(
    readonly options: DagOptions,
    readonly fileloc: string | null,
  ) {}

  get dagId(): string {
    return this.options.dagId;
  }

  /** Problems found while building (duplicate ids); reported as import errors by the DAG processor. */
  readonly problems: { message: string; at: string | null }[] = [];

  addTask(baseId: string, options: TaskOptions, body: TaskBody, site: Error, suffixDuplicates = true, extras: TaskExtras = {}): TaskRef {
    // Calling the same TaskFlow task twice gives ids base, base__1, base__2 (as Airflow does); an operator
    // declared twice with one explicit id is an error.
    let taskId = baseId;
    if (this.tasks.has(taskId) && !suffixDuplicates)
      this.problems.push({ message: `duplicate task id "${taskId}" in DAG "${this.dagId}"`, at: callerLocation(site) });
    for (let n = 1; this.tasks.has(taskId); n++) taskId = `${baseId}__${n}`;
    const node: TaskNode = {
      taskId,
      options,
      body,
      upstream: new Set(),
      get declaredAt() {
        return callerLocation(site);
      },
      ...extras,
    };
    this.tasks.set(taskId, node);
    for (const a of bodyRefs(body)) this.addEdge(a.taskId, taskId);
    return new TaskRef(this, taskId);
  }

  /** A problem found while declaring a task: an import error naming the task, with the line that declared it. */
  problem(taskId: string, message: string, site: Error): void {
    this.problems.push({ message: `task ${taskId}: ${message}`, at: callerLocation(site) });
  }

  addEdge(from: string, to: string): void {
    const node = this.tasks.get(to);
    if (!node) throw new Error(`task "${to}" is not part of DAG "${this.dagId}"`);
    if (!this.tasks.has(from)) throw new Error(`task "${from}" is not part of DAG "${this.dagId}"`);
    node.upstream.add(from);
  }
}

/** The TaskRefs a task's body takes: its arguments, a mapped task's constant and mapped inputs. */
export function bodyRefs(body: TaskBody): TaskRef[] {
  if (body.kind === 'pod') return collectRefs([body.args, body.env]);
  if (body.kind !== 'function') return [];
  const refs = collectRefs(body.args);
  if (body.map) collectRefs([body.map.partial, body.map.inputs.map((i) => i.source)], refs);
  return refs;
}

/** Finds TaskRefs anywhere inside task arguments (arrays and plain objects too). */
export function collectRefs(value: unknown, out: TaskRef[] = []): TaskRef[] {
  if (isTaskRef(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectRefs(v, out);
  else if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype)
    for (const v of Object.values(value)) collectRefs(v, out);
  return out;
}

// The registry of DAGs defined while a file is imported. Kept on globalThis because a DAG file may import the
// SDK through a different module URL than the loader (symlinks, `floe` vs relative path).
const REGISTRY = Symbol.for('floe.dagRegistry');
const CURRENT = Symbol.for('floe.currentDag');
type Registry = { dags: DagDefinition[]; fileloc: string | null };
const g = globalThis as unknown as { [REGISTRY]?: Registry; [CURRENT]?: DagDefinition | null };

export function dagRegistry(): Registry {
  return (g[REGISTRY] ??= { dags: [], fileloc: null });
}

export function currentDag(): DagDefinition {
  const d = g[CURRENT];
  if (!d) throw new Error('a task can only be called inside a dag() body');
  return d;
}

/** Defines a DAG. The body calls tasks; their calls and arguments define the graph. */
export function dag(options: DagOptions, body: () => void): DagDefinition {
  if (!options || typeof options.dagId !== 'string') throw new Error('dag() needs options with a string dagId');
  const def = new DagDefinition(options, dagRegistry().fileloc);
  const previous = g[CURRENT] ?? null;
  g[CURRENT] = def;
  try {
    body();
  } finally {
    g[CURRENT] = previous;
  }
  dagRegistry().dags.push(def);
  return def;
}

/**
 * Where a task is declared, as an unformatted stack: formatting a stack (source maps) costs far more than
 * capturing it, and the location is only read when a problem is reported.
 */
export const callSite = (): Error => new Error();

/** file:line of the DAG-file frame of `site` that called into the SDK. */
export function callerLocation(site: Error = new Error()): string | null {
  const stack = site.stack?.split('\n') ?? [];
  for (const line of stack.slice(1)) {
    if (line.includes('/src/sdk/')) continue;
    const m = /\(?((?:file:\/\/)?[^\s()]+):(\d+):\d+\)?$/.exec(line.trim());
    if (m) return `${m[1].replace(/^file:\/\//, '')}:${m[2]}`;
  }
  return null;
}
