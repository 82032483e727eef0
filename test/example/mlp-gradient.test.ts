import { fc, test } from "@fast-check/vitest";
import { describe, expect } from "vitest";
import type { Examples } from "../../examples/iris/dataset.js";
import { type Leaf, type MlpParams, castMlp, initMlp, loss, lossAndGrad } from "../../examples/iris/mlp.js";
import { mulberry32 } from "../../examples/shared/prng.js";

const LEAVES = [
  ["fc1", "weight"],
  ["fc1", "bias"],
  ["fc2", "weight"],
  ["fc2", "bias"],
] as const;

const leafOf = (p: MlpParams, [layer, name]: (typeof LEAVES)[number]): Leaf => p[layer][name];

/** A random batch of n examples with d standard-normal-ish features and labels in [0, classes). */
const randomBatch = (seed: number, n: number, d: number, classes: number): Examples => {
  const random = mulberry32(seed);
  const x = Float64Array.from({ length: n * d }, () => 4 * random() - 2);
  const y = Int32Array.from({ length: n }, () => Math.floor(random() * classes));
  return { x, y, n, d };
};

const snapshot = (p: MlpParams) => LEAVES.map((k) => Array.from(leafOf(p, k).data));

describe("MLP gradients", () => {
  test.prop([fc.integer({ min: 0, max: 2 ** 31 }), fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 9 })], {
    numRuns: 12,
  })("back-propagation matches central finite differences in float64", (seed, n, hidden) => {
    const sizes = { input: 4, hidden, classes: 3 };
    const params = castMlp(initMlp(mulberry32(seed), sizes), "float64");
    const batch = randomBatch(seed + 1, n, sizes.input, sizes.classes);
    const before = snapshot(params);
    const { loss: l, grads } = lossAndGrad(params, batch);
    expect(l).toBeCloseTo(loss(params, batch), 12);
    expect(snapshot(params)).toEqual(before); // inputs are never mutated
    const h = 1e-6;
    for (const key of LEAVES) {
      const g = leafOf(grads, key);
      expect(g.data).toBeInstanceOf(Float64Array);
      expect(g.shape).toEqual(leafOf(params, key).shape);
      for (let i = 0; i < g.data.length; i++) {
        // ∂L/∂θ_i ≈ (L(θ + h e_i) − L(θ − h e_i)) / 2h, on copies of the params.
        const plus = castMlp(params, "float64");
        const minus = castMlp(params, "float64");
        leafOf(plus, key).data[i] = (leafOf(params, key).data[i] as number) + h;
        leafOf(minus, key).data[i] = (leafOf(params, key).data[i] as number) - h;
        const numeric = (loss(plus, batch) - loss(minus, batch)) / (2 * h);
        const analytic = g.data[i] as number;
        expect(Math.abs(analytic - numeric)).toBeLessThanOrEqual(1e-7 + 1e-5 * Math.abs(numeric));
      }
    }
  });

  test.prop([fc.integer({ min: 0, max: 2 ** 31 })], { numRuns: 5 })(
    "float32 params give float32 gradients equal to the float64 ones rounded",
    (seed) => {
      const p32 = initMlp(mulberry32(seed), { input: 4, hidden: 5, classes: 3 });
      const batch = randomBatch(seed, 7, 4, 3);
      const g32 = lossAndGrad(p32, batch).grads;
      const g64 = lossAndGrad(castMlp(p32, "float64"), batch).grads;
      for (const key of LEAVES) {
        expect(leafOf(g32, key).data).toBeInstanceOf(Float32Array);
        expect(Array.from(leafOf(g32, key).data)).toEqual(Array.from(Float32Array.from(leafOf(g64, key).data)));
      }
    },
  );

  test("an all-zero model predicts uniformly, so its loss is log(classes)", () => {
    const params = castMlp(initMlp(mulberry32(3), { input: 4, hidden: 4, classes: 3 }), "float64");
    for (const [layer, name] of LEAVES) params[layer][name].data.fill(0);
    const batch = randomBatch(9, 10, 4, 3);
    expect(loss(params, batch)).toBeCloseTo(Math.log(3), 12);
  });
});
