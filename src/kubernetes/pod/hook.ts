// Stage 4: the admin's podMutationHook, run last on every pod Floe creates.
import type { V1Pod } from '@kubernetes/client-node';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeThrown, PodPipelineError } from './errors.ts';
import { BASE_CONTAINER, FLOE_KEYS, findBase } from './identity.ts';
import { toV1Pod } from './models.ts';
import { clonePod, isObject, kindOf, toPlain } from './plain.ts';
import { keySeg } from './paths.ts';
import { validatePod } from './validate.ts';
import { loadUserModule } from '../../util/user-modules.ts';

/** What the hook module exports: mutate `pod` in place, or return a replacement. */
export type PodMutationHook = (pod: V1Pod) => void | V1Pod | Promise<void | V1Pod>;

export interface LoadedHook {
  /** Absolute path of the module (named in errors). */
  path: string;
  fn: PodMutationHook;
}

function hookSource(hook: Pick<LoadedHook, 'path'>): string {
  return `podMutationHook in ${hook.path}`;
}

/** Imports a .ts/.js module exporting `podMutationHook`. Throws `PodPipelineError` (stage "hook") naming the module. */
export async function loadMutationHook(file: string): Promise<LoadedHook> {
  const abs = path.resolve(file);
  const source = hookSource({ path: abs });
  if (!existsSync(abs)) throw new PodPipelineError({ stage: 'hook', source, path: '', message: 'cannot load the module: no such file' });
  let mod: Record<string, unknown>;
  try {
    mod = await loadUserModule(abs);
  } catch (e) {
    throw new PodPipelineError({ stage: 'hook', source, path: '', message: `cannot load the module: ${describeThrown(e)}` });
  }
  const fn = mod.podMutationHook;
  if (typeof fn !== 'function') {
    const names = Object.keys(mod);
    throw new PodPipelineError({
      stage: 'hook',
      source,
      path: '',
      message: `the module must export a function named podMutationHook (it exports ${names.length ? names.join(', ') : 'nothing'})`,
    });
  }
  return { path: abs, fn: fn as PodMutationHook };
}

/**
 * Runs `hook` on a copy of `pod` (given as `V1Pod` model instances) and returns the resulting plain pod.
 * A hook that throws, returns something other than nothing or a pod, or leaves an invalid pod fails with
 * a `PodPipelineError` (stage "hook") naming the hook module. Used for worker pods and operator pods alike.
 */
export async function applyMutationHookToPod(pod: V1Pod, hook: LoadedHook): Promise<V1Pod> {
  const source = hookSource(hook);
  const input = toV1Pod(clonePod(pod));
  let returned: unknown;
  try {
    returned = await hook.fn(input);
  } catch (e) {
    throw new PodPipelineError({ stage: 'hook', source, path: '', message: `threw: ${describeThrown(e)}` });
  }
  const out = returned === undefined ? input : returned;
  if (!isObject(out)) throw new PodPipelineError({ stage: 'hook', source, path: '', message: `returned ${kindOf(out)}; return nothing (after changing the pod) or a V1Pod` });
  let plain: unknown;
  try {
    plain = toPlain(out);
  } catch (e) {
    throw new PodPipelineError({ stage: 'hook', source, path: '', message: `returned a pod that cannot be turned into JSON (${describeThrown(e)})` });
  }
  const issues = validatePod(plain);
  if (issues.length) {
    throw new PodPipelineError({ stage: 'hook', source: `${source} left an invalid pod`, path: issues[0].path, message: issues[0].message, issues });
  }
  return plain as V1Pod;
}

/** Floe's identity fields of a worker pod, by path, for checking a hook kept them. */
function identityFields(pod: V1Pod): Map<string, string> {
  const out = new Map<string, string>();
  out.set('metadata.name', JSON.stringify(pod.metadata?.name));
  for (const key of Object.values(FLOE_KEYS)) {
    out.set(`metadata.labels${keySeg(key, false)}`, JSON.stringify(pod.metadata?.labels?.[key]));
    out.set(`metadata.annotations${keySeg(key, false)}`, JSON.stringify(pod.metadata?.annotations?.[key]));
  }
  const base = findBase(pod);
  out.set(`spec.containers[name=${BASE_CONTAINER}].command`, JSON.stringify(base?.command));
  out.set(`spec.containers[name=${BASE_CONTAINER}].args`, JSON.stringify(base?.args));
  out.set('spec.restartPolicy', JSON.stringify(pod.spec?.restartPolicy));
  return out;
}

/**
 * Stage 4 for worker pods — `applyMutationHookToPod`, plus a check that the hook left Floe's identity
 * (name, floe.dev labels and annotations, the base command and args, restartPolicy) alone: the scheduler finds
 * and adopts pods by them. No hook: the pod unchanged.
 */
export async function applyMutationHook(pod: V1Pod, hook?: LoadedHook | null): Promise<V1Pod> {
  if (!hook) return pod;
  const out = await applyMutationHookToPod(pod, hook);
  const before = identityFields(pod);
  const after = identityFields(out);
  for (const [field, v] of before) {
    if (after.get(field) !== v) {
      throw new PodPipelineError({
        stage: 'hook',
        source: hookSource(hook),
        path: field,
        message: `the hook changed a Floe identity field (${v ?? 'unset'} → ${after.get(field) ?? 'unset'}); hooks may change anything but the pod name, floe.dev/ labels and annotations, the base command and args, and restartPolicy`,
      });
    }
  }
  return out;
}
