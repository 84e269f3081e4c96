// The pod side of warm pods: a worker pod started with `--warm-pod` runs further tries with the same spec key
// after the one it was started for, one at a time, in this process (DAG files stay imported, the database stays
// open: a try starts in milliseconds). With each try's outcome it offers itself again, in the same transaction,
// so it is available the moment a downstream try can be queued. Each try is separate: its own log, timeout and
// outcome; the environment and working directory are put back before every try. The pod leaves (its process
// exits, the pod Succeeds) after idleSeconds without work, after maxTriesPerPod tries, or when a try leaves
// something behind it cannot undo (a timed-out task may still be running; resources left open).
import type { Db } from '../db/connect.ts';
import { offerWarmPodIn, takeOrRetire, type WarmAssignment } from '../db/warm-pods.ts';
import { sleep } from '../util/time.ts';
import { type RunnerDeps, runTaskTry } from './runner.ts';
import type { AlsoIn } from './try-recorder.ts';

export interface WarmPodSettings {
  podName: string;
  namespace: string;
  schedulerId: string;
  specKey: string;
  idleSeconds: number;
  maxTriesPerPod: number;
  maxWarmPods: number;
  /** How often an idle pod looks for an assignment. */
  pollMs?: number;
}

/**
 * What a try can leave behind that a later try in the same process would run into: child processes still
 * running, servers still listening. (Pipes, file requests and timers are also opened by Floe itself and by
 * module loading — tsx's compiler service —, so they tell nothing about the task.)
 */
const LEAK_KINDS = new Set(['ProcessWrap', 'TCPServerWrap', 'UDPWrap', 'PipeServerWrap']);

/** Open resources of the kinds above, by kind. */
function openResources(): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) if (LEAK_KINDS.has(r)) out.set(r, (out.get(r) ?? 0) + 1);
  return out;
}

/** Kinds of which more are open than before the try: what it leaked. */
export function leakedResources(before: Map<string, number>, after: Map<string, number>): string[] {
  return [...after].filter(([kind, n]) => n > (before.get(kind) ?? 0)).map(([kind, n]) => `${kind} (${n - (before.get(kind) ?? 0)})`);
}

export class WarmPod {
  private triesRun = 0;
  private leaving: string | null = null;
  private before = openResources();
  private readonly env: NodeJS.ProcessEnv;
  private readonly cwd: string;

  /** Made before the pod's first try: its environment and working directory are what every later try starts from. */
  constructor(
    private readonly db: Db,
    private readonly s: WarmPodSettings,
  ) {
    this.env = { ...process.env };
    this.cwd = process.cwd();
  }

  /** RunnerDeps.afterTry: whether the pod stays, written with the try's outcome. */
  afterTry = async (o: { timedOut: boolean }): Promise<AlsoIn> => {
    this.triesRun++;
    // Timers and handles a finished try should not keep: give the event loop a turn to close what is closing.
    await sleep(20);
    const leaked = leakedResources(this.before, openResources());
    if (o.timedOut) this.leaving = 'a try timed out (its task may still run in this process)';
    else if (leaked.length) this.leaving = `a try left resources open: ${leaked.join(', ')}`;
    else if (this.triesRun >= this.s.maxTriesPerPod) this.leaving = `it ran ${this.triesRun} tries (kubernetes.warmPods.maxTriesPerPod)`;
    return async (trx) => {
      const state = await offerWarmPodIn(trx, { ...this.s, triesRun: this.triesRun }, this.s.maxWarmPods, this.leaving !== null);
      if (state === 'retired') this.leaving ??= `${this.s.maxWarmPods} warm pods are idle already (kubernetes.warmPods.maxWarmPods)`;
    };
  };

  /** After the first try: runs the tries handed to this pod until it leaves; says why it left. */
  async serve(deps: RunnerDeps): Promise<string> {
    const pollMs = this.s.pollMs ?? 50;
    for (;;) {
      if (this.leaving) return `leaving: ${this.leaving}`;
      const deadline = Date.now() + this.s.idleSeconds * 1000;
      let take: WarmAssignment | null = null;
      while (!take) {
        const r = await takeOrRetire(this.db.kysely, this.s.podName, Date.now() >= deadline);
        if (r && 'retired' in r)
          return r.retired === 'now'
            ? `leaving: idle for ${this.s.idleSeconds}s (kubernetes.warmPods.idleSeconds)`
            : 'leaving: retired while idle (by its scheduler, to make room for a new pod or on stop; by the orphan sweep; or by cleanup-pods)';
        if (r) take = r.take;
        else await sleep(pollMs);
      }
      for (const k of Object.keys(process.env)) if (!(k in this.env)) delete process.env[k];
      Object.assign(process.env, this.env);
      process.chdir(this.cwd);
      this.before = openResources();
      const outcome = await runTaskTry({ ...deps, afterTry: this.afterTry }, take.key, take.tryNumber, 'run', { launchId: take.launchId });
      // A launch taken back meanwhile (claim refused): nothing recorded, so the pod offers itself here.
      if (!outcome.ran) {
        const offer = await this.afterTry({ timedOut: false });
        await this.db.kysely.transaction().execute(offer);
      }
    }
  }
}
