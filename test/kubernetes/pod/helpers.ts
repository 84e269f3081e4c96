// Shared test helpers for the pod pipeline tests.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SerializedDag, SerializedTask } from '../../../src/dag/model.ts';
import type { ExecutorConfig } from '../../../src/sdk/types.ts';
import type { KubernetesPodConfig } from '../../../src/kubernetes/pod/index.ts';

export const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/pods');

/** The golden tests' configuration: default + named templates, a queue mapping. */
export const CFG: KubernetesPodConfig = {
  namespace: 'floe-workers',
  workerImage: 'floe:test',
  baseDir: FIXTURES,
  podTemplateFile: 'templates/default.yaml',
  podTemplates: { gpu: 'templates/gpu.yaml', minimal: 'templates/minimal.yaml' },
  queueTemplates: { gpu_queue: 'gpu' },
  podMutationHook: null,
};

export function task(taskId: string, executorConfig: ExecutorConfig | null = null, queue = 'default'): SerializedTask {
  return {
    taskId,
    kind: 'function',
    upstream: [],
    retries: 0,
    retryDelay: 300,
    retryExponentialBackoff: false,
    maxRetryDelay: null,
    executionTimeout: null,
    triggerRule: 'all_success',
    pool: 'default_pool',
    poolSlots: 1,
    queue,
    executorConfig,
    doc: null,
  };
}

export function dag(dagId: string, tasks: SerializedTask[]): SerializedDag {
  return {
    dagId,
    fileloc: `/dags/${dagId}.ts`,
    schedule: null,
    timezone: 'UTC',
    startDate: null,
    endDate: null,
    catchup: false,
    maxActiveRuns: 16,
    maxActiveTasks: 16,
    params: {},
    tags: [],
    description: null,
    tasks,
  };
}

/** A deterministic random source: the same pod name suffix every time. */
export function fixedRandom(seed = 7): () => number {
  let x = seed;
  return () => {
    x = (x * 9301 + 49297) % 233280;
    return x / 233280;
  };
}
