// Kubernetes naming rules (the ones the OpenAPI schema does not state) and Floe's sanitisers.
import { createHash } from 'node:crypto';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// The classic rule every cluster accepts (1.34 relaxed it to any printable ASCII but "=").
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;
const IANA_SVC_NAME = /^(?=.*[a-z])[a-z0-9]([a-z0-9]|-(?!-))*[a-z0-9]$|^[a-z]$/;

/** null when valid, else why not. */
export function checkDns1123Label(v: string): string | null {
  if (v.length > 63) return `must be at most 63 characters (is ${v.length})`;
  if (!DNS1123_LABEL.test(v)) return 'must be a DNS-1123 label: lowercase letters, digits and "-", starting and ending with a letter or digit';
  return null;
}

export function checkDns1123Subdomain(v: string): string | null {
  if (v.length > 253) return `must be at most 253 characters (is ${v.length})`;
  if (!DNS1123_SUBDOMAIN.test(v)) return 'must be a DNS-1123 subdomain: lowercase letters, digits, "-" and ".", starting and ending with a letter or digit';
  return null;
}

/** Label and annotation keys: `[prefix/]name`, prefix a DNS-1123 subdomain, name ≤ 63 of [A-Za-z0-9_.-]. */
export function checkQualifiedName(key: string): string | null {
  const parts = key.split('/');
  if (parts.length > 2) return 'a key may contain at most one "/"';
  const name = parts.length === 2 ? parts[1] : parts[0];
  if (parts.length === 2) {
    const prefix = parts[0];
    if (prefix === '') return 'the prefix before "/" must not be empty';
    const p = checkDns1123Subdomain(prefix);
    if (p) return `prefix "${prefix}" ${p}`;
  }
  if (name === '') return 'the name part must not be empty';
  if (name.length > 63) return `the name part must be at most 63 characters (is ${name.length})`;
  if (!QUALIFIED_NAME.test(name)) return 'the name part must consist of letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return null;
}

export function checkLabelValue(v: string): string | null {
  if (v.length > 63) return `a label value must be at most 63 characters (is ${v.length})`;
  if (!LABEL_VALUE.test(v)) return 'a label value must be empty or consist of letters, digits, "-", "_" or ".", starting and ending with a letter or digit';
  return null;
}

export function checkEnvName(v: string): string | null {
  return ENV_NAME.test(v) ? null : 'an environment variable name must consist of letters, digits, "_", "-" or ".", and not start with a digit';
}

export function checkPortName(v: string): string | null {
  if (v.length > 15) return `a port name must be at most 15 characters (is ${v.length})`;
  if (!IANA_SVC_NAME.test(v)) return 'a port name must be lowercase letters, digits and single "-", contain a letter, and start and end with a letter or digit';
  return null;
}

const HASH_LEN = 10;

export function shortHash(s: string): string {
  return createHash('sha256').update(s).digest('hex').slice(0, HASH_LEN);
}

function asciiFold(s: string): string {
  // "café" → "cafe": keep what a human would type when the id has accents.
  return s.normalize('NFKD').replace(/[\u0300-\u036f]/g, '');
}

/**
 * A label value for an id. Valid values pass unchanged; anything else is cleaned, cut to fit, and given a
 * short hash of the original id, so two different ids never share a label value.
 */
export function labelValue(id: string): string {
  let v = labelValues.get(id);
  if (v === undefined) {
    // Every pod of a DAG run carries the same run id (often not a valid label value: ':' in timestamps).
    if (labelValues.size >= 10_000) labelValues.clear();
    labelValues.set(id, (v = computeLabelValue(id)));
  }
  return v;
}

const labelValues = new Map<string, string>();

function computeLabelValue(id: string): string {
  if (checkLabelValue(id) === null) return id;
  const hash = shortHash(id);
  const cleaned = asciiFold(id)
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .slice(0, 63 - HASH_LEN - 1)
    .replace(/^[^A-Za-z0-9]+/, '')
    .replace(/[^A-Za-z0-9]+$/, '');
  return cleaned ? `${cleaned}-${hash}` : hash;
}

/** Random source in [0, 1); injectable so golden tests get stable pod names. */
export type RandomSource = () => number;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const SUFFIX_LEN = 8;

function dnsPart(s: string): string {
  return asciiFold(s)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
}

function trimDashes(s: string): string {
  return s.replace(/^-+|-+$/g, '');
}

/**
 * `<dag>-<task>-<8 random chars>`, a DNS-1123 label of at most 63 characters (a pod's name is its
 * hostname). When the ids are long, each keeps a fair share of the 54 characters left for them.
 */
export function podName(dagId: string, taskId: string, random: RandomSource): string {
  let suffix = '';
  for (let i = 0; i < SUFFIX_LEN; i++) suffix += ALPHABET[Math.min(ALPHABET.length - 1, Math.floor(random() * ALPHABET.length))];
  const budget = 63 - SUFFIX_LEN - 1;
  let d = dnsPart(dagId);
  let t = dnsPart(taskId);
  if (d.length + t.length + 1 > budget) {
    const half = Math.floor((budget - 1) / 2);
    const tLen = Math.min(t.length, budget - 1 - Math.min(d.length, half));
    t = trimDashes(t.slice(0, tLen));
    d = trimDashes(d.slice(0, budget - 1 - t.length));
  }
  const prefix = [d, t].filter(Boolean).join('-') || 'floe-task';
  return `${prefix}-${suffix}`;
}
