// The Kubernetes executor: a pod per try, built by the pod pipeline, created under a rate limit with retries,
// observed through a list+watch cache (no per-task API calls), reported as executor events. The task runner
// inside the pod records the try's state; this executor only reports what it saw.
import path from 'node:path';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { apiMessage, backoffMs, classifyError, type KubeApi, statusCode } from '../../kubernetes/client.ts';
import { buildWorkerPod, FLOE_KEYS, identityAnnotations, identityLabels, type KubernetesPodConfig, labelValue, type LoadedHook, loadMutationHook, loadPodTemplates, PodPipelineError, type PodTemplates, WorkerPodCache } from '../../kubernetes/pod/index.ts';
import { eventLogLines, listPodEvents, POD_EVENTS_TIMEOUT_MS, reasonWithEvents } from '../../kubernetes/pod-events.ts';
import { appendExecutorLines, externalIdOf, keepPodLog, parseExternalId } from '../../kubernetes/pod-logs.ts';
import { PodWatcher } from '../../kubernetes/pod-watcher.ts';
import { taskLogPath } from '../../worker/task-log.ts';
import type { Executor, ExecutorEvent, ExecutorOptions, ExecutorStartContext, TaskRef, TIKey, Workload } from '../types.ts';
import { isPodOf, podKey, tryKey } from './pod-identity.ts';
import { podVerdict, type PodVerdict } from './pod-state.ts';
import { sweepOrphans } from './sweep.ts';
import { asWarmPod, isWarmPod, WARM_OPT_OUT, type KnownWarmPod, type WarmPodSettings, type WarmPodStore, warmTryEnded } from './warm-pods.ts';
import type { WarmPodRow } from '../../db/warm-pods.ts';

export interface KubernetesExecutorConfig {
  pod: KubernetesPodConfig;
  /** Namespaces watched: kubernetes.namespace, plus kubernetes.multiNamespaces in multi-namespace mode. */
  namespaces: string[];
  parallelism: number;
  batchSize: number;
  concurrency: number;
  publishMaxRetries: number;
  deletePolicy: 'always' | 'onSuccess' | 'never';
  pendingTimeoutMs: number;
  fastFailReasons: readonly string[];
  /** How often finished/orphaned Floe pods are reconciled against the DB. */
  sweepIntervalMs: number;
  /** Task logs folder: a pod's log is copied there before the pod is deleted, unless the runner wrote it. */
  logsFolder: string | null;
  /** How long listing a failed pod's events may take (default POD_EVENTS_TIMEOUT_MS). */
  eventsTimeoutMs?: number;
  /** kubernetes.warmPods; off when absent or disabled. */
  warm?: WarmPodSettings;
}

/** For the orphan sweep: which of these tries are over in the DB (final state, or a later try exists). */
export type TryIsOver = (tries: { key: TIKey; tryNumber: number; launchId?: string | null }[]) => Promise<boolean[]>;

/**
 * For the orphan sweep: which of these scheduler ids (job ids) belong to schedulers that are alive — state
 * running and a heartbeat within scheduler.healthCheckThreshold. Their pods are theirs to clean up.
 */
export type SchedulersAlive = (schedulerIds: string[]) => Promise<Set<string>>;

interface Launch {
  work: Workload;
  attempt: number;
  notBefore: number;
  /** The pod as built; a retry after an unanswered create sends the same name, so it can never make a second pod. */
  pod?: V1Pod;
  /** With warm pods on: the pod made warm-capable, and whether an idle warm pod was asked for first. */
  warm?: { pod: V1Pod; key: string };
}

interface Tracked {
  key: TIKey;
  tryNumber: number;
  launchId: string | null;
  namespace: string;
  name: string;
  uid: string;
  reported: PodVerdict['kind'] | null;
  /** Last pod state seen, to judge a pod that vanished. */
  last: V1Pod | null;
  /** When the API acknowledged the pod (create or adoption). */
  knownSince: number;
  /** The pod is a warm pod; `assigned`: this try was handed to it after an earlier one (not the try it started with). */
  warm?: boolean;
  assigned?: boolean;
}

/** How long a `running` event may wait for the scheduler loop while creations are in flight. */
const RUNNING_WAKE_MS = 100;

export class KubernetesExecutor implements Executor {
  readonly name = 'kubernetes';
  private schedulerId = '';
  private templates: PodTemplates | null = null;
  private hook: LoadedHook | null = null;
  private readonly launches: Launch[] = [];
  private readonly pendingAdoption: TaskRef[] = [];
  private stopped = false;
  private readonly tracked = new Map<string, Tracked>();
  private readonly byPod = new Map<string, string>();
  private readonly pods = new Map<string, V1Pod>();
  private readonly watchers: PodWatcher[] = [];
  private events: ExecutorEvent[] = [];
  private launching = 0;
  private pumpTimer: NodeJS.Timeout | null = null;
  private pumpAt = 0;
  private wakeTimer: NodeJS.Timeout | null = null;
  private readonly podCache = new WorkerPodCache();
  private lastSweep = Date.now();
  private sweeping = false;
  /** Failed tries being ended (their pod's events listed, task log written): stop() waits for them. */
  private readonly ending = new Set<Promise<void>>();
  /** This executor's warm pods, by namespace/name, while they exist. */
  private readonly warmKnown = new Map<string, KnownWarmPod>();
  private warmTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly api: KubeApi,
    private readonly cfg: KubernetesExecutorConfig,
    private readonly opts: ExecutorOptions & { log: Logger; tryIsOver?: TryIsOver; schedulersAlive?: SchedulersAlive; warmStore?: WarmPodStore },
  ) {}

  private get warmOn(): boolean {
    return Boolean(this.cfg.warm?.enabled && this.opts.warmStore);
  }

  get selector(): string {
    return `${FLOE_KEYS.worker}=true,${FLOE_KEYS.schedulerId}=${this.schedulerId}`;
  }

  async start(ctx: ExecutorStartContext): Promise<void> {
    this.schedulerId = ctx.schedulerId;
    this.templates = await loadPodTemplates(this.cfg.pod);
    if (this.cfg.pod.podMutationHook) this.hook = await loadMutationHook(path.resolve(this.cfg.pod.baseDir, this.cfg.pod.podMutationHook));
    for (const ns of this.cfg.namespaces) {
      const w = new PodWatcher(this.api, ns, this.selector, { onList: (n, pods, at) => this.onList(n, pods, at), onEvent: (t, p) => this.onPodEvent(t, p) }, this.opts.log);
      this.watchers.push(w);
      await w.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.warmTimer) clearInterval(this.warmTimer);
    await this.retireIdleWarmPods();
    if (this.pumpTimer) clearTimeout(this.pumpTimer);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    for (const w of this.watchers) w.stop();
    // Let creations in flight finish (their pods must be known to be adopted later), within reason.
    for (let waited = 0; this.launching > 0 && waited < 10_000; waited += 20) await new Promise((r) => setTimeout(r, 20));
    // Failed tries being ended write to task logs; let them finish (their listing of events is bounded in time).
    await Promise.all([...this.ending]);
  }

  queue(work: Workload): void {
    this.launches.push({ work, attempt: 0, notBefore: 0 });
    this.pump();
  }

  openSlots(): number {
    // Idle warm pods are not counted here: they give way to a try that needs a new pod (see makeRoom).
    return Math.max(0, this.cfg.parallelism - this.tracked.size - this.launches.length - this.launching);
  }

  /** This executor's warm pods that wait for work (not running a try, not retiring). */
  private idleWarmPods(): KnownWarmPod[] {
    const busy = new Set<string>();
    for (const t of this.tracked.values()) if (t.warm) busy.add(podKey(t.namespace, t.name));
    return [...this.warmKnown.entries()].filter(([k, w]) => !busy.has(k) && !w.retiring).map(([, w]) => w);
  }

  /**
   * Idle warm pods hold capacity until a try needs a new pod: with busy and idle pods filling `parallelism`,
   * the longest known idle pods retire first (one conditional update each; a pod handed a try meanwhile keeps
   * it) and exit, so pods never outnumber `parallelism` for long, and idle pods never keep work from starting.
   */
  private async makeRoom(): Promise<void> {
    if (!this.opts.warmStore) return;
    for (const w of this.idleWarmPods()) {
      // `launching` counts this launch: the pods after its create.
      if (this.tracked.size + this.launching + this.idleWarmPods().length <= this.cfg.parallelism) return;
      const retired = await this.opts.warmStore.retireIdle([w.name]).catch(() => [] as string[]);
      if (retired.length) w.retiring = true;
    }
  }

  async sync(): Promise<ExecutorEvent[]> {
    if (this.pendingAdoption.length) await this.retryAdoptions();
    await this.pollWarm();
    this.pump();
    const now = Date.now();
    for (const t of this.tracked.values()) {
      const pod = this.pods.get(podKey(t.namespace, t.name));
      if (pod && pod.metadata?.uid === t.uid) this.judge(t, pod, false, now);
    }
    if (now - this.lastSweep >= this.cfg.sweepIntervalMs && !this.sweeping) {
      this.lastSweep = now;
      this.sweeping = true;
      void this.sweep().finally(() => (this.sweeping = false));
    }
    const out = this.events;
    this.events = [];
    return out;
  }

  /**
   * Keeps creations in flight continuously — min(podCreationConcurrency, podCreationBatchSize) at a time —
   * starting the next as soon as one ends, instead of a batch per scheduler loop that waits for its slowest
   * request and then for the next loop. Launches waiting for a retry time are started by a timer.
   */
  private pump(): void {
    if (this.stopped || !this.templates) return;
    const limit = Math.max(1, Math.min(this.cfg.concurrency, this.cfg.batchSize));
    const now = Date.now();
    let wait = Infinity;
    for (let i = 0; i < this.launches.length && this.launching < limit; ) {
      const l = this.launches[i];
      if (l.notBefore > now) {
        wait = Math.min(wait, l.notBefore - now);
        i++;
        continue;
      }
      this.launches.splice(i, 1);
      this.launching++;
      void this.launch(l).finally(() => {
        this.launching--;
        this.pump();
        if (this.launching === 0 && this.wakeTimer) this.wakeNow();
      });
    }
    // (When the limit stopped the scan, the next creation to end pumps again.)
    if (wait !== Infinity && (!this.pumpTimer || now + wait < this.pumpAt)) {
      if (this.pumpTimer) clearTimeout(this.pumpTimer);
      this.pumpAt = now + wait;
      this.pumpTimer = setTimeout(() => {
        this.pumpTimer = null;
        this.pump();
      }, wait);
      this.pumpTimer.unref();
    }
  }

  private async launch(l: Launch): Promise<void> {
    const { work } = l;
    let pod: V1Pod;
    try {
      pod = l.pod ??= (
        await buildWorkerPod({
          dagId: work.key.dagId,
          taskId: work.key.taskId,
          runId: work.key.runId,
          tryNumber: work.tryNumber,
          launchId: work.launchId,
          mapIndex: work.key.mapIndex,
          schedulerId: this.schedulerId,
          task: work.task,
          templates: this.templates!,
          cfg: this.cfg.pod,
          hook: this.hook,
          cache: this.podCache,
        })
      ).pod;
    } catch (e) {
      const reason = e instanceof PodPipelineError ? `pod pipeline: ${e.message}` : `pod pipeline: ${(e as Error).message}`;
      this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'failed', reason });
      return;
    }
    const namespace = pod.metadata!.namespace ?? this.cfg.pod.namespace;
    if (!this.cfg.namespaces.includes(namespace)) {
      this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'failed', reason: `pod namespace "${namespace}" is not watched by this scheduler (allowed: ${this.cfg.namespaces.join(', ')}; see kubernetes.multiNamespaceMode)` });
      return;
    }
    // A template (or a task's override, or the hook) can keep its pods cold: annotation floe.dev/warm: "false".
    if (this.warmOn && !l.warm && pod.metadata?.annotations?.[WARM_OPT_OUT] !== 'false') {
      // An idle warm pod whose pod is this one (same spec key) takes the try; else a new pod that may stay warm.
      l.warm = asWarmPod(pod, this.schedulerId);
      const got = await this.opts.warmStore!.assign(this.schedulerId, l.warm.key, { key: work.key, tryNumber: work.tryNumber, launchId: work.launchId }).catch((e: unknown) => {
        this.opts.log.warn({ err: e }, 'warm pods: could not look for an idle pod; starting a new one');
        return null;
      });
      if (got) return this.trackAssigned(work, got, pod);
    }
    if (l.warm) pod = l.warm.pod;
    // Any new pod (warm or opted out) takes room that idle warm pods may hold.
    if (this.warmOn) await this.makeRoom();
    try {
      this.trackCreated(work, namespace, await this.api.call((c) => c.createNamespacedPod({ namespace, body: pod })), pod);
    } catch (e) {
      const c = classifyError(e);
      l.attempt++;
      if (c.kind === 'conflict') {
        // Our own earlier create, whose answer was lost (timeout, 5xx after storing, dropped connection)?
        const holder = await this.podNamed(namespace, pod.metadata!.name!, work);
        if (holder.kind === 'mine') return this.trackCreated(work, namespace, holder.pod, pod);
        // Another pod has the name: the next build draws a fresh random suffix. When the holder could not be
        // read, the name is kept: a fresh one could start a second pod for this launch beside a lost create.
        if (holder.kind === 'other') l.pod = undefined;
      }
      if (c.kind === 'conflict' || (c.kind === 'retry' && l.attempt <= this.cfg.publishMaxRetries)) {
        l.notBefore = Date.now() + (c.kind === 'retry' ? (c.afterMs ?? backoffMs(l.attempt)) : 0);
        if (c.kind === 'conflict' && l.attempt > this.cfg.publishMaxRetries + 5) {
          this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'failed', infraFailure: true, reason: `could not create a pod with a free name: ${apiMessage(e)}` });
          return;
        }
        this.launches.push(l);
      } else if (c.kind === 'quota') {
        // Over quota: the try stays queued and is launched when room frees up, as an operator expects.
        l.notBefore = Date.now() + Math.min(30_000, 1000 * 2 ** Math.min(l.attempt, 5));
        this.opts.log.warn({ ti: work.key, namespace }, `pod creation refused by quota, will retry: ${c.message}`);
        this.launches.push(l);
      } else {
        const reason = c.kind === 'retry' ? `pod creation failed after ${l.attempt} tries: ${apiMessage(e)}` : `pod creation refused: ${c.message}`;
        this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'failed', infraFailure: c.kind === 'retry', reason });
      }
    }
  }

  private trackCreated(work: Workload, namespace: string, created: V1Pod, built: V1Pod): void {
    const warm = isWarmPod(created);
    const t: Tracked = { key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, namespace, name: created.metadata!.name!, uid: created.metadata!.uid!, reported: null, last: created, knownSince: Date.now(), warm };
    if (warm) {
      this.warmKnown.set(podKey(namespace, t.name), { namespace, name: t.name, uid: t.uid });
      this.watchWarm();
    }
    this.tracked.set(tryKey(work.key, work.tryNumber), t);
    this.byPod.set(podKey(namespace, t.name), tryKey(work.key, work.tryNumber));
    this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'running', externalId: externalIdOf(namespace, t.name, t.uid), pod: { namespace, name: t.name, uid: t.uid, spec: built } });
  }

  /**
   * A launch handed to an idle warm pod: the pod's labels and annotations are set to the try it runs now, and
   * the try is tracked on it like on a pod of its own. The pod takes the launch from its database row.
   */
  private async trackAssigned(work: Workload, got: { podName: string; namespace: string }, built: V1Pod): Promise<void> {
    const { namespace, podName: name } = got;
    const ti = { ...work.key, tryNumber: work.tryNumber, schedulerId: this.schedulerId, launchId: work.launchId };
    let uid = this.warmKnown.get(podKey(namespace, name))?.uid ?? '';
    let last: V1Pod | null = this.pods.get(podKey(namespace, name)) ?? null;
    try {
      const patched = await this.api.call((c) =>
        c.patchNamespacedPod({ namespace, name, body: { metadata: { labels: identityLabels(ti), annotations: identityAnnotations(ti) } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      );
      uid = patched.metadata!.uid!;
      last = patched;
    } catch (e) {
      // The pod runs the try anyway (it reads its row): only its labels are behind. A pod that is gone is
      // judged by its watch event, which fails the try as a launch failure.
      this.opts.log.warn({ namespace, pod: name, err: apiMessage(e) }, 'warm pods: could not label a pod with its new try');
    }
    const t: Tracked = { key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, namespace, name, uid, reported: null, last, knownSince: Date.now(), warm: true, assigned: true };
    this.tracked.set(tryKey(work.key, work.tryNumber), t);
    this.byPod.set(podKey(namespace, name), tryKey(work.key, work.tryNumber));
    this.emit({ key: work.key, tryNumber: work.tryNumber, launchId: work.launchId, state: 'running', externalId: externalIdOf(namespace, name, uid), pod: { namespace, name, uid, spec: built } });
    this.watchWarm();
  }

  /** While tries run on warm pods, their rows are read every 100 ms: a try's end wakes the scheduler at once. */
  private watchWarm(): void {
    if (this.warmTimer || this.stopped) return;
    this.warmTimer = setInterval(() => void this.pollWarm().then((n) => n && this.wakeNow()), 100);
    this.warmTimer.unref();
  }

  /** Tries on warm pods that ended (the pod went idle or left): untracked, their log kept, reported. */
  private async pollWarm(): Promise<number> {
    const onWarm = [...this.tracked.values()].filter((t) => t.warm);
    if (!onWarm.length || !this.opts.warmStore) {
      if (this.warmTimer && !onWarm.length) {
        clearInterval(this.warmTimer);
        this.warmTimer = null;
      }
      return 0;
    }
    let rows: Map<string, WarmPodRow>;
    try {
      rows = await this.opts.warmStore.read([...new Set(onWarm.map((t) => t.name))]);
    } catch {
      return 0;
    }
    let ended = 0;
    for (const t of onWarm) {
      if (!warmTryEnded(rows.get(t.name)) || this.tracked.get(tryKey(t.key, t.tryNumber)) !== t) continue;
      ended++;
      this.forget(t);
      // The runner recorded the outcome before offering the pod again; the scheduler reads it from the DB.
      this.events.push({ key: t.key, tryNumber: t.tryNumber, launchId: t.launchId, externalId: externalIdOf(t.namespace, t.name, t.uid), state: 'success' });
      if (this.cfg.logsFolder) void this.keepLog(t);
    }
    return ended;
  }

  /** The pod of that name if it is this try's, launched by this scheduler; null otherwise or when it cannot be read. */
  /** Who holds a pod name that a create found taken: this launch (its earlier create), another pod, or unknown. */
  private async podNamed(namespace: string, name: string, work: Workload): Promise<{ kind: 'mine'; pod: V1Pod } | { kind: 'other' | 'unknown' }> {
    try {
      const pod = await this.api.call((c) => c.readNamespacedPod({ namespace, name }));
      const mine = isPodOf(pod, work.key, work.tryNumber, work.launchId) && pod.metadata?.labels?.[FLOE_KEYS.schedulerId] === this.schedulerId && !pod.metadata?.deletionTimestamp;
      return mine ? { kind: 'mine', pod } : { kind: 'other' };
    } catch {
      // Gone since (the name is free again) or not readable now: either way, try the same name again.
      return { kind: 'unknown' };
    }
  }

  /**
   * Terminal events wake the scheduler loop at once. `running` events (the pod's external id, for adoption)
   * are not urgent: during a burst of creations they wake it at most every RUNNING_WAKE_MS, and at once when no
   * creation is left in flight — a loop per created pod would cost the scheduler more than the creations.
   */
  private emit(e: ExecutorEvent): void {
    this.events.push(e);
    if (e.state !== 'running') return this.wakeNow();
    this.wakeTimer ??= setTimeout(() => this.wakeNow(), RUNNING_WAKE_MS).unref();
  }

  private wakeNow(): void {
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    this.opts.wake();
  }

  private onList(namespace: string, pods: V1Pod[], listStartedAt: number): void {
    const seen = new Set<string>();
    for (const p of pods) {
      const k = podKey(namespace, p.metadata!.name!);
      seen.add(k);
      this.pods.set(k, p);
    }
    for (const k of [...this.pods.keys()]) if (k.startsWith(`${namespace}/`) && !seen.has(k)) this.pods.delete(k);
    // Tracked pods missing from a fresh list were deleted while we were not watching — unless they were
    // created while the list was in flight.
    for (const t of this.tracked.values()) {
      if (t.namespace === namespace && !seen.has(podKey(namespace, t.name)) && t.last && t.knownSince < listStartedAt) this.judge(t, t.last, true, Date.now());
    }
    this.opts.wake();
  }

  private onPodEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod): void {
    const k = podKey(pod.metadata!.namespace!, pod.metadata!.name!);
    if (type === 'DELETED') this.pods.delete(k);
    else this.pods.set(k, pod);
    const tk = this.byPod.get(k);
    const t = tk ? this.tracked.get(tk) : undefined;
    // Identity by UID: a pod recreated under the same name is not ours.
    if (t && t.uid === pod.metadata?.uid) return this.judge(t, pod, type === 'DELETED', Date.now());
    const w = this.warmKnown.get(k);
    if (!t && w && w.uid === pod.metadata?.uid) this.warmPodEvent(w, pod, type === 'DELETED');
  }

  /** An idle warm pod left (it retired and exited, failed, or was deleted): forgotten, and removed as the policy says. */
  private warmPodEvent(w: KnownWarmPod, pod: V1Pod, deleted: boolean): void {
    const phase = pod.status?.phase;
    if (!deleted && phase !== 'Succeeded' && phase !== 'Failed') return;
    this.warmKnown.delete(podKey(w.namespace, w.name));
    void this.opts.warmStore?.gone(w.name).catch(() => {});
    const remove = !deleted && this.cfg.deletePolicy !== 'never' && (this.cfg.deletePolicy === 'always' || phase === 'Succeeded');
    if (remove) void this.deletePod(w.namespace, w.name, w.uid);
  }

  /** On stop: idle warm pods retire (one conditional update each) and are deleted; busy ones finish their try. */
  private async retireIdleWarmPods(): Promise<void> {
    if (!this.opts.warmStore || !this.warmKnown.size) return;
    const busy = new Set([...this.tracked.values()].filter((t) => t.warm).map((t) => podKey(t.namespace, t.name)));
    const idle = [...this.warmKnown.entries()].filter(([k]) => !busy.has(k)).map(([, w]) => w);
    const retired = new Set(await this.opts.warmStore.retireIdle(idle.map((w) => w.name)).catch(() => [] as string[]));
    await Promise.all(idle.filter((w) => retired.has(w.name)).map((w) => this.deletePod(w.namespace, w.name, w.uid)));
  }

  private judge(t: Tracked, pod: V1Pod, deleted: boolean, now: number): void {
    t.last = pod;
    const v = podVerdict(pod, { fastFailReasons: this.cfg.fastFailReasons, pendingTimeoutMs: this.cfg.pendingTimeoutMs, now, deleted });
    if (v.kind === 'pending' || v.kind === t.reported) return;
    if (v.kind === 'running') {
      t.reported = 'running';
      return;
    }
    t.reported = v.kind;
    this.forget(t);
    if (t.warm) {
      this.warmKnown.delete(podKey(t.namespace, t.name));
      void this.opts.warmStore?.gone(t.name).catch(() => {});
    }
    const remove = !deleted && this.cfg.deletePolicy !== 'never' && (this.cfg.deletePolicy === 'always' || (this.cfg.deletePolicy === 'onSuccess' && v.kind === 'succeeded') || v.kind === 'infra_failed');
    if (v.kind === 'succeeded') {
      this.emit({ key: t.key, tryNumber: t.tryNumber, launchId: t.launchId, externalId: externalIdOf(t.namespace, t.name, t.uid), state: 'success' });
      if (remove) void this.keepLog(t).then(() => this.deletePod(t.namespace, t.name, t.uid));
      return;
    }
    // A warm pod that ends while a later try was handed to it: that try's runner may never have started it;
    // the scheduler relaunches it if it is still queued, as for a pod that never came up.
    const done = this.endFailedTry(t, t.assigned && v.kind === 'failed' ? { ...v, kind: 'infra_failed' } : v, remove).finally(() => this.ending.delete(done));
    this.ending.add(done);
  }

  /**
   * A try ended by its pod: its recent events (one list call, bounded in time) go into the reason and the task
   * log, then the pod's log is kept and the pod deleted per the policy. Listing events can fail or be slow; the
   * try then ends with its reason alone, never later than POD_EVENTS_TIMEOUT_MS.
   */
  private async endFailedTry(t: Tracked, v: Extract<PodVerdict, { kind: 'failed' | 'infra_failed' }>, remove: boolean): Promise<void> {
    const got = await listPodEvents(this.api, { namespace: t.namespace, uid: t.uid }, this.cfg.eventsTimeoutMs ?? POD_EVENTS_TIMEOUT_MS);
    if (got.error !== null) this.opts.log.warn({ namespace: t.namespace, pod: t.name, err: got.error }, 'could not list the events of a failed pod; the try ends with its reason alone');
    const events = got.events ?? [];
    this.emit({
      key: t.key,
      tryNumber: t.tryNumber,
      launchId: t.launchId,
      externalId: externalIdOf(t.namespace, t.name, t.uid),
      state: 'failed',
      reason: reasonWithEvents(v.reason, events),
      infraFailure: v.kind === 'infra_failed',
      pod: { namespace: t.namespace, name: t.name, uid: t.uid, events, reason: v.reason },
    });
    if (this.cfg.logsFolder) {
      const file = taskLogPath(this.cfg.logsFolder, t.key, t.tryNumber);
      // The runner ran: its log (complete, the pod has ended) goes first, unless it is in the file already.
      if (v.kind === 'failed') await this.keepLog(t);
      const lines = [`pod ${t.namespace}/${t.name} ended this try: ${v.reason}`];
      if (events.length) lines.push(`recent events of pod ${t.name} (oldest first):`, ...eventLogLines(events));
      else if (got.error !== null) lines.push(`the pod's events could not be listed: ${got.error}`);
      try {
        await appendExecutorLines(file, lines);
      } catch (e) {
        this.opts.log.warn({ file, err: (e as Error).message }, 'could not write the failed pod\'s reason and events to the task log');
      }
    }
    // A stopped executor's events are never read: leave the pod for the next scheduler to adopt and judge.
    if (remove && !this.stopped) await this.deletePod(t.namespace, t.name, t.uid);
    else if (v.kind === 'infra_failed' && this.cfg.deletePolicy === 'never' && !this.stopped) await this.markLaunchFailed(t);
  }

  /** A pod kept (policy `never`) after it failed to launch is marked so: the sweep keeps it, cleanup-pods removes it. */
  private async markLaunchFailed(t: Tracked): Promise<void> {
    const body = { metadata: { annotations: { [FLOE_KEYS.launchFailed]: new Date().toISOString() } } };
    try {
      await this.api.call((c) => c.patchNamespacedPod({ namespace: t.namespace, name: t.name, body }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
    } catch (e) {
      // Unmarked, the orphan sweep deletes it as the pod of a try that is over.
      this.opts.log.warn({ namespace: t.namespace, pod: t.name, err: apiMessage(e) }, 'could not mark a pod kept after its launch failure');
    }
  }

  private async keepLog(t: Tracked): Promise<void> {
    if (!this.cfg.logsFolder) return;
    try {
      // A warm pod's log holds several tries: only this try's part goes to its task log.
      await keepPodLog(this.api, { namespace: t.namespace, name: t.name }, taskLogPath(this.cfg.logsFolder, t.key, t.tryNumber), t.warm ? { key: t.key, tryNumber: t.tryNumber } : undefined);
    } catch (e) {
      this.opts.log.warn({ pod: t.name, err: apiMessage(e) }, 'could not copy the pod log before deleting the pod');
    }
  }

  private forget(t: Tracked): void {
    this.tracked.delete(tryKey(t.key, t.tryNumber));
    this.byPod.delete(podKey(t.namespace, t.name));
  }

  private async deletePod(namespace: string, name: string, uid?: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        // The UID precondition makes sure we never delete a same-named pod that is not the one we mean.
        await this.api.call((c) => c.deleteNamespacedPod({ namespace, name, body: uid ? { preconditions: { uid } } : undefined }));
        return;
      } catch (e) {
        const c = classifyError(e);
        if (c.kind === 'fatal' && /HTTP 404/.test(c.message)) return;
        // A stopped executor leaves the rest to the next scheduler's orphan sweep.
        if (c.kind === 'retry' && attempt < this.cfg.publishMaxRetries && !this.stopped) {
          await new Promise((r) => setTimeout(r, c.afterMs ?? backoffMs(attempt)));
          continue;
        }
        // The orphan sweep deletes it later.
        this.opts.log.warn({ namespace, name, err: apiMessage(e) }, 'could not delete pod');
        return;
      }
    }
  }

  /**
   * Takes over tries of a dead scheduler: their pods are relabelled with this scheduler's id (so the watch
   * sees them) and tracked; pods already finished are reported at once. Returns tries without a pod.
   */
  async adopt(refs: TaskRef[]): Promise<TaskRef[]> {
    const notAdopted: TaskRef[] = [];
    for (const ref of refs) {
      const r = await this.adoptOne(ref);
      if (r === 'missing') notAdopted.push(ref);
      // 'unknown': the lookup failed. Not "no pod": the try stays ours and is looked up again in sync(),
      // so a pod that exists is never launched a second time.
      else if (r === 'unknown') this.pendingAdoption.push(ref);
    }
    return notAdopted;
  }

  private async adoptOne(ref: TaskRef): Promise<'adopted' | 'missing' | 'unknown'> {
    let pod: V1Pod | null;
    try {
      pod = await this.findPod(ref);
    } catch (e) {
      this.opts.log.warn({ ti: ref.key, err: apiMessage(e) }, 'adoption: cannot look up the pod; will retry');
      return 'unknown';
    }
    if (!pod) {
      this.opts.log.info({ ti: ref.key, tryNumber: ref.tryNumber, externalId: ref.externalId }, 'adoption: the try has no pod');
      return 'missing';
    }
    const namespace = pod.metadata!.namespace!;
    const name = pod.metadata!.name!;
    try {
      const patched = await this.api.call((c) =>
        c.patchNamespacedPod({ namespace, name, body: { metadata: { labels: { [FLOE_KEYS.schedulerId]: this.schedulerId } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
      );
      const t: Tracked = { key: ref.key, tryNumber: ref.tryNumber, launchId: ref.launchId, namespace, name, uid: patched.metadata!.uid!, reported: null, last: patched, knownSince: Date.now() };
      this.tracked.set(tryKey(ref.key, ref.tryNumber), t);
      this.byPod.set(podKey(namespace, name), tryKey(ref.key, ref.tryNumber));
      this.pods.set(podKey(namespace, name), patched);
      this.emit({ key: ref.key, tryNumber: ref.tryNumber, launchId: ref.launchId, state: 'running', externalId: externalIdOf(namespace, name, t.uid) });
      this.judge(t, patched, false, Date.now());
      if (isWarmPod(patched)) {
        // A warm pod follows its adopter: this executor may hand it further tries, and retires it on stop.
        t.warm = true;
        this.warmKnown.set(podKey(namespace, name), { namespace, name, uid: t.uid });
        await this.opts.warmStore?.adopt(name, this.schedulerId).catch(() => {});
        this.watchWarm();
      }
      this.opts.log.info({ namespace, name }, 'adopted pod of a dead scheduler');
      return 'adopted';
    } catch (e) {
      if (statusCode(e) === 404) return 'missing';
      this.opts.log.warn({ namespace, name, err: apiMessage(e) }, 'could not adopt pod; will retry');
      return 'unknown';
    }
  }

  /** Launches the scheduler took back: dropped if still waiting to be created, their pods deleted if created. */
  async revoke(refs: TaskRef[]): Promise<void> {
    const revoked = new Set(refs.map((r) => `${tryKey(r.key, r.tryNumber)}@${r.launchId}`));
    for (let i = this.launches.length - 1; i >= 0; i--) {
      const w = this.launches[i].work;
      if (revoked.has(`${tryKey(w.key, w.tryNumber)}@${w.launchId}`)) this.launches.splice(i, 1);
    }
    for (const ref of refs) {
      const t = this.tracked.get(tryKey(ref.key, ref.tryNumber));
      if (!t || t.launchId !== ref.launchId) continue;
      this.forget(t);
      this.opts.log.info({ namespace: t.namespace, pod: t.name }, 'deleting the pod of a launch taken back by the scheduler');
      await this.deletePod(t.namespace, t.name, t.uid);
    }
  }

  /** Tries whose adoption lookup failed: look again; a try whose pod is gone is relaunched (infrastructure). */
  private async retryAdoptions(): Promise<void> {
    const refs = this.pendingAdoption.splice(0);
    for (const ref of refs) {
      const r = await this.adoptOne(ref);
      if (r === 'unknown') this.pendingAdoption.push(ref);
      else if (r === 'missing')
        this.emit({ key: ref.key, tryNumber: ref.tryNumber, launchId: ref.launchId, state: 'failed', infraFailure: true, reason: 'the pod of this try was not found after its scheduler died' });
    }
  }

  /** The pod of a try: by its recorded name/UID, else by its identity labels (a pod created just before a crash). */
  private async findPod(ref: TaskRef): Promise<V1Pod | null> {
    const ext = parseExternalId(ref.externalId);
    if (ext) {
      try {
        const pod = await this.api.call((c) => c.readNamespacedPod({ namespace: ext.namespace, name: ext.name }));
        return pod.metadata?.uid === ext.uid ? pod : null;
      } catch (e) {
        if (statusCode(e) === 404) return null;
        throw e;
      }
    }
    const labels = identityLabels({ ...ref.key, tryNumber: ref.tryNumber, schedulerId: '' });
    const selector = [FLOE_KEYS.dagId, FLOE_KEYS.taskId, FLOE_KEYS.runId, FLOE_KEYS.tryNumber, FLOE_KEYS.mapIndex].map((k) => `${k}=${labels[k]}`).join(',');
    for (const namespace of this.cfg.namespaces) {
      const list = await this.api.call((c) => c.listNamespacedPod({ namespace, labelSelector: `${FLOE_KEYS.worker}=true,${selector}` }));
      const pod = list.items.find((p) => isPodOf(p, ref.key, ref.tryNumber, ref.launchId));
      if (pod) return pod;
    }
    return null;
  }

  /** The orphan sweep (see sweep.ts), with what this executor knows. */
  sweep(): Promise<number> {
    return sweepOrphans({
      api: this.api,
      cfg: this.cfg,
      self: labelValue(this.schedulerId),
      mine: (namespace, name) => this.byPod.has(podKey(namespace, name)) || this.warmKnown.has(podKey(namespace, name)),
      opts: this.opts,
      deletePod: (namespace, name, uid) => this.deletePod(namespace, name, uid),
    });
  }
}
