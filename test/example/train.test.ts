import * as E from "fp-ts/lib/Either.js";
import { describe, expect, test } from "vitest";
import { loadIris } from "../../examples/iris/dataset.js";
import { accuracy, initMlp } from "../../examples/iris/mlp.js";
import { mulberry32 } from "../../examples/shared/prng.js";
import { type TrainConfig, makeOptimizer, totalSteps, train } from "../../examples/iris/train.js";

const config: TrainConfig = { epochs: 20, batchSize: 16, lr: 0.005, power: 2, momentum: 0.9, weightDecay: 1e-3 };

const run = (seed: number) => {
  const split = loadIris(mulberry32(seed));
  const initial = initMlp(mulberry32(seed + 1), { input: 4, hidden: 16, classes: 3 });
  const { optimizer, schedule } = makeOptimizer(config, totalSteps(config, split.train.n));
  const lrs: number[] = [];
  const result = train(split.train, initial, optimizer, schedule, config, mulberry32(seed + 2), {
    onStep: (s) => lrs.push(s.lr),
  });
  return { split, initial, result, lrs };
};

describe("the iris training loop", () => {
  test.each([2017, 7, 11])("LARS learns iris well above chance (seed %i)", (seed) => {
    const { split, initial, result } = run(seed);
    if (E.isLeft(result)) throw new Error(result.left.message);
    expect(result.right.steps).toBe(totalSteps(config, split.train.n));
    expect(accuracy(initial, split.test)).toBeLessThan(0.8);
    expect(accuracy(result.right.params, split.test)).toBeGreaterThanOrEqual(0.9);
  });

  test("is deterministic: the same seed gives bit-identical parameters", () => {
    const a = run(5).result;
    const b = run(5).result;
    if (E.isLeft(a) || E.isLeft(b)) throw new Error("training failed");
    for (const layer of ["fc1", "fc2"] as const)
      for (const name of ["weight", "bias"] as const)
        expect(Array.from(b.right.params[layer][name].data)).toEqual(Array.from(a.right.params[layer][name].data));
  });

  test("the learning rate follows the polynomial decay from lr to 0", () => {
    const { lrs } = run(1);
    const T = lrs.length;
    lrs.forEach((lr, t) => expect(lr).toBeCloseTo(config.lr * (1 - t / T) ** config.power, 15));
  });
});
