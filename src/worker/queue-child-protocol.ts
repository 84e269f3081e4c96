// Messages between `floe worker` and its task-runner processes (queue-child.ts).
import type { TIKey } from '../executors/types.ts';

export interface QueueChildSettings {
  dbUrl: string;
  logsFolder: string;
  heartbeatSeconds: number;
}
export type QueueChildRequest = { type: 'run'; key: TIKey; tryNumber: number; dagHash?: string; externalId: string };
export type QueueChildReply = { type: 'ready' } | { type: 'done'; ran: boolean; state: string | null; reason: string | null };

export const CHILD_SETTINGS_ENV = 'FLOE_QUEUE_CHILD_SETTINGS';
