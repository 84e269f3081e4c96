// The API semantics behind the HTTP routes: create/get/list/update/patch/delete with the real server's
// preconditions, defaulting, validation, graceful pod deletion, finalizers, namespace termination,
// pagination and resourceVersion rules. Transport-free, so the kubelet and tests can call it directly.
import { randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import type { Faults } from './faults.ts';
import { jsonEqual } from './json.ts';
import { generatedName } from './names.ts';
import { malformedQuantity, QUANTITY_REGEX_TEXT } from './quantity.ts';
import { appliedFields, applyConflicts, recordWrite, releasedFields, removeFields, type Writer } from './managed-fields.ts';
import { jsonPatch, mergePatch, mergeStrategic, PatchError } from './patch.ts';
import { NAMESPACE_RESOURCE, POD_RESOURCE, RESOURCES, type ResourceDef } from './resources.ts';
import { typeProblems, unknownFields } from './schema-check.ts';
import {
  ApiError,
  alreadyExists,
  applyConflict,
  badRequest,
  expired,
  forbidden,
  invalid,
  methodNotAllowed,
  notFound,
  resourceVersionTooLarge,
  staleConflict,
  conflict,
  successStatus,
  unsupportedMediaType,
  type Status,
} from './status.ts';
import type { Store } from './store.ts';
import type { KObject, Pod } from './types.ts';
import { isRecord } from './types.ts';
import { invalid as invalidField } from './field-errors.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun?: boolean;
  fieldValidation?: FieldValidation;
  fieldManager?: string;
  /** Server-side apply: take over fields other managers own instead of answering a conflict. */
  force?: boolean;
  /** Names the field manager of a write without fieldManager, as the API server does (its prefix before '/'). */
  userAgent?: string;
  /** Set by apply: the fields the applied configuration sets (the write is an Apply, not an Update). */
  appliedFields?: ReadonlySet<string>;
}

/** The field manager of a write, as the API server names it. */
export function writer(wo: WriteOptions, subresource?: 'status'): Writer {
  const manager = wo.fieldManager || (wo.userAgent ?? '').split('/')[0].slice(0, 128) || 'unknown';
  return { manager, operation: wo.appliedFields ? 'Apply' : 'Update', subresource, time: k8sTime() };
}

const withoutTimes = (mf: unknown) => (Array.isArray(mf) ? mf.map((e) => ({ ...(e as object), time: undefined })) : mf);

export interface WriteResult {
  object: KObject;
  warnings: string[];
  /** True when an apply created the object (HTTP 201). */
  created?: boolean;
}

export interface ListQuery {
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  items: KObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
}

export interface PodCreation {
  namespace: string;
  name: string;
  uid: string;
  resourceVersion: string;
  /** When the API server accepted the create (ISO 8601, milliseconds). */
  time: string;
}

/** Kubernetes timestamps have second precision. */
export const k8sTime = (d: Date = new Date()): string => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

const PROTECTED_NAMESPACES = new Set(['default', 'kube-system', 'kube-public']);
const CONTINUE_EXPIRED =
  'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.';
const LIST_TOO_OLD = 'The resourceVersion for the provided list is too old.';

import { decodeContinue, encodeContinue, parseRv, parseSelectors, selectorMatches } from './list-query.ts';
export { parseRv, parseSelectors, selectorMatches, type Selectors } from './list-query.ts';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
];

function keyOf(o: KObject): string {
  return `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
}

/** Drops server-managed or conflicting identity from a client body before it becomes a stored object. */
function stripForCreate(meta: KObject['metadata']): void {
  delete meta.uid;
  delete meta.resourceVersion;
  delete meta.creationTimestamp;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  delete meta.selfLink;
  delete meta.managedFields;
}

const sameIgnoringRv = (a: KObject, b: KObject): boolean =>
  jsonEqual({ ...a, metadata: { ...a.metadata, resourceVersion: undefined } }, { ...b, metadata: { ...b.metadata, resourceVersion: undefined } });

export class Registry {
  readonly podCreations: PodCreation[] = [];
  private readonly creationListeners = new Set<(c: PodCreation) => void>();

  constructor(
    readonly store: Store,
    private readonly faults: Faults,
  ) {
    // Namespace termination completes when its last object is gone.
    store.subscribe((e) => {
      if (e.type === 'DELETED' && e.object.metadata.namespace) this.maybeFinishNamespace(e.object.metadata.namespace);
    });
  }

  onPodCreated(fn: (c: PodCreation) => void): () => void {
    this.creationListeners.add(fn);
    return () => this.creationListeners.delete(fn);
  }

  // ---- reads ------------------------------------------------------------------------------------------------

  get(def: ResourceDef, ns: string | undefined, name: string): KObject {
    const o = this.store.get(def.name, def.namespaced ? ns : undefined, name);
    if (!o) throw notFound(def.name, name);
    return o;
  }

  list(def: ResourceDef, ns: string | undefined, q: ListQuery): ListResult {
    const sel = parseSelectors(def, q.labelSelector, q.fieldSelector);
    if (this.faults.takeGone()) throw expired(LIST_TOO_OLD);
    const nsFilter = def.namespaced ? ns : undefined;
    let snapshotRv: number;
    let items: KObject[];
    let start: string | undefined;
    if (q.continue) {
      const c = decodeContinue(q.continue);
      if (c.rv < this.store.compactedRv) throw expired(CONTINUE_EXPIRED);
      snapshotRv = c.rv;
      start = c.start;
      items = this.store.listAt(def.name, nsFilter, c.rv);
    } else {
      const rv = parseRv(q.resourceVersion);
      const match = q.resourceVersionMatch ?? '';
      if (match && !['Exact', 'NotOlderThan'].includes(match)) {
        throw badRequest(`resourceVersionMatch: Unsupported value: ${JSON.stringify(match)}: supported values: "Exact", "NotOlderThan"`);
      }
      if (match && rv === undefined) {
        throw badRequest('resourceVersionMatch is forbidden unless resourceVersion is provided');
      }
      if (rv !== undefined && rv > this.store.currentRv) throw resourceVersionTooLarge(rv, this.store.currentRv);
      if (match === 'Exact') {
        if (rv! < this.store.compactedRv) throw expired(LIST_TOO_OLD);
        snapshotRv = rv!;
        items = this.store.listAt(def.name, nsFilter, rv!);
      } else {
        snapshotRv = this.store.currentRv;
        items = this.store.list(def.name, nsFilter);
      }
    }
    if (start !== undefined) items = items.filter((o) => keyOf(o) > start!);
    const hasSelector = sel.labels.length > 0 || sel.fields.length > 0;
    if (hasSelector) items = items.filter((o) => selectorMatches(def, sel, o));
    const result: ListResult = { items, resourceVersion: String(snapshotRv) };
    const limit = q.limit ?? 0;
    if (limit > 0 && items.length > limit) {
      result.items = items.slice(0, limit);
      result.continue = encodeContinue(snapshotRv, keyOf(result.items[limit - 1]));
      if (!hasSelector) result.remainingItemCount = items.length - limit;
    }
    return result;
  }

  // ---- body checks ----------------------------------------------------------------------------------------

  private checkBody(def: ResourceDef, body: unknown, fieldValidation: FieldValidation): { obj: KObject; warnings: string[] } {
    if (!isRecord(body)) throw badRequest(`Object 'Kind' is missing in '${JSON.stringify(body)}'`);
    if (body.apiVersion !== undefined && body.apiVersion !== 'v1') {
      throw badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (v1)`);
    }
    if (body.kind !== undefined && body.kind !== def.kind) {
      throw badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`);
    }
    if (body.metadata !== undefined && !isRecord(body.metadata)) {
      throw badRequest(`${def.kind} in version "v1" cannot be handled as a ${def.kind}: metadata: expected object`);
    }
    const types = typeProblems(def.kind, { ...body, apiVersion: 'v1', kind: def.kind });
    if (types.length) {
      throw badRequest(`${def.kind} in version "v1" cannot be handled as a ${def.kind}: ${types.join('; ')}`);
    }
    if (malformedQuantity(def.kind, body)) {
      // v1.32's wording (v1.20's JSON decoder added the byte offset and context around the value).
      throw badRequest(`${def.kind} in version "v1" cannot be handled as a ${def.kind}: quantities must match the regular expression '${QUANTITY_REGEX_TEXT}'`);
    }
    const warnings: string[] = [];
    if (fieldValidation !== 'Ignore') {
      const unknown = unknownFields(def.kind, body);
      if (unknown.length && fieldValidation === 'Strict') {
        throw badRequest(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
      }
      for (const u of unknown) warnings.push(`unknown field "${u}"`);
    }
    const obj = structuredClone(body) as KObject;
    obj.metadata ??= {};
    obj.apiVersion = 'v1';
    obj.kind = def.kind;
    return { obj, warnings };
  }

  private checkNamespace(def: ResourceDef, ns: string | undefined, obj: KObject): void {
    if (!def.namespaced) {
      delete obj.metadata.namespace;
      return;
    }
    if (obj.metadata.namespace && obj.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    obj.metadata.namespace = ns;
  }

  private requireActiveNamespace(def: ResourceDef, ns: string, name: string): void {
    const nsObj = this.store.get('namespaces', undefined, ns);
    if (!nsObj) throw notFound('namespaces', ns);
    if (nsObj.metadata.deletionTimestamp) {
      throw forbidden(def.name, name, `unable to create new content in namespace ${ns} because it is being terminated`);
    }
  }

  // ---- writes -----------------------------------------------------------------------------------------------

  create(def: ResourceDef, ns: string | undefined, body: unknown, wo: WriteOptions = {}): WriteResult {
    if (def.clientReadOnly) throw methodNotAllowed();
    const { obj, warnings } = this.checkBody(def, body, wo.fieldValidation ?? 'Warn');
    this.checkNamespace(def, ns, obj);
    stripForCreate(obj.metadata);
    const displayName = obj.metadata.name ?? obj.metadata.generateName ?? '';
    if (def.namespaced) this.requireActiveNamespace(def, ns!, displayName);
    if (!obj.metadata.name && obj.metadata.generateName) {
      for (let i = 0; i < 8; i++) {
        obj.metadata.name = generatedName(obj.metadata.generateName);
        if (!this.store.get(def.name, obj.metadata.namespace, obj.metadata.name)) break;
      }
    }
    def.prepareCreate(obj);
    const errs = def.validate(obj);
    if (errs.length) throw invalid(def.kind, displayName, errs);
    if (this.store.get(def.name, obj.metadata.namespace, obj.metadata.name!)) throw alreadyExists(def.name, obj.metadata.name!);
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = k8sTime();
    obj.metadata.managedFields = recordWrite(undefined, obj, def.patchSchema, writer(wo), wo.appliedFields as Set<string> | undefined);
    if (wo.dryRun) return { object: obj, warnings };
    const stored = this.store.create(def.name, obj);
    if (def === POD_RESOURCE) {
      const c: PodCreation = {
        namespace: stored.metadata.namespace!,
        name: stored.metadata.name!,
        uid: stored.metadata.uid!,
        resourceVersion: stored.metadata.resourceVersion!,
        time: new Date().toISOString(),
      };
      this.podCreations.push(c);
      for (const fn of this.creationListeners) fn(c);
    }
    return { object: stored, warnings };
  }

  /** PUT: replaces the object (or its status) with preconditions on resourceVersion and uid. */
  update(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    body: unknown,
    wo: WriteOptions = {},
    subresource?: 'status',
  ): WriteResult {
    const prev = this.get(def, ns, name);
    const { obj, warnings } = this.checkBody(def, body, wo.fieldValidation ?? 'Warn');
    if (obj.metadata.name !== undefined && obj.metadata.name !== name) {
      throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    }
    obj.metadata.name = name;
    this.checkNamespace(def, ns, obj);
    return this.replace(def, prev, obj, warnings, wo, subresource);
  }

  private replace(
    def: ResourceDef,
    prev: KObject,
    obj: KObject,
    warnings: string[],
    wo: WriteOptions,
    subresource?: 'status',
  ): WriteResult {
    const name = prev.metadata.name!;
    const rv = obj.metadata.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== prev.metadata.resourceVersion) throw staleConflict(def.name, name);
    if (obj.metadata.uid !== undefined && obj.metadata.uid !== prev.metadata.uid) {
      throw conflict(def.name, name, `Precondition failed: UID in precondition: ${String(obj.metadata.uid)}, UID in object meta: ${prev.metadata.uid}`);
    }
    let next: KObject;
    if (subresource === 'status') {
      next = structuredClone(prev);
      if (obj.status !== undefined) next.status = obj.status;
    } else {
      next = obj;
      for (const k of ['uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation'] as const) {
        const meta = next.metadata as Record<string, unknown>;
        if (prev.metadata[k] !== undefined) meta[k] = prev.metadata[k];
        else delete meta[k];
      }
      // Clients cannot write managedFields directly here; the write's own entry is recorded below.
      next.metadata.managedFields = prev.metadata.managedFields;
      def.prepareUpdate(next, prev);
      const errs = def.validateUpdate(next, prev);
      if (errs.length) throw invalid(def.kind, name, errs);
    }
    next.metadata.resourceVersion = prev.metadata.resourceVersion;
    next.metadata.managedFields = recordWrite(prev, next, def.patchSchema, writer(wo, subresource), wo.appliedFields as Set<string> | undefined);
    const noChange = sameIgnoringRv({ ...next, metadata: { ...next.metadata, managedFields: undefined } }, { ...prev, metadata: { ...prev.metadata, managedFields: undefined } });
    if (noChange && jsonEqual(withoutTimes(next.metadata.managedFields), withoutTimes(prev.metadata.managedFields))) return { object: prev, warnings };
    if (wo.dryRun) return { object: next, warnings };
    const stored = this.store.update(def.name, next);
    this.maybeFinalize(def, stored);
    return { object: this.store.get(def.name, stored.metadata.namespace, name) ?? stored, warnings };
  }

  patch(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    contentType: string,
    patchBody: string,
    wo: WriteOptions = {},
    subresource?: 'status',
  ): WriteResult {
    if (contentType === 'application/apply-patch+yaml') return this.apply(def, ns, name, patchBody, wo);
    if (!PATCH_TYPES.includes(contentType)) throw unsupportedMediaType(contentType, PATCH_TYPES);
    let patchDoc: unknown;
    try {
      patchDoc = JSON.parse(patchBody);
    } catch (e) {
      throw badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    const prev = this.get(def, ns, name);
    let patched: unknown;
    try {
      if (contentType === 'application/json-patch+json') patched = jsonPatch(prev, patchDoc);
      else if (contentType === 'application/merge-patch+json') {
        if (!isRecord(patchDoc)) throw new PatchError('a merge patch must be a JSON object');
        patched = mergePatch(prev, patchDoc);
      } else {
        if (!isRecord(patchDoc)) throw new PatchError('a strategic merge patch must be a JSON object');
        patched = mergeStrategic(prev, patchDoc, def.patchSchema);
      }
    } catch (e) {
      if (e instanceof PatchError) throw invalid(def.kind, name, [invalidField('patch', patchBody.slice(0, 200), e.message)]);
      throw e;
    }
    return this.replacePatched(def, ns, name, prev, patched, wo, subresource);
  }

  private replacePatched(def: ResourceDef, ns: string | undefined, name: string, prev: KObject, patched: unknown, wo: WriteOptions, subresource?: 'status'): WriteResult {
    if (!isRecord(patched)) throw badRequest('the patch did not produce an object');
    const { obj, warnings } = this.checkBody(def, patched, wo.fieldValidation ?? 'Warn');
    if (obj.metadata.name !== name) throw badRequest(`the name of the object (${String(obj.metadata.name)}) does not match the name on the URL (${name})`);
    this.checkNamespace(def, ns, obj);
    // A patch only carries a resourceVersion precondition when the patch itself names one.
    if (obj.metadata.resourceVersion === prev.metadata.resourceVersion) delete obj.metadata.resourceVersion;
    return this.replace(def, prev, obj, warnings, wo, subresource);
  }

  /**
   * Server-side apply: creates the object when missing, else merges the applied configuration into it with
   * field ownership (managed-fields.ts): a field another manager owns and the apply would change is a 409
   * FieldManagerConflict unless `force`; fields this manager applied before and no longer applies, and that
   * nobody else owns, are removed. The merge itself is the strategic merge (the same list keys).
   */
  private apply(def: ResourceDef, ns: string | undefined, name: string, body: string, wo: WriteOptions): WriteResult {
    if (!wo.fieldManager) {
      throw invalid('PatchOptions', '', [{ type: 'FieldValueRequired', field: 'fieldManager', detail: 'is required for apply patch' }]);
    }
    let doc: unknown;
    try {
      doc = parseYaml(body);
    } catch (e) {
      throw badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isRecord(doc)) throw badRequest('an apply patch must be an object');
    const existing = this.store.get(def.name, def.namespaced ? ns : undefined, name);
    const awo: WriteOptions = { ...wo, appliedFields: appliedFields(doc, def.patchSchema) };
    if (!existing) {
      const r = this.create(def, ns, { ...doc, metadata: { ...(isRecord(doc.metadata) ? doc.metadata : {}), name } }, awo);
      return { ...r, created: true };
    }
    const conflicts = applyConflicts(existing, doc, def.patchSchema, wo.fieldManager);
    if (conflicts.length && !wo.force) throw applyConflict(conflicts);
    let merged: unknown;
    try {
      merged = mergeStrategic(existing, doc, def.patchSchema);
    } catch (e) {
      if (e instanceof PatchError) throw invalid(def.kind, name, [invalidField('patch', body.slice(0, 200), e.message)]);
      throw e;
    }
    if (isRecord(merged)) removeFields(merged, releasedFields(existing, awo.appliedFields as Set<string>, wo.fieldManager), def.patchSchema);
    return this.replacePatched(def, ns, name, existing, merged, awo);
  }

  /**
   * DELETE. Pods on a node get a graceful deletion (deletionTimestamp set, the kubelet stops the containers
   * and finishes the deletion); objects with finalizers wait for them; everything else goes at once.
   */
  delete(
    def: ResourceDef,
    ns: string | undefined,
    name: string,
    opts: DeleteOptions = {},
    dryRun = false,
  ): { object: KObject | Status; deleted: boolean } {
    if (def.clientReadOnly) throw methodNotAllowed();
    const cur = this.get(def, ns, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== cur.metadata.uid) {
      throw conflict(def.name, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`);
    }
    if (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion) {
      throw conflict(def.name, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`);
    }
    if (opts.gracePeriodSeconds !== undefined && (!Number.isInteger(opts.gracePeriodSeconds) || opts.gracePeriodSeconds < 0)) {
      throw invalid('DeleteOptions', '', [invalidField('gracePeriodSeconds', opts.gracePeriodSeconds, 'must be greater than or equal to 0')]);
    }
    if (def === NAMESPACE_RESOURCE) return this.deleteNamespace(cur, dryRun);
    const result = (o: KObject, deleted: boolean) => ({
      object: def.returnDeletedObject ? o : successStatus({ name, kind: def.name, uid: o.metadata.uid }),
      deleted,
    });
    if (dryRun) return result(cur, false);
    if (def === POD_RESOURCE) {
      const pod = cur as Pod;
      let grace = opts.gracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
      const phase = pod.status?.phase;
      if (!pod.spec.nodeName || phase === 'Succeeded' || phase === 'Failed') grace = 0;
      const curGrace = pod.metadata.deletionGracePeriodSeconds;
      if (pod.metadata.deletionTimestamp && curGrace !== undefined && grace >= curGrace) return result(cur, false);
      const marked = this.markDeleting(cur, grace);
      if (grace === 0 && !cur.metadata.finalizers?.length) return result(this.store.remove(def.name, ns, name)!, true);
      return result(marked, false);
    }
    if (cur.metadata.finalizers?.length) {
      if (cur.metadata.deletionTimestamp) return result(cur, false);
      const next = structuredClone(cur);
      next.metadata.deletionTimestamp = k8sTime();
      next.metadata.deletionGracePeriodSeconds = 0;
      return result(this.store.update(def.name, next), false);
    }
    return result(this.store.remove(def.name, def.namespaced ? ns : undefined, name)!, true);
  }

  deleteCollection(def: ResourceDef, ns: string | undefined, q: ListQuery, opts: DeleteOptions, dryRun = false): KObject[] {
    if (def.clientReadOnly || def === NAMESPACE_RESOURCE) throw methodNotAllowed();
    const { items } = this.list(def, ns, { labelSelector: q.labelSelector, fieldSelector: q.fieldSelector });
    const out: KObject[] = [];
    for (const o of items) {
      try {
        this.delete(def, o.metadata.namespace, o.metadata.name!, { gracePeriodSeconds: opts.gracePeriodSeconds }, dryRun);
        out.push(o);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return out;
  }

  private deleteNamespace(cur: KObject, dryRun: boolean): { object: KObject; deleted: boolean } {
    const name = cur.metadata.name!;
    if (PROTECTED_NAMESPACES.has(name)) throw forbidden('namespaces', name, 'this namespace may not be deleted');
    if (dryRun || cur.metadata.deletionTimestamp) return { object: cur, deleted: false };
    const next = structuredClone(cur);
    next.metadata.deletionTimestamp = k8sTime();
    next.metadata.deletionGracePeriodSeconds = 0;
    next.status = { phase: 'Terminating' };
    const stored = this.store.update('namespaces', next);
    for (const def of RESOURCES) {
      if (!def.namespaced) continue;
      for (const o of this.store.list(def.name, name)) {
        try {
          if (def.clientReadOnly) continue;
          this.delete(def, name, o.metadata.name!);
        } catch (e) {
          if (!(e instanceof ApiError && e.code === 404)) throw e;
        }
      }
    }
    this.maybeFinishNamespace(name);
    return { object: this.store.get('namespaces', undefined, name) ?? stored, deleted: false };
  }

  private maybeFinishNamespace(ns: string): void {
    const nsObj = this.store.get('namespaces', undefined, ns);
    if (!nsObj?.metadata.deletionTimestamp) return;
    for (const def of RESOURCES) if (def.namespaced && this.store.list(def.name, ns).length) return;
    this.store.remove('namespaces', undefined, ns);
  }

  /**
   * A graceful deletion's first step, as the real registry does even for a grace period of 0: the pod is
   * stored with deletionTimestamp (now + grace) and deletionGracePeriodSeconds (a MODIFIED event), so the
   * DELETED event that may follow carries both.
   */
  private markDeleting(cur: KObject, grace: number): KObject {
    const next = structuredClone(cur);
    next.metadata.deletionTimestamp = k8sTime(new Date(Date.now() + grace * 1000));
    next.metadata.deletionGracePeriodSeconds = grace;
    return this.store.update(POD_RESOURCE.name, next);
  }

  /** Removes an object whose deletion is pending once nothing holds it any more. */
  private maybeFinalize(def: ResourceDef, obj: KObject): void {
    if (!obj.metadata.deletionTimestamp || obj.metadata.finalizers?.length) return;
    if (def === NAMESPACE_RESOURCE) return;
    if (def === POD_RESOURCE && obj.metadata.deletionGracePeriodSeconds !== 0) return;
    this.store.remove(def.name, obj.metadata.namespace, obj.metadata.name!);
  }

  /**
   * POST pods/{name}/binding, as the scheduler assigns a pod: sets spec.nodeName and PodScheduled=True;
   * 409 when the pod is already assigned. Answers a Success Status.
   */
  bindPod(ns: string, name: string, body: unknown): Status {
    const cur = this.get(POD_RESOURCE, ns, name) as Pod;
    const b = isRecord(body) ? body : {};
    const target = isRecord(b.target) ? b.target : {};
    const node = typeof target.name === 'string' ? target.name : '';
    const meta = isRecord(b.metadata) ? b.metadata : {};
    if (!node) throw invalid('Binding', name, [{ type: 'FieldValueRequired', field: 'target.name', detail: '' }]);
    if (typeof meta.uid === 'string' && meta.uid !== cur.metadata.uid) {
      throw conflict('pods', name, `Precondition failed: UID in precondition: ${meta.uid}, UID in object meta: ${cur.metadata.uid}`);
    }
    if (cur.metadata.deletionTimestamp) throw conflict('pods', name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (cur.spec.nodeName) throw conflict('pods', name, `pod ${name} is already assigned to node "${cur.spec.nodeName}"`);
    const next = structuredClone(cur);
    next.spec.nodeName = node;
    const now = k8sTime();
    const conds = (next.status?.conditions ?? []).filter((c) => c.type !== 'PodScheduled');
    const old = cur.status?.conditions?.find((c) => c.type === 'PodScheduled');
    conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: old?.status === 'True' ? old.lastTransitionTime : now });
    next.status = { ...(next.status ?? {}), conditions: conds };
    this.store.update(POD_RESOURCE.name, next);
    return successStatus({ name, kind: 'pods' });
  }

  // ---- internal writes (kubelet, scheduler, event recorder) ---------------------------------------------------

  /** Stores `next` (a modified clone of the current object) without client-facing checks. */
  internalUpdate(def: ResourceDef, next: KObject): KObject {
    const stored = this.store.update(def.name, next);
    this.maybeFinalize(def, stored);
    return stored;
  }

  internalCreate(def: ResourceDef, obj: KObject): KObject {
    obj.metadata.uid ??= randomUUID();
    obj.metadata.creationTimestamp ??= k8sTime();
    return this.store.create(def.name, obj);
  }

  /** The kubelet's last word on a terminating pod: gone now, or once its finalizers are removed. */
  finishPodDeletion(ns: string, name: string, uid: string): void {
    const cur = this.store.get('pods', ns, name);
    if (!cur || cur.metadata.uid !== uid) return;
    // The kubelet's DELETE with grace 0 shortens the pending deletion (MODIFIED), then the pod goes (DELETED).
    if (cur.metadata.deletionGracePeriodSeconds !== 0) this.markDeleting(cur, 0);
    if (!cur.metadata.finalizers?.length) this.store.remove('pods', ns, name);
  }
}
