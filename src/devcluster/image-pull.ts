// Image "pulls" of the process kubelet: the image rule decides which images exist, pull policies and the
// node's image cache decide whether to pull, a modelled pull takes `pullMs`, and failures go ErrImagePull →
// ImagePullBackOff with a doubling back-off, with the kubelet's events.
import { createHash } from 'node:crypto';
import type { EventSpec } from './events.ts';
import type { Container } from './types.ts';

/** What a container's pull needs to remember between syncs. */
export interface PullState {
  spec: Container;
  state: 'waiting' | 'starting' | 'running' | 'terminated';
  waiting: { reason: string; message?: string };
  imageReady: boolean;
  imageID?: string;
  pullFailures: number;
  pullError?: string;
  pullHoldUntil: number;
  pullRetryAt: number;
  pullDoneAt?: number;
}

export interface PullContext {
  /** Images the node has. */
  nodeImages: Set<string>;
  imageRule: (image: string) => boolean;
  pullMs: number;
  backoffMs: number;
  maxBackoffMs: number;
  event(e: Omit<EventSpec, 'component' | 'host'>): void;
  /** Sync the pod again after this many ms. */
  arm(ms: number): void;
}

/** Sets a waiting reason; true when it changed (events are recorded only then). */
export function setWaiting(c: Pick<PullState, 'state' | 'waiting'>, reason: string, message?: string): boolean {
  const changed = c.waiting.reason !== reason || c.waiting.message !== message;
  c.state = 'waiting';
  c.waiting = message ? { reason, message } : { reason };
  return changed;
}

/** The image ID the runtime would report: the repository with a digest (made up from the image name). */
export function imageRef(image: string): string {
  const name = image.split('@')[0];
  const qualified = name.includes('/') ? (name.split('/')[0].includes('.') ? name : `docker.io/${name}`) : `docker.io/library/${name}`;
  return `${qualified.replace(/:[^/:]+$/, '')}@sha256:${createHash('sha256').update(image).digest('hex')}`;
}

/** Image "pull" per pull policy and the image rule; false while the image is not available. */
export function pullImage(c: PullState, now: number, ctx: PullContext): boolean {
  const image = c.spec.image ?? '';
  if (c.waiting.reason === 'ErrImagePull') {
    if (now < c.pullHoldUntil) {
      ctx.arm(c.pullHoldUntil - now);
      return false;
    }
    setWaiting(c, 'ImagePullBackOff', `Back-off pulling image "${image}": ErrImagePull: ${c.pullError}`);
    ctx.event({ type: 'Normal', reason: 'BackOff', message: `Back-off pulling image "${image}"` });
    ctx.event({ type: 'Warning', reason: 'Failed', message: 'Error: ImagePullBackOff' });
    ctx.arm(c.pullRetryAt - now);
    return false;
  }
  if (c.waiting.reason === 'ImagePullBackOff' && now < c.pullRetryAt) {
    ctx.arm(c.pullRetryAt - now);
    return false;
  }
  const cache = ctx.nodeImages;
  const exists = ctx.imageRule(image);
  const policy = c.spec.imagePullPolicy ?? 'IfNotPresent';
  if (policy === 'Never' || (policy === 'IfNotPresent' && cache.has(image))) {
    if (exists) {
      ctx.event({ type: 'Normal', reason: 'Pulled', message: `Container image "${image}" already present on machine` });
      c.imageReady = true;
      c.imageID = imageRef(image);
      return true;
    }
    if (setWaiting(c, 'ErrImageNeverPull', `Container image "${image}" is not present with pull policy of Never`)) {
      ctx.event({ type: 'Warning', reason: 'ErrImageNeverPull', message: `Container image "${image}" is not present with pull policy of Never` });
      ctx.event({ type: 'Warning', reason: 'Failed', message: 'Error: ErrImageNeverPull' });
    }
    ctx.arm(ctx.backoffMs);
    return false;
  }
  if (c.pullDoneAt === undefined) {
    ctx.event({ type: 'Normal', reason: 'Pulling', message: `Pulling image "${image}"` });
    if (exists && ctx.pullMs > 0) {
      c.pullDoneAt = now + ctx.pullMs;
      ctx.arm(ctx.pullMs);
      return false;
    }
  } else if (now < c.pullDoneAt) {
    ctx.arm(c.pullDoneAt - now);
    return false;
  }
  c.pullDoneAt = undefined;
  if (exists) {
    cache.add(image);
    const secs = `${(ctx.pullMs / 1000).toFixed(3).replace(/\.?0+$/, '')}s`;
    ctx.event({ type: 'Normal', reason: 'Pulled', message: `Successfully pulled image "${image}" in ${secs} (${secs} including waiting). Image size: 0 bytes.` });
    c.imageReady = true;
    c.imageID = imageRef(image);
    return true;
  }
  c.pullFailures++;
  const ref = imageRef(image).split('@')[0];
  c.pullError = `rpc error: code = NotFound desc = failed to pull and unpack image "${ref}": failed to resolve reference "${ref}": ${ref}: not found`;
  setWaiting(c, 'ErrImagePull', c.pullError);
  ctx.event({ type: 'Warning', reason: 'Failed', message: `Failed to pull image "${image}": ${c.pullError}` });
  ctx.event({ type: 'Warning', reason: 'Failed', message: 'Error: ErrImagePull' });
  const backoff = Math.min(ctx.backoffMs * 2 ** (c.pullFailures - 1), ctx.maxBackoffMs);
  c.pullRetryAt = now + backoff;
  c.pullHoldUntil = now + Math.min(1000, backoff / 2);
  ctx.arm(c.pullHoldUntil - now);
  return false;
}
