// The orphan sweep: reconciles every Floe worker pod against the database. Pods of tries that are over are
// deleted (logged), their log copied to the task log first. Pods of other schedulers that are alive are left
// to them (they keep their pods' logs and apply their deletion policy); this scheduler's own untracked pods and
// dead schedulers' pods are swept.
import type { V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiMessage, type KubeApi } from '../../kubernetes/client.ts';
import { FLOE_KEYS } from '../../kubernetes/pod/index.ts';
import { keepPodLog } from '../../kubernetes/pod-logs.ts';
import { taskLogPath } from '../../worker/task-log.ts';
import type { KubernetesExecutorConfig, SchedulersAlive, TryIsOver } from './kubernetes-executor.ts';
import { podTry } from './pod-identity.ts';
import { runnerStarted } from './pod-state.ts';
import { isWarmPod, type WarmPodStore } from './warm-pods.ts';

export interface SweepDeps {
  api: KubeApi;
  cfg: Pick<KubernetesExecutorConfig, 'namespaces' | 'deletePolicy' | 'logsFolder'>;
  /** This scheduler's id as a label value. */
  self: string;
  /** Pods the executor tracks (a try's pod, an idle warm pod waiting for work): not orphans. */
  mine: (namespace: string, name: string) => boolean;
  opts: { log: Logger; tryIsOver?: TryIsOver; schedulersAlive?: SchedulersAlive; warmStore?: WarmPodStore };
  deletePod: (namespace: string, name: string, uid?: string) => Promise<void>;
}

/** Deletes the pods of tries that are over; returns how many. */
export async function sweepOrphans(d: SweepDeps): Promise<number> {
  const { api, cfg, opts } = d;
  if (!opts.tryIsOver) return 0;
  let deleted = 0;
  for (const namespace of cfg.namespaces) {
    let items: V1Pod[];
    try {
      items = (await api.call((c) => c.listNamespacedPod({ namespace, labelSelector: `${FLOE_KEYS.worker}=true` }))).items;
    } catch (e) {
      opts.log.warn({ namespace, err: apiMessage(e) }, 'orphan sweep: cannot list pods');
      continue;
    }
    let candidates = items.filter((p) => !p.metadata?.deletionTimestamp && !d.mine(namespace, p.metadata!.name!));
    const ownerOf = (p: V1Pod) => p.metadata?.labels?.[FLOE_KEYS.schedulerId] ?? '';
    const others = [...new Set(candidates.map(ownerOf))].filter((o) => o !== '' && o !== d.self);
    if (others.length && opts.schedulersAlive) {
      let alive: Set<string>;
      try {
        alive = await opts.schedulersAlive(others);
      } catch (e) {
        opts.log.warn({ namespace, err: (e as Error).message }, 'orphan sweep: cannot tell which schedulers are alive; sweeping only this scheduler\'s pods');
        alive = new Set(others);
      }
      candidates = candidates.filter((p) => !alive.has(ownerOf(p)));
    }
    const known = candidates.filter((p) => podTry(p));
    const over = await opts.tryIsOver(known.map((p) => podTry(p)!));
    for (let i = 0; i < known.length; i++) {
      const p = known[i];
      const finished = p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
      const keptLaunchFailure = cfg.deletePolicy === 'never' && p.metadata?.annotations?.[FLOE_KEYS.launchFailed] !== undefined;
      const keep = keptLaunchFailure || (finished && (cfg.deletePolicy === 'never' || (cfg.deletePolicy === 'onSuccess' && p.status?.phase === 'Failed')));
      if (!over[i] || keep) continue;
      const name = p.metadata!.name!;
      const info = { namespace, pod: name, phase: p.status?.phase, owner: ownerOf(p) };
      if (cfg.logsFolder && runnerStarted(p)) {
        const t = podTry(p)!;
        try {
          await keepPodLog(api, { namespace, name }, taskLogPath(cfg.logsFolder, t.key, t.tryNumber));
        } catch (e) {
          // A finished pod's log lives only in the pod: keep the pod, the next sweep tries again. A pod still
          // running a try that is over is deleted anyway — stopping it matters more than its partial log.
          opts.log.warn({ ...info, err: apiMessage(e) }, 'orphan sweep: could not copy the pod log');
          if (finished) continue;
        }
      }
      // A warm pod of a dead scheduler may be idle: it retires first (a busy one is running a try still).
      if (isWarmPod(p) && opts.warmStore && !(await opts.warmStore.retireIdle([name]).catch(() => [] as string[])).length && !finished) continue;
      opts.log.info(info, 'orphan sweep: deleting the pod of a try that is already over');
      await d.deletePod(namespace, name, p.metadata!.uid);
      deleted++;
    }
  }
  return deleted;
}
