// dag() and task(): the TaskFlow authoring API. Building a DAG only records structure; nothing runs here.
import type { PodTaskSpec } from './pod-task.ts';
import type { JsonObject, TaskContext, TaskOptions } from './types.ts';

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
}

/** How a task gets its result: a function, a shell command, or a pod of any image (podTask). */
export type TaskBody =
  | { kind: 'function'; fn: (ctx: TaskContext, ...args: unknown[]) => unknown; args: unknown[] }
  | { kind: 'shell'; command: string | ((ctx: TaskContext) => string); env: Record<string, string>; cwd?: string }
  | ({ kind: 'pod' } & Omit<PodTaskSpec, 'args' | 'env'> & { args: unknown[]; env: Record<string, unknown> });

export interface TaskNode {
  taskId: string;
  options: TaskOptions;
  body: TaskBody;
  upstream: Set<string>;
  /** Where the task was declared (file:line), for error messages. */
  declaredAt: string | null;
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

  addTask(baseId: string, options: TaskOptions, body: TaskBody, site: Error, suffixDuplicates = true): TaskRef {
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
    };
    this.tasks.set(taskId, node);
    if (body.kind === 'function' || body.kind === 'pod') for (const a of collectRefs(body.kind === 'pod' ? [body.args, body.env] : body.args)) this.addEdge(a.taskId, taskId);
    return new TaskRef(this, taskId);
  }

  addEdge(from: string, to: string): void {
    const node = this.tasks.get(to);
    if (!node) throw new Error(`task "${to}" is not part of DAG "${this.dagId}"`);
    if (!this.tasks.has(from)) throw new Error(`task "${from}" is not part of DAG "${this.dagId}"`);
    node.upstream.add(from);
  }
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
