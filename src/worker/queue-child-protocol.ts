// Messages between `floe worker` and its task-runner processes (queue-child.ts). The worker claims each try
// before handing it over and records the outcome the task process sends back (batched with its other
// processes'), so a task process writes no state of its own.
import type { LoadedConfig } from '../config/load.ts';
import type { TryEnd } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';

export interface QueueChildSettings {
  dbUrl: string;
  logsFolder: string;
  heartbeatSeconds: number;
  /** The worker's configuration, as loaded (pod tasks need its Kubernetes settings). */
  cfg?: LoadedConfig;
}
/** Worker → task process: run this try, already claimed. */
export type QueueChildRequest = { type: 'run'; key: TIKey; tryNumber: number; dagHash?: string };
/** Task process → worker. `done` with `end`: the try ran (the worker records it); without: it could not run at all. */
export type QueueChildReply =
  | { type: 'ready' }
  | { type: 'done'; end: TryEnd; returnJson?: string; timedOut: boolean }
  | { type: 'done'; end: null; reason: string };

export const CHILD_SETTINGS_ENV = 'FLOE_QUEUE_CHILD_SETTINGS';
