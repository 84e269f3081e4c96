// Messages between `floe worker` and its task-runner processes (queue-child.ts). A task process hands the
// claim and the outcome of its try to the worker, which writes them (batched with its other processes').
import type { TryEnd } from '../db/task-instances.ts';
import type { TIKey } from '../executors/types.ts';
import type { ClaimInfo } from './try-recorder.ts';

export interface QueueChildSettings {
  dbUrl: string;
  logsFolder: string;
  heartbeatSeconds: number;
}
/** Worker → task process. */
export type QueueChildRequest =
  | { type: 'run'; key: TIKey; tryNumber: number; dagHash?: string; externalId: string }
  /** The answer to a `record` message: whether the write took effect, or why it failed. */
  | { type: 'recorded'; id: number; ok: boolean; error?: string };
/** Task process → worker. */
export type QueueChildReply =
  | { type: 'ready' }
  | { type: 'done'; ran: boolean; state: string | null; reason: string | null }
  | { type: 'record'; id: number; write: RecordWrite };

export type RecordWrite =
  | { kind: 'claim'; key: TIKey; tryNumber: number; info: ClaimInfo }
  | { kind: 'finish'; key: TIKey; tryNumber: number; end: TryEnd; returnJson?: string };

export const CHILD_SETTINGS_ENV = 'FLOE_QUEUE_CHILD_SETTINGS';
