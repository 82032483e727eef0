/** fast-check arbitraries for the compose tests: small random trees of float leaves and gradient sequences. */
import fc from "fast-check";
import type { Dtype, Tree } from "larch";
import { makeLeaf, nest } from "../support/reference.js";

/** One leaf of a random case: its shape, its initial params (all 0 for a "bias" that starts at zero) and a gradient per step. */
export interface LeafCase {
  readonly shape: number[];
  readonly params: number[];
  readonly grads: number[][];
}

/** A random case: leaves by flat name (`layer.w`), each with its params and `steps` gradients. */
export type TreeCase = Record<string, LeafCase>;

const NAMES = ["w", "bias", "layer.w", "layer.bias", "head.w"] as const;

/**
 * Values of moderate size: ±0, or ±[1e-3, max]. (Tiny non-zero gradients are left out on purpose: a trust ratio
 * ‖p‖/‖g‖ with ‖g‖ ≈ 5e-324 overflows to Inf in the published equations themselves, not only here.)
 */
export const value = (max = 2): fc.Arbitrary<number> =>
  fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom(0, -0) },
    { weight: 9, arbitrary: fc.tuple(fc.double({ min: 1e-3, max, noNaN: true }), fc.boolean()).map(([v, neg]) => (neg ? -v : v)) },
  );

const shape = fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 3 });

const leafCase = (steps: number, max: number): fc.Arbitrary<LeafCase> =>
  fc.tuple(shape, fc.boolean()).chain(([s, zero]) => {
    const n = s.reduce((a, b) => a * b, 1);
    const data = fc.array(value(max), { minLength: n, maxLength: n });
    return fc.record({
      shape: fc.constant(s),
      params: zero ? fc.constant(new Array<number>(n).fill(0)) : data,
      grads: fc.array(data, { minLength: steps, maxLength: steps }),
    });
  });

/** A tree of 1 to 5 leaves and `steps` gradients for each. */
export const treeCase = (steps: number, max = 2): fc.Arbitrary<TreeCase> =>
  fc
    .subarray([...NAMES], { minLength: 1 })
    .chain((names) => fc.tuple(...names.map(() => leafCase(steps, max))).map((leaves) => Object.fromEntries(names.map((n, i) => [n, leaves[i]!]))));

export const paramsOf = (c: TreeCase, dtype: Dtype = "float64"): Tree =>
  nest(Object.fromEntries(Object.entries(c).map(([n, l]) => [n, makeLeaf(dtype, l.shape, l.params)])));

export const gradsOf = (c: TreeCase, step: number, dtype: Dtype = "float64"): Tree =>
  nest(Object.fromEntries(Object.entries(c).map(([n, l]) => [n, makeLeaf(dtype, l.shape, l.grads[step]!)])));
