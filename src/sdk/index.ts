// The public authoring API: `import { dag, task, shell, chain } from 'floe'`.
export { dag, chain, TaskRef, type DagOptions, type ScheduleSpec } from './dag.ts';
export { task, shell, type Arg, type ShellOptions, type TaskSpec } from './task.ts';
export { TRIGGER_RULES } from './types.ts';
export type { TaskContext, TaskOptions, TriggerRule, ExecutorConfig, JsonObject, JsonValue, DataInterval } from './types.ts';
export type { Connection, TaskSecrets } from './secrets-types.ts';
