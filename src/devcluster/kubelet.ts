// The process kubelet: for every pod bound to one of the dev cluster's nodes it "pulls" images (an image
// rule decides which exist), builds each container's environment, runs init containers in order and then
// the containers as local processes, restarts them per restartPolicy with back-off, enforces memory limits
// (OOMKilled), activeDeadlineSeconds, and graceful deletion (SIGTERM, SIGKILL after the grace period), and
// reports pod status and events the way the real kubelet does.
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { containerArgv, resolveContainerEnv, type EnvRuntime } from './container-env.ts';
import type { EventSpec } from './events.ts';
import type { HostChange, KubeletHost } from './kubelet-host.ts';
import { pullImage, setWaiting, type PullState } from './image-pull.ts';
import { buildPodStatus, markLostContainers, type ContainerView } from './kubelet-status.ts';
import { jsonEqual } from './json.ts';
import type { ContainerLog, LogStore } from './logs.ts';
import { groupRss, idleProcess, spawnContainer, type ContainerProcess, type ProcessExit, type SpawnResult } from './process-runtime.ts';
import { parseQuantity } from './quantity.ts';
import { k8sTime } from './registry.ts';
import { neverStartsProcess, NO_STARTUP_DELAY, type StartupDelay } from './startup.ts';
import type { Container, ContainerStateTerminated, NodeObject, Pod } from './types.ts';

export interface KubeletOptions {
  /** Decides which images "exist" (default: all). */
  imageRule: (image: string) => boolean;
  /** Extra environment for every container (applied before the pod's own env). */
  env: Record<string, string>;
  /** Directories put in front of PATH for every container (e.g. where `floe` lives). */
  pathPrepend: string[];
  /** Pass the whole host environment to containers (default: only PATH, HOME, USER, LANG, TZ, TMPDIR...). */
  inheritEnv: boolean;
  /** Per-pod sandbox directories (each container's default working directory) are created under this. */
  sandboxRoot: string;
  /** First crash-loop back-off (real kubelet: 10s), doubling up to maxBackoffMs (real: 300s). */
  restartBackoffMs: number;
  maxBackoffMs: number;
  /** First image-pull back-off, doubling up to maxBackoffMs. */
  imagePullBackoffMs: number;
  /** Retry interval for CreateContainerConfigError (also retried when a ConfigMap/Secret changes). */
  configRetryMs: number;
  /** How often process-group memory is sampled against memory limits. */
  oomPollMs: number;
  /** How long sandbox creation, image pulls and container starts take (default: instant). */
  startupDelay?: StartupDelay;
  /** While true the kubelet neither starts, stops nor reports pods (a fault). */
  paused?: () => boolean;
}

type RunState = 'waiting' | 'starting' | 'running' | 'terminated';

interface ContainerRuntime extends ContainerView, PullState {
  name: string;
  init: boolean;
  spec: Container;
  state: RunState;
  waiting: { reason: string; message?: string };
  startedAt?: string;
  terminated?: ContainerStateTerminated;
  lastTerminated?: ContainerStateTerminated;
  restartCount: number;
  everStarted: boolean;
  proc?: ContainerProcess;
  containerID?: string;
  imageID?: string;
  memLimit?: number;
  oomKilled: boolean;
  /** Crash-loop gate: no (re)start before this time. */
  nextStartAt: number;
  backoffMs: number;
  imageReady: boolean;
  pullFailures: number;
  pullError?: string;
  pullHoldUntil: number;
  pullRetryAt: number;
  /** When a modelled image pull in progress completes. */
  pullDoneAt?: number;
  timer?: NodeJS.Timeout;
}

interface PodRuntime {
  uid: string;
  ns: string;
  name: string;
  node: string;
  hostIP: string;
  podIP: string;
  startTime: string;
  /** No container starts before the modelled sandbox creation is over. */
  sandboxReadyAt: number;
  sandboxDir: string;
  containers: ContainerRuntime[];
  killing: boolean;
  killDeadline?: number;
  killTimer?: NodeJS.Timeout;
  deadlineTimer?: NodeJS.Timeout;
  failure?: { reason: string; message: string };
  deletionDone: boolean;
  finished: boolean;
  gone: boolean;
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const PASSED_HOST_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'TZ', 'TMPDIR', 'SHELL', 'TERM'];

const isActive = (c: ContainerRuntime) => c.state === 'running' || c.state === 'starting';

export class ProcessKubelet {
  private readonly pods = new Map<string, PodRuntime>();
  private readonly queue = new Map<string, { ns: string; name: string }>();
  private readonly nodeImages = new Map<string, Set<string>>();
  private readonly usedIps = new Set<string>();
  private nextIp = 1;
  private kicked = false;
  private stopped = false;
  private unsubscribe: () => void = () => {};
  private oomTimer?: NodeJS.Timeout;
  private readonly delay: StartupDelay;

  constructor(
    private readonly host: KubeletHost,
    private readonly logs: LogStore,
    private readonly opts: KubeletOptions,
  ) {
    this.delay = opts.startupDelay ?? NO_STARTUP_DELAY;
  }

  private get paused(): boolean {
    return this.opts.paused?.() ?? false;
  }

  /** Pod processes live in their own process groups: make sure they do not outlive this process. */
  private readonly killAllOnExit = (): void => {
    for (const rt of this.pods.values()) for (const c of rt.containers) c.proc?.signal('SIGKILL');
  };

  start(): void {
    process.on('exit', this.killAllOnExit);
    mkdirSync(this.opts.sandboxRoot, { recursive: true });
    this.unsubscribe = this.host.subscribe((c) => this.onChange(c));
    this.resyncAll();
    this.oomTimer = setInterval(() => this.checkMemory(), this.opts.oomPollMs);
    this.oomTimer.unref();
  }

  /** Queues every pod for a sync (on start and on resume). */
  resyncAll(): void {
    for (const o of this.host.pods()) this.enqueue(o.metadata.namespace!, o.metadata.name!, o.metadata.uid!);
    for (const rt of this.pods.values()) this.enqueue(rt.ns, rt.name, rt.uid);
  }

  /** Kills every process the kubelet started and waits for them to exit. */
  async stop(): Promise<void> {
    this.stopped = true;
    process.off('exit', this.killAllOnExit);
    this.unsubscribe();
    if (this.oomTimer) clearInterval(this.oomTimer);
    const exits: Promise<unknown>[] = [];
    for (const rt of this.pods.values()) {
      this.clearPodTimers(rt);
      for (const c of rt.containers) {
        if (c.proc) {
          c.proc.signal('SIGKILL');
          exits.push(c.proc.exited);
        }
      }
    }
    await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 5000).unref())]);
  }

  private onChange(ch: HostChange): void {
    if (ch.kind === 'pod') {
      this.enqueue(ch.ns, ch.name, ch.uid);
    } else {
      // A ConfigMap/Secret a waiting container needs may have arrived.
      for (const rt of this.pods.values()) {
        if (rt.ns === ch.ns && rt.containers.some((c) => c.state === 'waiting' && c.waiting.reason === 'CreateContainerConfigError')) {
          this.enqueue(rt.ns, rt.name, rt.uid);
        }
      }
    }
  }

  private enqueue(ns: string, name: string, uid: string): void {
    this.queue.set(uid, { ns, name });
    this.kick();
  }

  private kick(): void {
    if (this.kicked || this.stopped) return;
    this.kicked = true;
    setImmediate(() => {
      this.kicked = false;
      this.drain();
    });
  }

  private drain(): void {
    if (this.stopped || this.paused) return;
    const batch = [...this.queue];
    this.queue.clear();
    for (const [uid, ref] of batch) {
      try {
        this.syncPod(uid, ref.ns, ref.name);
      } catch (err) {
        // One broken pod must not stop the node; make it visible and keep going.
        process.emitWarning(`floe dev cluster kubelet: sync of pod ${ref.ns}/${ref.name} failed: ${(err as Error).stack ?? String(err)}`);
      }
    }
  }

  private node(name: string): NodeObject | undefined {
    return this.host.node(name);
  }

  private event(rt: PodRuntime, pod: Pod, e: Omit<EventSpec, 'component' | 'host'>, c?: ContainerRuntime): void {
    const fieldPath = c ? `spec.${c.init ? 'initContainers' : 'containers'}{${c.name}}` : undefined;
    this.host.recordEvent(pod, { ...e, component: 'kubelet', host: rt.node, fieldPath });
  }

  // ---- pod lifecycle ---------------------------------------------------------------------------------------

  private syncPod(uid: string, ns: string, name: string): void {
    const pod = this.host.pod(ns, name);
    let rt = this.pods.get(uid);
    if (!pod || pod.metadata.uid !== uid) {
      if (rt) this.podGone(rt);
      return;
    }
    const nodeName = pod.spec.nodeName;
    if (!nodeName) return;
    const node = this.node(nodeName);
    if (!node) return; // bound to a node that does not exist: stays Pending, as on a real cluster
    if (!rt) {
      if (pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return;
      rt = this.createRuntime(pod, node);
      // Containers that already ran under an earlier kubelet process died with it: fail, never run twice.
      if (markLostContainers(pod, rt.containers)) {
        rt.startTime = pod.status?.startTime ?? rt.startTime;
        rt.failure = { reason: 'ContainersLost', message: 'The dev kubelet that ran this pod stopped; its container processes ended with it' };
      }
    }
    const now = Date.now();
    if (pod.metadata.deletionTimestamp) return this.syncTerminating(rt, pod, now);
    if (rt.finished) return;
    this.checkDeadline(rt, pod, now);
    if (!rt.failure) this.driveContainers(rt, pod, now);
    this.writeStatus(rt, pod);
  }

  private createRuntime(pod: Pod, node: NodeObject): PodRuntime {
    const uid = pod.metadata.uid!;
    const sandboxDir = path.join(this.opts.sandboxRoot, `${pod.metadata.namespace}_${pod.metadata.name}_${uid.slice(0, 8)}`);
    mkdirSync(sandboxDir, { recursive: true });
    const mk = (spec: Container, init: boolean): ContainerRuntime => {
      const mem = spec.resources?.limits?.memory;
      return {
        name: spec.name,
        init,
        spec,
        state: 'waiting',
        waiting: { reason: init ? 'PodInitializing' : (pod.spec.initContainers?.length ? 'PodInitializing' : 'ContainerCreating') },
        restartCount: 0,
        everStarted: false,
        memLimit: mem !== undefined ? parseQuantity(mem) ?? undefined : undefined,
        oomKilled: false,
        nextStartAt: 0,
        backoffMs: 0,
        imageReady: false,
        pullFailures: 0,
        pullHoldUntil: 0,
        pullRetryAt: 0,
      };
    };
    const addrs = (node.status.addresses ?? []) as { type: string; address: string }[];
    const rt: PodRuntime = {
      uid,
      ns: pod.metadata.namespace!,
      name: pod.metadata.name!,
      node: node.metadata.name!,
      hostIP: addrs.find((a) => a.type === 'InternalIP')?.address ?? '127.0.0.1',
      podIP: this.allocateIp(),
      startTime: k8sTime(),
      sandboxReadyAt: Date.now() + this.delay.sandboxMs,
      sandboxDir,
      containers: [...(pod.spec.initContainers ?? []).map((c) => mk(c, true)), ...pod.spec.containers.map((c) => mk(c, false))],
      killing: false,
      deletionDone: false,
      finished: false,
      gone: false,
    };
    if (rt.containers[0]?.init) rt.containers[0].waiting = { reason: 'PodInitializing' };
    this.pods.set(uid, rt);
    const ads = pod.spec.activeDeadlineSeconds;
    if (ads !== undefined) {
      rt.deadlineTimer = setTimeout(() => this.enqueue(rt.ns, rt.name, rt.uid), ads * 1000 + 5);
    }
    return rt;
  }

  /** Pod IPs come from 127.1.0.0/16: loopback addresses, so a server in a pod is reachable at its podIP. */
  private allocateIp(): string {
    for (let i = 0; i < 65534; i++) {
      const n = this.nextIp;
      this.nextIp = (this.nextIp % 65534) + 1;
      const ip = `127.1.${n >> 8}.${n & 255}`;
      if ((n & 255) === 0 || this.usedIps.has(ip)) continue;
      this.usedIps.add(ip);
      return ip;
    }
    throw new Error('floe dev cluster: pod IP range 127.1.0.0/16 exhausted');
  }

  private checkDeadline(rt: PodRuntime, pod: Pod, now: number): void {
    const ads = pod.spec.activeDeadlineSeconds;
    if (ads === undefined || rt.failure || now < Date.parse(rt.startTime) + ads * 1000) return;
    rt.failure = { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' };
    this.event(rt, pod, { type: 'Normal', reason: 'DeadlineExceeded', message: rt.failure.message });
    this.killContainers(rt, pod, pod.spec.terminationGracePeriodSeconds ?? 30, now);
  }

  private driveContainers(rt: PodRuntime, pod: Pod, now: number): void {
    const policy = pod.spec.restartPolicy ?? 'Always';
    for (const c of rt.containers.filter((x) => x.init)) {
      if (c.state === 'terminated' && c.terminated!.exitCode === 0) continue;
      if (isActive(c)) return;
      if (c.state === 'terminated') {
        if (policy !== 'Never') this.scheduleRestart(rt, pod, c, now);
        return;
      }
      this.tryStart(rt, pod, c, now);
      return;
    }
    for (const c of rt.containers.filter((x) => !x.init)) {
      if (isActive(c)) continue;
      if (c.state === 'terminated') {
        const exit = c.terminated!.exitCode;
        if (policy === 'Always' || (policy === 'OnFailure' && exit !== 0)) this.scheduleRestart(rt, pod, c, now);
        continue;
      }
      if (c.waiting.reason === 'PodInitializing') c.waiting = { reason: 'ContainerCreating' };
      this.tryStart(rt, pod, c, now);
    }
  }

  /** A terminated container that must run again: at once the first time, then after a doubling back-off. */
  private scheduleRestart(rt: PodRuntime, pod: Pod, c: ContainerRuntime, now: number): void {
    c.lastTerminated = c.terminated;
    c.terminated = undefined;
    c.state = 'waiting';
    if (c.backoffMs === 0) {
      c.backoffMs = this.opts.restartBackoffMs;
      c.nextStartAt = now;
      c.waiting = { reason: 'ContainerCreating' };
      this.tryStart(rt, pod, c, now);
      return;
    }
    c.nextStartAt = now + c.backoffMs;
    const secs = Math.round(c.backoffMs / 1000);
    c.waiting = {
      reason: 'CrashLoopBackOff',
      message: `back-off ${secs}s restarting failed container=${c.name} pod=${rt.name}_${rt.ns}(${rt.uid})`,
    };
    this.event(rt, pod, { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${c.name} in pod ${rt.name}_${rt.ns}(${rt.uid})` }, c);
    c.backoffMs = Math.min(c.backoffMs * 2, this.opts.maxBackoffMs);
    this.armTimer(rt, c, c.nextStartAt - now);
  }

  private armTimer(rt: PodRuntime, c: ContainerRuntime, delayMs: number): void {
    if (c.timer) clearTimeout(c.timer);
    c.timer = setTimeout(() => {
      c.timer = undefined;
      this.enqueue(rt.ns, rt.name, rt.uid);
    }, Math.max(0, delayMs));
  }


  /** Image "pull" per pull policy and the image rule; false while the image is not available. */
  private pullImage(rt: PodRuntime, pod: Pod, c: ContainerRuntime, now: number): boolean {
    const cache = this.nodeImages.get(rt.node) ?? new Set<string>();
    this.nodeImages.set(rt.node, cache);
    return pullImage(c, now, {
      nodeImages: cache,
      imageRule: this.opts.imageRule,
      pullMs: this.delay.pullMs,
      backoffMs: this.opts.imagePullBackoffMs,
      maxBackoffMs: this.opts.maxBackoffMs,
      event: (e) => this.event(rt, pod, e, c),
      arm: (ms) => this.armTimer(rt, c, ms),
    });
  }

  private baseEnv(rt: PodRuntime): Record<string, string> {
    const env: Record<string, string> = {};
    if (this.opts.inheritEnv) {
      for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    } else {
      for (const k of PASSED_HOST_ENV) if (process.env[k] !== undefined) env[k] = process.env[k]!;
    }
    env.PATH ??= DEFAULT_PATH;
    env.HOSTNAME = rt.name;
    const api = this.host.apiEndpoint();
    env.KUBERNETES_SERVICE_HOST = api.host;
    env.KUBERNETES_SERVICE_PORT = String(api.port);
    env.KUBERNETES_PORT = `tcp://${api.host}:${api.port}`;
    Object.assign(env, this.opts.env);
    if (this.opts.pathPrepend.length) env.PATH = [...this.opts.pathPrepend, env.PATH].join(path.delimiter);
    return env;
  }

  private tryStart(rt: PodRuntime, pod: Pod, c: ContainerRuntime, now: number): void {
    const gate = Math.max(c.nextStartAt, rt.sandboxReadyAt);
    if (now < gate) {
      this.armTimer(rt, c, gate - now);
      return;
    }
    if (!c.imageReady && !this.pullImage(rt, pod, c, now)) return;
    const node = this.node(rt.node);
    const envRt: EnvRuntime = {
      podIP: rt.podIP,
      hostIP: rt.hostIP,
      nodeName: rt.node,
      nodeCpu: parseQuantity(node?.status.allocatable.cpu ?? '0') ?? 0,
      nodeMemory: parseQuantity(node?.status.allocatable.memory ?? '0') ?? 0,
    };
    const resolved = resolveContainerEnv(pod, c.spec, {
      configMap: (ns, name) => this.host.configMap(ns, name),
      secret: (ns, name) => this.host.secret(ns, name),
    }, envRt);
    if (!resolved.ok) {
      if (setWaiting(c, 'CreateContainerConfigError', resolved.message)) {
        this.event(rt, pod, { type: 'Warning', reason: 'Failed', message: `Error: ${resolved.message}` }, c);
      }
      this.armTimer(rt, c, this.opts.configRetryMs);
      return;
    }
    const env = { ...this.baseEnv(rt), ...resolved.env };
    const argv = containerArgv(c.spec, env);
    if (argv.length === 0) {
      const msg = 'failed to generate container spec: no command specified (the Floe dev cluster runs containers as local processes and has no image entrypoint: set command)';
      if (setWaiting(c, 'CreateContainerError', msg)) {
        this.event(rt, pod, { type: 'Warning', reason: 'Failed', message: `Error: ${msg}` }, c);
      }
      this.armTimer(rt, c, Math.max(this.opts.restartBackoffMs, 1000));
      return;
    }
    if (c.everStarted) c.restartCount++;
    c.everStarted = true;
    c.state = 'starting';
    c.containerID = `containerd://${randomBytes(32).toString('hex')}`;
    this.event(rt, pod, { type: 'Normal', reason: 'Created', message: `Created container ${c.name}` }, c);
    const log = this.logs.start(rt.uid, c.name);
    const cwd = c.spec.workingDir || rt.sandboxDir;
    // A container the pod marks as never starting its process is Running with nothing in it (a fault).
    const spawn = (): Promise<SpawnResult> =>
      neverStartsProcess(pod, c.name)
        ? Promise.resolve({ ok: true, proc: idleProcess() })
        : spawnContainer({ argv, env, cwd, onOutput: (chunk, stream) => log.append(chunk, stream) });
    const started = this.delay.containerStartMs > 0 ? new Promise<void>((r) => setTimeout(r, this.delay.containerStartMs)).then(spawn) : spawn();
    void started.then((res) => this.onSpawned(rt, c, res, log));
  }

  private onSpawned(rt: PodRuntime, c: ContainerRuntime, res: SpawnResult, log: ContainerLog): void {
    const pod = this.host.pod(rt.ns, rt.name);
    if (!res.ok) {
      log.close();
      c.state = 'terminated';
      c.terminated = {
        exitCode: 128,
        reason: 'StartError',
        message: res.message,
        startedAt: '1970-01-01T00:00:00Z',
        finishedAt: k8sTime(),
        containerID: c.containerID,
      };
      if (pod && pod.metadata.uid === rt.uid) this.event(rt, pod, { type: 'Warning', reason: 'Failed', message: `Error: ${res.message}` }, c);
      this.enqueue(rt.ns, rt.name, rt.uid);
      return;
    }
    c.proc = res.proc;
    c.state = 'running';
    c.startedAt = k8sTime();
    if (pod && pod.metadata.uid === rt.uid && !rt.gone) {
      this.event(rt, pod, { type: 'Normal', reason: 'Started', message: `Started container ${c.name}` }, c);
    }
    // Started after the pod began terminating (or vanished): stop it straight away.
    if (rt.gone || rt.killing || this.stopped) res.proc.signal('SIGKILL');
    void res.proc.exited.then((exit) => this.onExit(rt, c, exit, log));
    this.enqueue(rt.ns, rt.name, rt.uid);
  }

  private onExit(rt: PodRuntime, c: ContainerRuntime, exit: ProcessExit, log: ContainerLog): void {
    log.close();
    c.proc = undefined;
    const oom = c.oomKilled;
    c.oomKilled = false;
    c.state = 'terminated';
    c.terminated = {
      exitCode: oom ? 137 : exit.exitCode,
      reason: oom ? 'OOMKilled' : exit.exitCode === 0 ? 'Completed' : 'Error',
      startedAt: c.startedAt,
      finishedAt: k8sTime(),
      containerID: c.containerID,
    };
    if (rt.gone) this.maybeCleanup(rt);
    else this.enqueue(rt.ns, rt.name, rt.uid);
  }

  /** Samples process-group RSS; a container over its memory limit is killed and reported OOMKilled. */
  private checkMemory(): void {
    const watched = new Map<number, ContainerRuntime>();
    for (const rt of this.pods.values()) {
      for (const c of rt.containers) if (c.proc && c.proc.pid > 0 && c.memLimit !== undefined && !c.oomKilled) watched.set(c.proc.pid, c);
    }
    if (watched.size === 0) return;
    for (const [pgid, rss] of groupRss(new Set(watched.keys()))) {
      const c = watched.get(pgid)!;
      if (rss > c.memLimit!) {
        c.oomKilled = true;
        c.proc?.signal('SIGKILL');
      }
    }
  }

  // ---- termination -----------------------------------------------------------------------------------------

  private killContainers(rt: PodRuntime, pod: Pod, graceSeconds: number, now: number): void {
    if (!rt.killing) {
      rt.killing = true;
      for (const c of rt.containers) {
        if (!isActive(c)) continue;
        this.event(rt, pod, { type: 'Normal', reason: 'Killing', message: `Stopping container ${c.name}` }, c);
        c.proc?.signal('SIGTERM');
      }
      for (const c of rt.containers) if (c.timer) clearTimeout(c.timer);
    }
    const deadline = now + graceSeconds * 1000;
    if (rt.killDeadline === undefined || deadline < rt.killDeadline) {
      rt.killDeadline = deadline;
      if (rt.killTimer) clearTimeout(rt.killTimer);
      rt.killTimer = setTimeout(() => {
        for (const c of rt.containers) c.proc?.signal('SIGKILL');
      }, Math.max(0, deadline - now));
    }
  }

  private syncTerminating(rt: PodRuntime, pod: Pod, now: number): void {
    if (rt.deletionDone) return;
    this.killContainers(rt, pod, pod.metadata.deletionGracePeriodSeconds ?? 30, now);
    if (rt.containers.some(isActive)) {
      this.writeStatus(rt, pod);
      return;
    }
    rt.deletionDone = true;
    this.writeStatus(rt, pod, true);
    this.host.finishDeletion(pod);
  }

  /** The pod left the API (deleted, or force-deleted): kill what is left and clean up once it is gone. */
  private podGone(rt: PodRuntime): void {
    if (rt.gone) return;
    rt.gone = true;
    this.clearPodTimers(rt);
    for (const c of rt.containers) c.proc?.signal('SIGKILL');
    this.maybeCleanup(rt);
  }

  private clearPodTimers(rt: PodRuntime): void {
    if (rt.killTimer) clearTimeout(rt.killTimer);
    if (rt.deadlineTimer) clearTimeout(rt.deadlineTimer);
    for (const c of rt.containers) if (c.timer) clearTimeout(c.timer);
  }

  private maybeCleanup(rt: PodRuntime): void {
    if (rt.containers.some(isActive)) return;
    this.pods.delete(rt.uid);
    this.usedIps.delete(rt.podIP);
    this.logs.dropPod(rt.uid);
    this.host.forgetPod(rt.uid);
    try {
      rmSync(rt.sandboxDir, { recursive: true, force: true });
    } catch {
      // A process may still be writing in it; the sandbox root is removed on stop anyway.
    }
  }

  // ---- status ----------------------------------------------------------------------------------------------

  private writeStatus(rt: PodRuntime, pod: Pod, deleted = false): void {
    if (rt.gone) return;
    const { status, finished } = buildPodStatus(pod, rt.containers, { ...rt, deleted });
    if (finished && !rt.containers.some(isActive)) {
      rt.finished = true;
      this.clearPodTimers(rt);
    }
    if (jsonEqual(status, pod.status)) return;
    this.host.writeStatus(pod, status);
  }
}
