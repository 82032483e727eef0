/**
 * Accumulating updates and emitting their sum every k steps (optax's `apply_every`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, failing, stateOfKind, stateTreeMatching, zerosLike } from "../core/elementwise.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { aNumber, readOptions, required } from "../core/options.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "../core/leaf.js";
import type { GradientTransformation, Step } from "../core/transform.js";
import { flatten, unflatten, type Tree } from "../core/tree.js";
import { noUpdates } from "./noUpdates.js";

/** State of {@link applyEvery}: steps seen, and the sum a of this cycle's updates so far (leaf dtypes). */
export interface ApplyEveryState {
  readonly kind: "applyEvery";
  readonly count: number;
  readonly acc: Tree;
}

/**
 * Sums the updates it receives and lets them through every k-th step, with j = count mod k:
 *
 *   a ← u (j = 0),  a ← a + u (j > 0);    u′ = a at j = k − 1,  u′ = −0 otherwise ({@link noUpdates}: params unchanged)
 *
 * (optax's `apply_every`). Unlike {@link multiSteps} the members before it in a chain still step every time (their
 * state moves on each micro-step), and the emitted update is the sum, not the mean. With k = 1 it passes every update
 * through. k must be a whole number ≥ 1.
 * @example
 * const opt = chain(sgd({ lr: 0.1, momentum: 0.9 }), applyEvery(4)); // params move every 4th step by the sum of 4 updates
 */
export const applyEvery = (steps: number): GradientTransformation<ApplyEveryState> => {
  const name = "applyEvery";
  const o = readOptions(name, { k: steps }, { k: required(aNumber) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { k } = o.right;
  const hyperparams = { k };
  if (!(Number.isSafeInteger(k) && k >= 1))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid number of steps k: ${k} (must be a whole number >= 1)`));
  const update = (updates: Tree, state: ApplyEveryState): E.Either<OptimizerError, Step<ApplyEveryState>> => {
    const s = stateOfKind<ApplyEveryState>(state, "applyEvery");
    if (E.isLeft(s)) return s;
    const count = checkCount(name, s.right.count);
    if (E.isLeft(count)) return count;
    const u = flatten(updates);
    if (E.isLeft(u)) return u;
    const acc = stateTreeMatching(name, s.right.acc, u.right);
    if (E.isLeft(acc)) return acc;
    const j = count.right % k;
    const sums: Leaf[] = u.right.leaves.map((leaf, i) => {
      const ui = denseValues(leaf);
      const a = denseValues(acc.right.leaves[i]!);
      const out = allocate(dtypeOf(leaf), ui.length);
      if (j === 0) out.set(ui); // a ← u
      else for (let e = 0; e < ui.length; e++) out[e] = a[e]! + ui[e]!; // a ← a + u
      return leafOf(out, leaf.shape);
    });
    const summed = unflatten(u.right.def, sums, u.right.paths);
    const next = Object.freeze({ kind: "applyEvery" as const, count: count.right + 1, acc: summed });
    return E.right([j === k - 1 ? summed : noUpdates(u.right), next] as const);
  };
  return Object.freeze({
    name,
    hyperparams,
    init: (params: Tree) =>
      E.map((flat: Parameters<typeof zerosLike>[0]) => Object.freeze({ kind: "applyEvery" as const, count: 0, acc: zerosLike(flat) }))(flatten(params)),
    update,
  });
};
