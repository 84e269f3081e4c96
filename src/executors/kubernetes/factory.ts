// The Kubernetes executor as `core.executor: kubernetes` (or the hybrid's Kubernetes half) configures it.
import { liveSchedulerIds } from '../../db/jobs.ts';
import { triesAreOver } from '../../db/task-instances.ts';
import { adoptWarmPod, assignWarmPod, markWarmPodGone, readWarmPods, retireIdle } from '../../db/warm-pods.ts';
import { kubeApiFromConfig } from '../../kubernetes/client.ts';
import { kubernetesPodConfig } from '../../kubernetes/pod/config.ts';
import type { ExecutorDeps, ExecutorOptions } from '../types.ts';
import { KubernetesExecutor } from './kubernetes-executor.ts';

export function createKubernetesExecutor(deps: ExecutorDeps, opts: ExecutorOptions): KubernetesExecutor {
  const { cfg, db, log } = deps;
  const k = cfg.kubernetes;
  const namespaces = [...new Set([k.namespace, ...(k.multiNamespaceMode ? k.multiNamespaces : [])])];
  return new KubernetesExecutor(
    kubeApiFromConfig(cfg),
    {
      pod: kubernetesPodConfig(cfg),
      namespaces,
      parallelism: cfg.core.parallelism,
      batchSize: k.podCreationBatchSize,
      concurrency: k.podCreationConcurrency,
      publishMaxRetries: k.taskPublishMaxRetries,
      deletePolicy: k.deleteWorkerPods,
      pendingTimeoutMs: k.podPendingTimeout * 1000,
      fastFailReasons: k.fastFailReasons,
      sweepIntervalMs: k.orphanSweepInterval * 1000,
      logsFolder: cfg.logging.logsFolder,
      warm: { ...k.warmPods, maxWarmPods: k.warmPods.maxWarmPods ?? cfg.core.parallelism },
    },
    {
      ...opts,
      log,
      tryIsOver: (tries) => triesAreOver(db, tries),
      // The orphan sweep leaves live schedulers' pods to them.
      schedulersAlive: (ids) => liveSchedulerIds(db.kysely, ids, cfg.scheduler.healthCheckThreshold * 1000),
      warmStore: {
        assign: (schedulerId, key, a) => assignWarmPod(db.kysely, schedulerId, key, a),
        read: (names) => readWarmPods(db.kysely, names),
        retireIdle: (names) => retireIdle(db.kysely, names),
        gone: (name) => markWarmPodGone(db.kysely, name),
        adopt: (name, schedulerId) => adoptWarmPod(db.kysely, name, schedulerId),
      },
    },
  );
}
