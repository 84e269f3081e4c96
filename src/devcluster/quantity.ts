// Kubernetes resource quantities ("500m", "1.5", "8Gi", "1e3"), parsed the way apimachinery's
// resource.ParseQuantity accepts them. Values are returned as plain numbers in base units
// (cores for cpu, bytes for memory); float precision is plenty for scheduling decisions here.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

/** The regular expression the real API server quotes in its error message. */
export const QUANTITY_REGEX_TEXT = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$";

/** Parses a quantity; returns null when the text is not a valid Kubernetes quantity. */
export function parseQuantity(input: string | number): number | null {
  if (typeof input === 'number') return Number.isFinite(input) ? input : null;
  const m = /^([+-]?)([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(.*)$/.exec(input);
  if (!m) return null;
  const sign = m[1] === '-' ? -1 : 1;
  const num = Number(m[2]);
  const suffix = m[3];
  let mult: number | undefined = BINARY[suffix] ?? DECIMAL[suffix];
  if (mult === undefined) {
    const e = /^[eE]([+-]?[0-9]+)$/.exec(suffix);
    if (!e) return null;
    mult = 10 ** Number(e[1]);
  }
  const v = sign * num * mult;
  return Number.isFinite(v) ? v : null;
}

/** Parses a quantity and throws a plain Error naming `what` when it is invalid (for options and CLI flags). */
export function requireQuantity(input: string | number, what: string): number {
  const v = parseQuantity(input);
  if (v === null || v < 0) {
    throw new Error(`${what}: "${input}" is not a valid Kubernetes quantity (expected e.g. "4", "500m", "8Gi")`);
  }
  return v;
}

/** Formats a byte count for messages, e.g. 134217728 → "128Mi". */
export function formatBytes(bytes: number): string {
  for (const [suffix, mult] of Object.entries(BINARY).reverse()) {
    if (bytes >= mult && bytes % mult === 0) return `${bytes / mult}${suffix}`;
  }
  return String(bytes);
}

type Json = Record<string, unknown>;
const asRecord = (v: unknown): Json | undefined => (typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : undefined);

/**
 * The first quantity in an object that does not parse, with its field path: the real API server parses
 * quantities while decoding JSON, so a malformed one is a 400 decoding error, not a 422 validation cause.
 */
export function malformedQuantity(kind: string, obj: Json): { field: string; value: string } | undefined {
  const maps: [string, unknown][] = [];
  const spec = asRecord(obj.spec);
  if (kind === 'Pod' && spec) {
    for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
      const cs = Array.isArray(spec[list]) ? (spec[list] as unknown[]) : [];
      cs.forEach((c, i) => {
        const r = asRecord(asRecord(c)?.resources);
        for (const k of ['limits', 'requests']) maps.push([`spec.${list}[${i}].resources.${k}`, r?.[k]]);
      });
    }
    maps.push(['spec.overhead', spec.overhead]);
  }
  const status = asRecord(obj.status);
  if (kind === 'Node' && status) for (const k of ['capacity', 'allocatable']) maps.push([`status.${k}`, status[k]]);
  for (const [field, m] of maps) {
    for (const [name, v] of Object.entries(asRecord(m) ?? {})) {
      if (typeof v === 'string' && parseQuantity(v) === null) return { field: `${field}[${name}]`, value: v };
    }
  }
  return undefined;
}
