/** Rebuilding optimizers from their recorded specs. */
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import {
  addWeightDecay,
  chain,
  constantSchedule,
  identity,
  lars,
  rebuildOptimizer,
  scaleByLr,
  scaleByTrustRatio,
  specOf,
  traceMomentum,
  type GradientTransformation,
} from "larch";
import { firstDifference } from "./sameState.js";
import { larsPartition, realParams, runPoints } from "./runs.js";
import type { State } from "../../src/timetravel/stateValue.js";

const builtins: [string, GradientTransformation<any>][] = [
  ["identity", identity()],
  ["addWeightDecay", addWeightDecay(1e-4)],
  ["traceMomentum (nesterov)", traceMomentum({ momentum: 0.9, nesterov: true })],
  ["scaleByTrustRatio (clip, η)", scaleByTrustRatio({ weightDecay: 1e-3, scaleClip: [0, 10], trustCoefficient: 0.02 })],
  ["scaleByLr (constant schedule)", scaleByLr(constantSchedule(0.3))],
  ["chain", chain(addWeightDecay(1e-3), traceMomentum({ momentum: 0.8, dampening: 0.1 }), scaleByLr(0.05))],
  ["lars", lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 })],
];

describe("rebuildOptimizer", () => {
  it.each(builtins)("rebuilds %s with the same spec and the same steps", (_, opt) => {
    const rebuilt = rebuildOptimizer(specOf(opt));
    expect(E.isRight(rebuilt)).toBe(true);
    if (E.isLeft(rebuilt)) return;
    expect(specOf(rebuilt.right)).toEqual(specOf(opt));
    const a = runPoints(opt, realParams("float32"), 3);
    const b = runPoints(rebuilt.right, realParams("float32"), 3);
    expect(firstDifference(a as unknown as State, b as unknown as State)).toBe(undefined);
  });

  it("rebuilds a partition with polynomialDecay from its spec and the labels in its state", () => {
    const opt = larsPartition();
    const [start] = runPoints(opt, realParams("float64"), 0);
    const rebuilt = rebuildOptimizer(specOf(opt), start!.state);
    expect(E.isRight(rebuilt)).toBe(true);
    if (E.isLeft(rebuilt)) return;
    const a = runPoints(opt, realParams("float64"), 4);
    const b = runPoints(rebuilt.right, realParams("float64"), 4);
    expect(firstDifference(a as unknown as State, b as unknown as State)).toBe(undefined);
    const stateless = rebuildOptimizer(specOf(opt));
    expect(E.isLeft(stateless) && stateless.left.message).toMatch(/cannot rebuild a partition without its state/);
  });

  it("refuses what it cannot rebuild, saying to pass the optimizer", () => {
    const custom = scaleByLr(Object.assign((t: number) => 1 / (t + 1)));
    for (const spec of [{ name: "adamw", hyperparams: {} }, specOf(custom), 42]) {
      const r = rebuildOptimizer(spec);
      expect(E.isLeft(r) && r.left.message).toMatch(/cannot rebuild .*pass the optimizer/);
    }
  });
});
