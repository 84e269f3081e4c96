// A pod task's try, run by the task runner whatever the executor: build the pod (the pod pipeline), create it —
// or re-attach to the pod an earlier try left running when its runner died —, stream its log into the task
// log while it runs, and end with the pod's outcome: its XCom line on success, Kubernetes' reason on failure.
// Imported only for pod tasks: it is what loads the Kubernetes client into a task process.
import { PassThrough } from 'node:stream';
import { type V1Pod, Log, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { type LoadedConfig, loadConfig } from '../config/load.ts';
import type { SerializedTask } from '../dag/model.ts';
import { DEFAULT_FAST_FAIL_REASONS, podVerdict } from '../executors/kubernetes/pod-state.ts';
import { apiMessage, classifyError, type KubeApi, kubeApiFromConfig, statusCode } from '../kubernetes/client.ts';
import { kubernetesPodConfig } from '../kubernetes/pod/config.ts';
import { loadMutationHook } from '../kubernetes/pod/hook.ts';
import { buildOperatorPod, OPERATOR_DONE, operatorPodTry, operatorSelector } from '../kubernetes/pod/operator.ts';
import { loadPodTemplates } from '../kubernetes/pod/templates.ts';
import type { TaskBody } from '../sdk/dag.ts';
import { isTaskRef } from '../sdk/dag.ts';
import type { TaskContext } from '../sdk/types.ts';
import { sleep } from '../util/time.ts';
import type { TaskLog } from './task-log.ts';
import { renderTemplate, templateVariables } from './templates.ts';
import path from 'node:path';

type PodBody = Extract<TaskBody, { kind: 'pod' }>;

/** The line a container prints to hand back its result: this prefix, then JSON, on one line. */
export const XCOM_MARKER = '::floe-xcom::';
/** Longest XCom line taken from a pod's log. */
export const MAX_XCOM_BYTES = 1024 * 1024;
const POLL_MS = 500;

/**
 * Reads a pod's log lines as they come, across reconnects: lines carry their timestamps; a reconnect resumes
 * from the second of the last line taken (the API's precision) and skips what was taken already — lines before
 * it, and as many lines at its exact timestamp as were taken — so no line is lost or repeated.
 */
export class LogFollower {
  private carry = '';
  private lastTs = '';
  private takenAtLast = 0;
  /** After a reconnect, until a line newer than lastTs: lines at lastTs seen again. */
  private replayed: number | null = null;
  xcomLine: string | null = null;

  constructor(private readonly onLine: (text: string) => void) {}

  /** Feeds a chunk of `timestamp text` lines (as the API sends them with timestamps=true). */
  push(chunk: string): void {
    const lines = (this.carry + chunk).split('\n');
    this.carry = lines.pop()!;
    for (const l of lines) this.take(l);
  }

  /** The stream ended: a last line without a newline is complete too. */
  end(): void {
    if (this.carry) this.take(this.carry);
    this.carry = '';
  }

  /** Where a reconnect resumes (whole seconds, as the API takes it), or undefined when nothing was read yet. */
  get sinceTime(): string | undefined {
    return this.lastTs ? `${this.lastTs.slice(0, 19)}Z` : undefined;
  }

  /** Call before each reconnect. */
  resume(): void {
    this.carry = '';
    this.replayed = this.lastTs ? 0 : null;
  }

  private take(line: string): void {
    const sp = line.indexOf(' ');
    const ts = sp > 0 ? line.slice(0, sp) : '';
    const text = sp > 0 ? line.slice(sp + 1) : line;
    if (this.replayed !== null) {
      if (ts < this.lastTs) return;
      if (ts === this.lastTs && ++this.replayed <= this.takenAtLast) return;
      if (ts > this.lastTs) this.replayed = null;
    }
    if (ts === this.lastTs) this.takenAtLast++;
    else {
      this.lastTs = ts;
      this.takenAtLast = 1;
    }
    if (text.startsWith(XCOM_MARKER)) this.xcomLine = text.slice(XCOM_MARKER.length);
    this.onLine(text);
  }
}

/** The XCom a pod handed back, from its marker line; a clear error when it is not JSON or too large. */
export function parsePodXcom(line: string | null, taskId: string): unknown {
  if (line === null) return undefined;
  if (Buffer.byteLength(line) > MAX_XCOM_BYTES) throw new Error(`task ${taskId}: the ${XCOM_MARKER} line is ${Buffer.byteLength(line)} bytes; at most ${MAX_XCOM_BYTES} are taken (write large results to storage and return where they are)`);
  try {
    return JSON.parse(line);
  } catch (e) {
    throw new Error(`task ${taskId}: the pod's ${XCOM_MARKER} line is not JSON: ${(e as Error).message}`);
  }
}

/** args and env with templates rendered and upstream results filled in (a string as it is, anything else as JSON). */
async function resolveValues(body: PodBody, ctx: TaskContext, pull: (taskId: string, key: string) => Promise<unknown>) {
  const vars = templateVariables(ctx);
  const value = async (v: unknown, where: string): Promise<string> => {
    if (isTaskRef(v)) {
      const got = await pull(v.taskId, v.key);
      return typeof got === 'string' ? got : JSON.stringify(got ?? null);
    }
    return renderTemplate(String(v), vars, `task ${ctx.taskId} ${where}`);
  };
  const args = await Promise.all(body.args.map((a, i) => value(a, `args[${i}]`)));
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(body.env)) env[k] = await value(v, `env ${k}`);
  const command = body.command ? body.command.map((c, i) => renderTemplate(c, vars, `task ${ctx.taskId} command[${i}]`)) : null;
  return { args, env, command };
}

/** Runs one try of a pod task; resolves to its XCom. */
export async function runPodTask(
  body: PodBody,
  task: SerializedTask,
  ctx: TaskContext,
  log: TaskLog,
  pull: (taskId: string, key: string) => Promise<unknown>,
  given?: LoadedConfig,
): Promise<unknown> {
  const cfg = given ?? loadConfig();
  const podCfg = kubernetesPodConfig(cfg);
  const api = kubeApiFromConfig(cfg);
  const [templates, hook] = await Promise.all([loadPodTemplates(podCfg), podCfg.podMutationHook ? loadMutationHook(path.resolve(podCfg.baseDir, podCfg.podMutationHook)) : null]);
  const { args, env, command } = await resolveValues(body, ctx, pull);
  const ti = { dagId: ctx.dagId, taskId: ctx.taskId, runId: ctx.runId, tryNumber: ctx.tryNumber, mapIndex: ctx.mapIndex };
  const built = await buildOperatorPod({ ...ti, task: { ...task, pod: task.pod! }, args, env, command, templates, cfg: podCfg, hook });
  const namespace = built.metadata!.namespace!;
  const pod = (await reattach(api, namespace, ti, log)) ?? (await create(api, built, log));
  const ref = { namespace, name: pod.metadata!.name!, uid: pod.metadata!.uid! };
  log.line('INFO', `pod ${namespace}/${ref.name} (uid ${ref.uid}) runs image ${body.image}`);
  let outcome: 'succeeded' | 'failed' | 'aborted' = 'failed';
  try {
    const follower = new LogFollower((text) => log.raw(Buffer.from(`${text}\n`)));
    const podEnded = new AbortController();
    const logs = streamLogs(api, ref, follower, ctx.signal, podEnded.signal);
    const verdict = await waitForEnd(api, ref, body.startupTimeout * 1000, ctx.signal).finally(() => podEnded.abort());
    await logs;
    if (verdict.kind !== 'succeeded') throw new Error(`pod ${namespace}/${ref.name}: ${verdict.reason}`);
    outcome = 'succeeded';
    return body.xcom ? parsePodXcom(follower.xcomLine, ctx.taskId) : undefined;
  } catch (e) {
    if (ctx.signal.aborted) outcome = 'aborted';
    throw e;
  } finally {
    await finish(api, ref, outcome, body.onFinish, log);
  }
}

/** A pod an earlier try of this task instance left (its runner died), not yet taken by any try: now this try's. */
async function reattach(api: KubeApi, namespace: string, ti: { dagId: string; taskId: string; runId: string; tryNumber: number; mapIndex: number }, log: TaskLog): Promise<V1Pod | null> {
  const list = await api.call((c) => c.listNamespacedPod({ namespace, labelSelector: operatorSelector(ti) }));
  const open = list.items.filter((p) => !p.metadata?.deletionTimestamp && p.metadata?.annotations?.[OPERATOR_DONE] !== 'true' && (operatorPodTry(p) ?? 0) <= ti.tryNumber);
  open.sort((a, b) => (operatorPodTry(b) ?? 0) - (operatorPodTry(a) ?? 0));
  const [pod, ...stale] = open;
  for (const s of stale) await deletePod(api, { namespace, name: s.metadata!.name!, uid: s.metadata!.uid! }, log, 'an older pod of this task instance');
  if (!pod) return null;
  const patched = await api.call((c) =>
    c.patchNamespacedPod(
      {
        namespace,
        name: pod.metadata!.name!,
        body: { metadata: { labels: { 'floe.dev/try-number': String(ti.tryNumber) }, annotations: { 'floe.dev/try-number': String(ti.tryNumber) } } },
      },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  log.line('INFO', `re-attached to pod ${namespace}/${pod.metadata!.name} (uid ${pod.metadata!.uid}), left by try ${operatorPodTry(pod)} whose runner ended without its outcome`);
  return patched;
}

async function create(api: KubeApi, built: V1Pod, log: TaskLog): Promise<V1Pod> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await api.call((c) => c.createNamespacedPod({ namespace: built.metadata!.namespace!, body: built }));
    } catch (e) {
      const c = classifyError(e);
      if (c.kind === 'retry' && attempt < 5) {
        log.line('WARN', `creating the pod failed (${apiMessage(e)}); trying again`);
        await sleep(c.afterMs ?? 500 * attempt);
        continue;
      }
      throw new Error(`the pod could not be created: ${apiMessage(e)}`);
    }
  }
}

/** Polls the pod until it ends (or fails to start within its startup timeout); the verdict says how. */
async function waitForEnd(api: KubeApi, ref: { namespace: string; name: string; uid: string }, startupMs: number, signal: AbortSignal) {
  for (;;) {
    if (signal.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('the try was stopped');
    let pod: V1Pod | null = null;
    try {
      pod = await api.call((c) => c.readNamespacedPod({ namespace: ref.namespace, name: ref.name }));
    } catch (e) {
      if (statusCode(e) !== 404 && classifyError(e).kind === 'retry') {
        await sleep(POLL_MS);
        continue;
      }
      if (statusCode(e) !== 404) throw e;
    }
    if (!pod || pod.metadata?.uid !== ref.uid) return { kind: 'failed' as const, reason: 'the pod was deleted before it finished' };
    const v = podVerdict(pod, { fastFailReasons: DEFAULT_FAST_FAIL_REASONS, pendingTimeoutMs: startupMs, now: Date.now() });
    if (v.kind === 'succeeded') return v;
    if (v.kind === 'failed' || v.kind === 'infra_failed') return { kind: 'failed' as const, reason: v.reason.replace('(pending over', '(startupTimeout: pending over').replace(', kubernetes.podPendingTimeout)', ')') };
    await sleep(POLL_MS);
  }
}

/**
 * Streams the base container's log into the follower until the container has ended: a followed stream that
 * ends (the container ended, or the connection dropped) is followed by a look at the pod, then either a last
 * catch-up read or a reconnect; the follower drops whatever a reconnect sends twice.
 */
async function streamLogs(api: KubeApi, ref: { namespace: string; name: string; uid: string }, follower: LogFollower, signal: AbortSignal, podEnded: AbortSignal): Promise<void> {
  const logApi = new Log(api.kc);
  const read = (follow: boolean) => {
    const since = follower.sinceTime;
    follower.resume();
    const out = new PassThrough();
    out.on('data', (d: Buffer) => follower.push(d.toString('utf8')));
    // client-node pipes the response into `out`, which ends when the response does (or errors when it breaks).
    return new Promise<void>((resolve) => {
      out.once('end', () => resolve());
      out.once('error', () => resolve());
      void logApi
        .log(ref.namespace, ref.name, 'base', out, { follow, timestamps: true, ...(since ? { sinceTime: since } : {}) })
        .then((ctrl) => signal.addEventListener('abort', () => ctrl.abort(), { once: true }))
        .catch(() => resolve());
    }).finally(() => follower.end());
  };
  for (let attempt = 0; !signal.aborted; attempt++) {
    const pod = await api.call((c) => c.readNamespacedPod({ namespace: ref.namespace, name: ref.name })).catch(() => null);
    if (!pod || pod.metadata?.uid !== ref.uid) return;
    const base = pod.status?.containerStatuses?.find((c) => c.name === 'base');
    if (base?.state?.terminated || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed') return read(false);
    if (base?.state?.running) await read(true);
    else if (podEnded.aborted) return; // ended without its container ever running: no log
    else await sleep(POLL_MS); // not started yet: its log does not exist
    if (attempt > 0 && base?.state?.running) await sleep(Math.min(2000, 100 * 2 ** Math.min(attempt, 4)));
  }
}

/** Marks the pod as taken (no later try re-attaches to it), then deletes it as onFinish says; a stopped try's pod always goes. */
async function finish(api: KubeApi, ref: { namespace: string; name: string; uid: string }, outcome: 'succeeded' | 'failed' | 'aborted', onFinish: PodBody['onFinish'], log: TaskLog): Promise<void> {
  const remove = outcome === 'aborted' || onFinish === 'delete' || (onFinish === 'deleteSucceeded' && outcome === 'succeeded');
  if (remove) return deletePod(api, ref, log, outcome === 'aborted' ? 'the stopped try\'s pod' : 'the pod (onFinish)');
  try {
    await api.call((c) =>
      c.patchNamespacedPod({ namespace: ref.namespace, name: ref.name, body: { metadata: { annotations: { [OPERATOR_DONE]: 'true' } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
    );
    log.line('INFO', `pod ${ref.namespace}/${ref.name} kept (onFinish: ${onFinish})`);
  } catch (e) {
    log.line('WARN', `could not mark pod ${ref.name} as done: ${apiMessage(e)}`);
  }
}

async function deletePod(api: KubeApi, ref: { namespace: string; name: string; uid: string }, log: TaskLog, what: string): Promise<void> {
  try {
    await api.call((c) => c.deleteNamespacedPod({ namespace: ref.namespace, name: ref.name, body: { preconditions: { uid: ref.uid }, gracePeriodSeconds: 0 } }));
    log.line('INFO', `deleted ${what}: ${ref.namespace}/${ref.name}`);
  } catch (e) {
    if (statusCode(e) !== 404) log.line('WARN', `could not delete ${what} ${ref.namespace}/${ref.name}: ${apiMessage(e)}`);
  }
}
