// The query side of lists and watches: label and field selectors, resourceVersion parameters and the
// continue tokens of paged lists.
import type { ResourceDef } from './resources.ts';
import { matchesFields, matchesLabels, parseFieldSelector, parseLabelSelector, SelectorError, type FieldSelector, type LabelSelector } from './selectors.ts';
import { badRequest } from './status.ts';
import type { KObject } from './types.ts';

export interface Selectors {
  labels: LabelSelector;
  fields: FieldSelector;
}

export function parseSelectors(def: ResourceDef, labelSelector?: string, fieldSelector?: string): Selectors {
  try {
    return {
      labels: parseLabelSelector(labelSelector ?? ''),
      fields: parseFieldSelector(fieldSelector ?? '', def.fieldLabels),
    };
  } catch (e) {
    if (e instanceof SelectorError) throw badRequest(e.message);
    throw e;
  }
}

export function selectorMatches(def: ResourceDef, sel: Selectors, obj: KObject): boolean {
  return matchesLabels(sel.labels, obj.metadata.labels) && (sel.fields.length === 0 || matchesFields(sel.fields, def.fields(obj)));
}

export function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64url');
}

export function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const d = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { rv?: unknown; start?: unknown };
    if (typeof d.rv === 'number' && typeof d.start === 'string') return { rv: d.rv, start: d.start };
  } catch {
    // fall through
  }
  throw badRequest(`continue key is not valid: ${JSON.stringify(token)}`);
}

/** Parses a resourceVersion query value; "" → undefined. */
export function parseRv(v: string | undefined, what = 'resourceVersion'): number | undefined {
  if (v === undefined || v === '') return undefined;
  if (!/^[0-9]+$/.test(v)) throw badRequest(`${what}: Invalid value: ${JSON.stringify(v)}: must be a non-negative integer`);
  return Number(v);
}
