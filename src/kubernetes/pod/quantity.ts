// Kubernetes resource quantities ("500m", "1.5Gi", "1e3"), parsed to a number of base units.
// Grammar from k8s.io/apimachinery/pkg/api/resource/quantity.go; a float is exact enough to compare
// requests with limits.

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };
const QUANTITY = /^([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+))(Ki|Mi|Gi|Ti|Pi|Ei|[eE][+-]?[0-9]+|[numkMGTPE])?$/;

/** The quantity's value in base units, or null when `q` is not a quantity. Numbers are accepted as YAML gives them. */
export function parseQuantity(q: unknown): number | null {
  if (typeof q === 'number') return Number.isFinite(q) ? q : null;
  if (typeof q !== 'string') return null;
  const m = QUANTITY.exec(q);
  if (!m) return null;
  const n = Number(m[1]);
  const suffix = m[2] ?? '';
  if (suffix in BINARY) return n * BINARY[suffix];
  if (suffix in DECIMAL) return n * DECIMAL[suffix];
  return n * 10 ** Number(suffix.slice(1));
}

export const QUANTITY_HELP = 'a quantity such as "500m", "2", "1.5Gi" or "512Mi"';
