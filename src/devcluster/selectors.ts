// Label selectors (=, ==, !=, in, notin, exists, !exists, gt, lt) and field selectors (=, ==, !=),
// parsed and matched with the semantics of k8s.io/apimachinery/pkg/labels and pkg/fields.
import { isQualifiedName, isValidLabelValue } from './names.ts';

export type LabelOp = 'eq' | 'neq' | 'in' | 'notin' | 'exists' | 'notexists' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  op: LabelOp;
  values: string[];
}

export type LabelSelector = LabelRequirement[];

export class SelectorError extends Error {}

/** Splits on commas that are not inside parentheses. */
function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function checkKey(key: string): void {
  const errs = isQualifiedName(key);
  if (errs.length) throw new SelectorError(`unable to parse requirement: key: Invalid value: "${key}": ${errs.join('; ')}`);
}

function checkValue(v: string): void {
  const errs = isValidLabelValue(v);
  if (errs.length) {
    throw new SelectorError(`unable to parse requirement: values[0]: Invalid value: "${v}": ${errs.join('; ')}`);
  }
}

/** Parses a label selector string; the empty string selects everything. Throws SelectorError. */
export function parseLabelSelector(text: string): LabelSelector {
  const reqs: LabelSelector = [];
  if (text.trim() === '') return reqs;
  for (const raw of splitTopLevel(text)) {
    const part = raw.trim();
    if (part === '') throw new SelectorError(`unable to parse requirement: found ',', expected: identifier`);
    let m: RegExpExecArray | null;
    if ((m = /^!\s*([^\s!=<>(),]+)$/.exec(part))) {
      checkKey(m[1]);
      reqs.push({ key: m[1], op: 'notexists', values: [] });
    } else if ((m = /^([^\s!=<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part))) {
      checkKey(m[1]);
      const values = m[3].split(',').map((v) => v.trim());
      if (m[2] === 'in' && values.length === 1 && values[0] === '') {
        throw new SelectorError(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty`);
      }
      values.forEach(checkValue);
      reqs.push({ key: m[1], op: m[2] === 'in' ? 'in' : 'notin', values });
    } else if ((m = /^([^\s!=<>(),]+)\s*(==|=|!=|>|<)\s*([^\s!=<>(),]*)$/.exec(part))) {
      checkKey(m[1]);
      const op: LabelOp = m[2] === '!=' ? 'neq' : m[2] === '>' ? 'gt' : m[2] === '<' ? 'lt' : 'eq';
      if (op === 'gt' || op === 'lt') {
        if (!/^-?[0-9]+$/.test(m[3])) {
          throw new SelectorError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
        }
      } else checkValue(m[3]);
      reqs.push({ key: m[1], op, values: [m[3]] });
    } else if ((m = /^([^\s!=<>(),]+)$/.exec(part))) {
      checkKey(m[1]);
      reqs.push({ key: m[1], op: 'exists', values: [] });
    } else {
      throw new SelectorError(`unable to parse requirement: invalid label selector term "${part}"`);
    }
  }
  return reqs;
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.prototype.hasOwnProperty.call(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq':
      case 'in':
        if (!has || !r.values.includes(v)) return false;
        break;
      case 'neq':
      case 'notin':
        if (has && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
      case 'gt':
      case 'lt': {
        if (!has || !/^-?[0-9]+$/.test(v)) return false;
        const n = Number(v);
        const bound = Number(r.values[0]);
        if (r.op === 'gt' ? !(n > bound) : !(n < bound)) return false;
        break;
      }
    }
  }
  return true;
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}

export type FieldSelector = FieldRequirement[];

/** Splits on an unescaped separator; field selector values escape `\`, `,` and `=` with a backslash. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === '\\' && i + 1 < s.length) {
      cur += ch + s[i + 1];
      i++;
    } else if (ch === sep) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

function unescapeFieldValue(v: string): string {
  return v.replace(/\\(.)/g, '$1');
}

/** Parses a field selector; `supported` is the set of field labels this resource answers for. */
export function parseFieldSelector(text: string, supported: ReadonlySet<string>): FieldSelector {
  const out: FieldSelector = [];
  if (text.trim() === '') return out;
  for (const part of splitEscaped(text, ',')) {
    const m = /^([^!=]+)(==|!=|=)(.*)$/.exec(part.trim());
    if (!m) throw new SelectorError(`invalid selector: '${text}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (!supported.has(field)) throw new SelectorError(`field label not supported: ${field}`);
    out.push({ field, op: m[2] === '!=' ? 'neq' : 'eq', value: unescapeFieldValue(m[3]) });
  }
  return out;
}

export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  for (const r of sel) {
    const v = fields[r.field] ?? '';
    if (r.op === 'eq' ? v !== r.value : v === r.value) return false;
  }
  return true;
}
