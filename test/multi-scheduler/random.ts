// A small seeded PRNG for the property tests: a failing case prints its seed and replays with
// FLOE_TEST_SEED=<seed>.
export interface Rng {
  seed: number;
  next(): number;
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  shuffle<T>(items: T[]): T[];
}

/** mulberry32: tiny, fast, good enough to explore shapes and states. */
export function rng(seed: number): Rng {
  let s = seed >>> 0;
  const next = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const r: Rng = {
    seed,
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
    shuffle(items) {
      for (let i = items.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [items[i], items[j]] = [items[j], items[i]];
      }
      return items;
    },
  };
  return r;
}

/** Seeds for `n` cases: FLOE_TEST_SEED replays one; otherwise fresh each run (so CI keeps exploring). */
export function seeds(n: number): number[] {
  const fixed = process.env.FLOE_TEST_SEED;
  if (fixed) return [Number(fixed)];
  const base = Math.floor(Math.random() * 2 ** 31);
  return Array.from({ length: n }, (_, i) => (base + i * 7919) >>> 0);
}
