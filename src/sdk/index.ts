// The public authoring API: `import { dag, task, shell, chain, branch, shortCircuit, sensor } from 'floe'`.
export { dag, chain, TaskRef, type DagOptions, type ScheduleSpec } from './dag.ts';
export { task, shell, type Arg, type ShellOptions, type TaskSpec, type TaskFunction, type PartialTask, type ListArg, type MappedRef } from './task.ts';
export { branch, shortCircuit, type BranchResult, type ShortCircuitOptions } from './flow.ts';
export { sensor, fileSensor, externalTaskSensor, type FileSensorOptions, type ExternalTaskSensorOptions } from './sensors.ts';
export { podTask, type PodTaskOptions, type PodValue } from './pod-task.ts';
export { TRIGGER_RULES } from './types.ts';
export type { TaskContext, TaskOptions, TriggerRule, ExecutorConfig, JsonObject, JsonValue, DataInterval, SensorOptions, SensorMode } from './types.ts';
export type { Connection, TaskSecrets } from './secrets-types.ts';
