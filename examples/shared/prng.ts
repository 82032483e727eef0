/**
 * A small seeded pseudo-random generator, so that the example's initial weights and shuffles are the same on
 * every run and every machine (Math.random cannot be seeded).
 * @module
 */

/** A generator of uniform floats in [0, 1); each call advances its internal state. */
export type Random = () => number;

/**
 * Mulberry32: a 32-bit state advanced by the odd constant 0x6D2B79F5, then mixed by two xor-shift-multiply rounds.
 *
 *   s ← s + 0x6D2B79F5 (mod 2³²)
 *   z ← (s ⊕ (s ≫ 15)) · (s | 1);  z ← z ⊕ (z + (z ⊕ (z ≫ 7)) · (z | 61));  u = (z ⊕ (z ≫ 14)) / 2³²
 *
 * Period 2³², enough for shuffling ten thousand rows and initialising a few hundred thousand weights.
 */
export const mulberry32 = (seed: number): Random => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let z = Math.imul(s ^ (s >>> 15), s | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  };
};

/** A uniform integer in [0, n), from one draw of `random`. */
export const randomInt = (random: Random, n: number): number => Math.floor(random() * n);

/**
 * A shuffled copy of `items` (Fisher–Yates, from the last position down: swap i with j ~ U{0..i}).
 * The input is not modified.
 */
export const shuffled = <T>(items: readonly T[], random: Random): T[] => {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
};
