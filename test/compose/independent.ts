/**
 * Runs a larch optimizer on a random case and compares its params, after every step, with an independent
 * float64 implementation of the published equations (plain loops over number arrays, written in the tests).
 */
import * as E from "fp-ts/lib/Either.js";
import { applyUpdates, denseValues, type GradientTransformation, type Tree } from "larch";
import { at } from "../support/reference.js";
import { gradsOf, paramsOf, type TreeCase } from "./arbitraries.js";
import { relError } from "./replay.js";

/** One step of a reference for one leaf: (params, gradient, this leaf's state, step t = 1, 2, …) → new params. */
export type ReferenceStep<S> = (w: readonly number[], g: readonly number[], state: S, t: number) => [number[], S];

/** ‖x‖₂ by the textbook definition. */
export const norm = (x: readonly number[]): number => Math.sqrt(x.reduce((s, v) => s + v * v, 0));

/** The worst relative error between larch's params and the reference's over every step of the case. */
export const worstAgainstReference = <S>(
  c: TreeCase,
  steps: number,
  opt: GradientTransformation<any>,
  reference: ReferenceStep<S>,
  initial: () => S,
): number => {
  let params: Tree = paramsOf(c);
  const init = opt.init(params);
  if (E.isLeft(init)) throw new Error(init.left.message);
  let state = init.right;
  const mine = Object.fromEntries(Object.entries(c).map(([n, l]) => [n, { w: [...l.params], s: initial() }]));
  let worst = 0;
  for (let t = 0; t < steps; t++) {
    const step = opt.update(gradsOf(c, t), state, params);
    if (E.isLeft(step)) throw new Error(step.left.message);
    const next = applyUpdates(params, step.right[0]);
    if (E.isLeft(next)) throw new Error(next.left.message);
    [params, state] = [next.right, step.right[1]];
    for (const [n, l] of Object.entries(c)) {
      const ref = mine[n]!;
      [ref.w, ref.s] = reference(ref.w, l.grads[t]!, ref.s, t + 1);
      worst = Math.max(worst, relError(denseValues(at(params, n)), ref.w));
    }
  }
  return worst;
};
