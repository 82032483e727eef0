import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import { mulberry32, shuffled } from "../../examples/shared/prng.js";

const draws = (seed: number, n: number) => {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => r());
};

describe("mulberry32", () => {
  test.prop([fc.integer({ min: 0, max: 2 ** 32 - 1 })])("is deterministic and stays in [0, 1)", (seed) => {
    const a = draws(seed, 200);
    expect(draws(seed, 200)).toEqual(a);
    for (const x of a) expect(x >= 0 && x < 1).toBe(true);
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 32 - 2 })])("neighbouring seeds give different streams", (seed) => {
    expect(draws(seed, 8)).not.toEqual(draws(seed + 1, 8));
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 32 - 1 })], { numRuns: 10 })("is roughly uniform", (seed) => {
    const xs = draws(seed, 20_000);
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02); // σ of the mean ≈ 0.002
    const deciles = new Array(10).fill(0);
    for (const x of xs) deciles[Math.floor(x * 10)]++;
    for (const count of deciles) expect(Math.abs(count - 2000)).toBeLessThan(250);
  });
});

describe("shuffled", () => {
  test.prop([fc.array(fc.integer()), fc.integer({ min: 0, max: 2 ** 32 - 1 })])(
    "returns a permutation, leaves its input alone, and depends only on the seed",
    (items, seed) => {
      const copy = items.slice();
      const out = shuffled(items, mulberry32(seed));
      expect(items).toEqual(copy);
      expect(out.slice().sort((a, b) => a - b)).toEqual(copy.slice().sort((a, b) => a - b));
      expect(shuffled(items, mulberry32(seed))).toEqual(out);
    },
  );
});
