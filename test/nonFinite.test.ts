/**
 * sgd, adam and adamw refuse a NaN or ±Inf in the gradient or the params as lars does (issue 12): a NonFinite Left
 * naming the leaf and the step, the state handed in unchanged, and with donation nothing overwritten. Readers of a
 * state (encodeState, diffStates) refuse a donated one.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  adam,
  adamw,
  applyStep,
  chain,
  clipByGlobalNorm,
  diffStates,
  encodeState,
  isDonated,
  partition,
  sgd,
  type GradientTransformation,
  type Leaf,
  type OptimizerError,
  type Tree,
} from "larch";
import { snapshot } from "./support/trees.js";

const leaf = (xs: number[], Array_: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array) => ndarray(Array_.from(xs), [xs.length]) as Leaf;
const params = (): Tree => ({ fc: { bias: leaf([0.1, -0.2]), weight: leaf([1, 2, 3, 4]) } });
const grads = (bad = 1): Tree => ({ fc: { bias: leaf([0.3, 0.1]), weight: leaf([0.5, bad, -0.25, 2]) } });
const right = <A>(e: E.Either<OptimizerError, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};
const leftOf = <A>(e: E.Either<OptimizerError, A>): OptimizerError => {
  if (E.isRight(e)) throw new Error("expected a Left");
  return e.left;
};

const optimizers: [string, () => GradientTransformation<any>][] = [
  ["sgd", () => sgd({ lr: 0.1 })],
  ["sgd with momentum and decay", () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 1e-4 })],
  ["adam", () => adam({ lr: 1e-3 })],
  ["adamw", () => adamw({ lr: 1e-3 })],
  ["clipByGlobalNorm then adam", () => chain(clipByGlobalNorm(1), adam({ lr: 1e-3 }))],
  ["a partition of sgd and adamw", () => partition({ a: sgd({ lr: 0.1, momentum: 0.9 }), b: adamw({ lr: 1e-3 }) }, { fc: { bias: "a", weight: "b" } })],
];

describe("non-finite gradients and params", () => {
  for (const [name, make] of optimizers)
    for (const [what, bad, inParams] of [["NaN gradient", NaN, false], ["+Inf gradient", Infinity, false], ["-Inf param", -Infinity, true]] as const)
      it(`${name}: a ${what} is a NonFinite Left naming leaf and step; the state is unchanged, donated or not`, () => {
        const opt = make();
        const p0 = params();
        const s0 = right(opt.init(p0));
        const [p1, s1] = right(applyStep(opt, grads(), s0, p0));
        const g = inParams ? grads() : grads(bad);
        const p = inParams ? { fc: { bias: leaf([0.1, -0.2]), weight: leaf([1, bad, 3, 4]) } } : p1;
        const before = [snapshot(s1), snapshot(p)];
        const kind = inParams ? "parameter" : "gradient";
        const viaUpdate = leftOf(opt.update(g, s1, p));
        expect(viaUpdate).toMatchObject({ kind: "NonFinite", path: "fc.weight", step: 1 });
        if (!name.startsWith("clip") || inParams) expect(viaUpdate.message).toMatch(new RegExp(`${kind} fc.weight contains`));
        for (const donate of [false, true]) {
          const step = leftOf(applyStep(opt, g, s1, p, { donate }));
          expect(step).toMatchObject({ kind: "NonFinite", path: "fc.weight", step: 1 });
          expect([snapshot(s1), snapshot(p)]).toEqual(before);
          expect(isDonated(s1) || isDonated(p)).toBe(false);
        }
      });
});

describe("a donated state cannot be read again", () => {
  it("encodeState and diffStates refuse a donated state with StateReused", () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    const p0 = params();
    const s0 = right(opt.init(p0));
    const [p1, s1] = right(applyStep(opt, grads(), s0, p0));
    const [, s2] = right(applyStep(opt, grads(), s1, p1, { donate: true }));
    expect(isDonated(s1)).toBe(true);
    expect(leftOf(encodeState(s1)).kind).toBe("StateReused");
    expect(leftOf(diffStates(s1, s2)).kind).toBe("StateReused");
    expect(leftOf(diffStates(s2, s1)).kind).toBe("StateReused");
    expect(E.isRight(encodeState(s2))).toBe(true);
    expect(E.isRight(diffStates(s0, s2))).toBe(true);
  });
});
