// Stage 2: the podOverride merged onto the template pod by Floe's rules (docs/kubernetes.md, "Merge rules").
// Lists of named things are merged by identity so the result never holds two entries with the same
// identity; Airflow's reconcile instead matches containers by position and appends lists.
import type { V1Pod } from '@kubernetes/client-node';
import { PodPipelineError } from './errors.ts';
import { keySeg, joinPath } from './paths.ts';
import { isEmptyObject, isObject, kindOf, stripNulls, toPlain, type Obj } from './plain.ts';

export interface ListRule {
  /** The identities of an item (an override item replaces/merges the first base item sharing one). */
  ids(item: Obj): string[];
  /** What the path segment of an item shows: `[name=base]`. */
  describe(item: Obj): string | null;
  /** true: matched items merge field by field (containers); false: the override's item replaces it. */
  deep: boolean;
  /** Items must have an identity (containers are matched by name only). */
  required?: string;
}

const str = (v: unknown): v is string => typeof v === 'string' && v !== '';
const byName: ListRule = { ids: (i) => (str(i.name) ? [`name=${i.name}`] : []), describe: (i) => (str(i.name) ? `[name=${i.name}]` : null), deep: false };
const containers: ListRule = { ...byName, deep: true, required: 'containers are matched by name, so every container in an override needs a "name"' };
const mounts: ListRule = {
  ids: (i) => (str(i.mountPath) ? [`mountPath=${i.mountPath}`] : []),
  describe: (i) => (str(i.mountPath) ? `[mountPath=${i.mountPath}]` : null),
  deep: false,
};
const ports: ListRule = {
  ids: (i) => [
    ...(str(i.name) ? [`name=${i.name}`] : []),
    ...(typeof i.containerPort === 'number' ? [`port=${i.containerPort}/${str(i.protocol) ? i.protocol : 'TCP'}`] : []),
  ],
  describe: (i) => (str(i.name) ? `[name=${i.name}]` : null),
  deep: false,
};
const refName = (r: unknown): string | null => (isObject(r) && str(r.name) ? r.name : null);
const envFrom: ListRule = {
  ids: (i) => {
    const cm = refName(i.configMapRef);
    const s = refName(i.secretRef);
    return [...(cm ? [`configMap=${cm}`] : []), ...(s ? [`secret=${s}`] : [])];
  },
  describe: () => null,
  deep: false,
};
const tolerations: ListRule = {
  // tolerationSeconds is a setting of a toleration, not part of what it tolerates.
  ids: (i) => [[i.key ?? '', i.operator ?? 'Equal', i.value ?? '', i.effect ?? ''].map(String).join('|')],
  describe: () => null,
  deep: false,
};

const CONTAINER_LISTS = ['containers', 'initContainers', 'ephemeralContainers'];

/** The list rules, by field path without list positions (`spec.containers.env`). */
export const LIST_RULES: ReadonlyMap<string, ListRule> = new Map<string, ListRule>([
  ['spec.volumes', byName],
  ['spec.tolerations', tolerations],
  ['spec.imagePullSecrets', byName],
  ...CONTAINER_LISTS.flatMap((c): [string, ListRule][] => [
    [`spec.${c}`, containers],
    [`spec.${c}.env`, byName],
    [`spec.${c}.envFrom`, envFrom],
    [`spec.${c}.volumeMounts`, mounts],
    [`spec.${c}.ports`, ports],
  ]),
]);

type Ctx = { keys: string[]; shown: string };
const REMOVE = Symbol('remove');

function mergeValue(base: unknown, over: unknown, ctx: Ctx, where: string): unknown {
  if (over === undefined) return base;
  if (over === null) return REMOVE;
  if (Array.isArray(over)) {
    const rule = LIST_RULES.get(ctx.keys.join('.'));
    if (rule) return mergeList(Array.isArray(base) ? base : [], over, rule, ctx, where);
    return stripNulls(over);
  }
  if (isObject(over)) {
    if (!isObject(base)) return stripNulls(over);
    const out: Obj = { ...base };
    for (const [k, v] of Object.entries(over)) {
      const m = mergeValue(base[k], v, { keys: [...ctx.keys, k], shown: ctx.shown + keySeg(k, ctx.shown === '') }, where);
      if (m === REMOVE || m === undefined) delete out[k];
      else out[k] = m;
    }
    return out;
  }
  return over;
}

function mergeList(base: unknown[], over: unknown[], rule: ListRule, ctx: Ctx, where: string): unknown[] {
  const out = [...base];
  const seen = new Map<string, number>();
  over.forEach((item, i) => {
    const itemShown = ctx.shown + (isObject(item) ? (rule.describe(item) ?? `[${i}]`) : `[${i}]`);
    if (!isObject(item)) {
      if (rule.required) throw new PodPipelineError({ stage: 'override', path: joinPath(where, itemShown), message: `expected an object, got ${kindOf(item)}` });
      if (item !== null) out.push(item);
      return;
    }
    const ids = rule.ids(item);
    if (ids.length === 0) {
      if (rule.required) throw new PodPipelineError({ stage: 'override', path: joinPath(where, `${itemShown}.name`), message: rule.required });
      out.push(stripNulls(item));
      return;
    }
    for (const id of ids) {
      const first = seen.get(id);
      if (first !== undefined) {
        throw new PodPipelineError({ stage: 'override', path: joinPath(where, itemShown), message: `two entries with the same ${id.split('=')[0]} (${id}): entries ${first} and ${i} of the list` });
      }
      seen.set(id, i);
    }
    const at = out.findIndex((b) => isObject(b) && rule.ids(b).some((id) => ids.includes(id)));
    const merged = rule.deep ? mergeValue(at >= 0 ? out[at] : undefined, item, { keys: ctx.keys, shown: itemShown }, where) : stripNulls(item);
    if (at >= 0) out[at] = merged;
    else out.push(merged);
  });
  return out;
}

/**
 * Checks an override is a pod-shaped object and returns its plain JSON (a `V1Pod` instance becomes
 * camelCase JSON). `where` names it in errors (`executorConfig.podOverride`).
 */
export function overrideToPlain(override: unknown, where = 'executorConfig.podOverride'): Obj {
  let plain: unknown;
  try {
    plain = toPlain(override);
  } catch (e) {
    throw new PodPipelineError({ stage: 'override', path: where, message: `cannot be turned into JSON (${(e as Error).message})` });
  }
  if (!isObject(plain)) throw new PodPipelineError({ stage: 'override', path: where, message: `expected a pod (an object or a V1Pod), got ${kindOf(override)}` });
  // `status: {}` is what `kubectl … -o yaml` writes for a new object: nothing to refuse.
  if (plain.status !== undefined && plain.status !== null && !isEmptyObject(plain.status)) {
    throw new PodPipelineError({ stage: 'override', path: joinPath(where, 'status'), message: 'a pod status is set by Kubernetes; remove it from the override' });
  }
  delete plain.status;
  return plain;
}

/**
 * Stage 2 — returns a new pod: `override` (a plain object or `V1Pod`) merged onto `pod`.
 * Throws `PodPipelineError` (stage "override") when the override cannot be merged (e.g. a container without name).
 */
export function applyOverride(pod: V1Pod, override: unknown, where = 'executorConfig.podOverride'): V1Pod {
  if (override === undefined || override === null) return toPlain(pod) as V1Pod;
  const plain = overrideToPlain(override, where);
  const merged = mergeValue(toPlain(pod), plain, { keys: [], shown: '' }, where);
  return (merged === REMOVE ? {} : merged) as V1Pod;
}
