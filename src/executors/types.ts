// The one executor contract. The scheduler owns the DB and every state decision; an executor only
// launches work and reports what it observed.
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load.ts';
import type { SerializedTask } from '../dag/model.ts';
import type { Db } from '../db/connect.ts';
import type { ExecutorConfig } from '../sdk/types.ts';

export interface TIKey {
  dagId: string;
  runId: string;
  taskId: string;
  mapIndex: number;
}

export interface Workload {
  key: TIKey;
  tryNumber: number;
  /**
   * This launch of the try (the task instance's `launch_id`). A try put back and queued again keeps its number
   * but gets a new launch: only this launch's runner can claim it, and reports about other launches are stale.
   */
  launchId: string;
  /** The task-runner command (`floe tasks run …`); executors that run processes use it as is. */
  command: string[];
  queue: string;
  executorConfig: ExecutorConfig | null;
  /** Absolute path of the DAG file, for runners that load it directly. */
  fileloc: string;
  /** Seconds; the executor stops the try's process if the runner cannot (null: no limit). */
  executionTimeout: number | null;
  /** The task as serialized by the DAG processor (pod executors build the pod from it). */
  task: SerializedTask;
  /** Hash of the serialized DAG the try was queued from; warm runners holding that version skip reading it. */
  dagHash?: string;
}

/** What an executor saw happen to a try. `success`/`failed` mean the try's process is over. */
export interface ExecutorEvent {
  key: TIKey;
  tryNumber: number;
  /** The launch the executor saw (from its Workload or adopted TaskRef); decisions from the event apply to it only. */
  launchId?: string | null;
  state: 'running' | 'success' | 'failed';
  /** Why, when the executor knows more than the runner could record (killed, OOM, pod evicted, …). */
  reason?: string;
  /** Executor's handle for the try (process id, pod name/uid, job id). */
  externalId?: string;
  /** The try's pod, for the record the web UI shows: as created (`spec`), or what Kubernetes said when it ended. */
  pod?: EventPod;
  /**
   * The try failed before its task runner started (image pull, unschedulable, quota, eviction): the scheduler
   * launches the same try again, up to its launch-failure limit, without spending the task's retries.
   */
  infraFailure?: boolean;
}

export interface EventPod {
  namespace: string;
  name: string;
  uid: string | null;
  /** The V1Pod as it was created (on the event that reports the creation). */
  spec?: unknown;
  /** Its recent events and the failure reason (on the event that ends the try because of its pod). */
  events?: { type: string; reason: string; message: string; count: number; at: number | null }[];
  reason?: string;
}

export interface TaskRef {
  key: TIKey;
  tryNumber: number;
  launchId: string | null;
  externalId: string | null;
}

export interface ExecutorStartContext {
  /** The scheduler's id (its job id): executors label what they launch with it, for adoption. */
  schedulerId: string;
}

export interface Executor {
  readonly name: string;
  start(ctx: ExecutorStartContext): Promise<void>;
  queue(work: Workload): void;
  /** Drains events observed since the last call. */
  sync(): Promise<ExecutorEvent[]>;
  openSlots(): number;
  /** Takes over tries launched by a dead scheduler; returns those it could NOT adopt. */
  adopt(running: TaskRef[]): Promise<TaskRef[]>;
  /**
   * The scheduler took these launches back (queued too long without their runner starting): stop what still
   * waits or runs for them (delete the pod, drop the job). Their runners could not claim them anyway.
   */
  revoke(refs: TaskRef[]): Promise<void>;
  stop(): Promise<void>;
}

/** What an executor's factory builds it from: the configuration, the metadata DB and the process's logger. */
export interface ExecutorDeps {
  cfg: LoadedConfig;
  db: Db;
  log: Logger;
}

export interface ExecutorOptions {
  /** Called when an event is ready, so the scheduler loop can wake instead of waiting for its next tick. */
  wake: () => void;
}

export const tiKeyString = (k: TIKey): string => `${k.dagId}/${k.runId}/${k.taskId}/${k.mapIndex}`;
