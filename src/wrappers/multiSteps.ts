/**
 * Gradient accumulation over micro-batches (optax's `MultiSteps`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, failing, stateOfKind, stateTreeMatching, zerosLike } from "../core/elementwise.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { aNumber, aTransformation, readOptions, required } from "../core/options.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "../core/leaf.js";
import { specOf, type GradientTransformation, type Step } from "../core/transform.js";
import { flatten, unflatten, type Tree } from "../core/tree.js";
import { noUpdates } from "./noUpdates.js";

/** State of {@link multiSteps}: micro-steps seen, the sum of this cycle's gradients (leaf dtypes), and the inner state. */
export interface MultiStepsState {
  readonly kind: "multiSteps";
  readonly count: number;
  readonly acc: Tree;
  readonly inner: unknown;
}

/**
 * Accumulates k micro-batch gradients, then takes one step of `inner` with their mean:
 *
 *   micro-step j = count mod k:  a ← g (j = 0), a ← a + g (j > 0)
 *   j < k − 1:  u = −0 everywhere ({@link noUpdates}: the params stay as they are), inner state kept
 *   j = k − 1:  (u, s) ← inner(a / k, s), a ← 0
 *
 * The sum is kept in the leaf's dtype. `inner` sees the mean as its gradient (also for a trust ratio that reads
 * the raw gradient), and the params of the last micro-step. With k = 1 it is `inner` itself. k must be a whole
 * number ≥ 1.
 * @example
 * const opt = multiSteps(adam({ lr: 1e-3 }), 4); // one Adam step per 4 micro-batches
 */
export const multiSteps = <S>(wrapped: GradientTransformation<S>, microSteps: number): GradientTransformation<MultiStepsState> => {
  const name = "multiSteps";
  const o = readOptions(name, { inner: wrapped, k: microSteps }, { inner: required(aTransformation), k: required(aNumber) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { k } = o.right;
  const inner = o.right.inner as GradientTransformation<S>;
  const hyperparams = { k, inner: specOf(inner) };
  if (!(Number.isSafeInteger(k) && k >= 1))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid number of micro-steps: ${k} (must be a whole number >= 1)`));
  const update = (updates: Tree, state: MultiStepsState, params?: Tree): E.Either<OptimizerError, Step<MultiStepsState>> => {
    const s = stateOfKind<MultiStepsState>(state, "multiSteps");
    if (E.isLeft(s)) return s;
    const count = checkCount(name, s.right.count);
    if (E.isLeft(count)) return count;
    const g = flatten(updates);
    if (E.isLeft(g)) return g;
    const acc = stateTreeMatching(name, s.right.acc, g.right);
    if (E.isLeft(acc)) return acc;
    const j = count.right % k;
    const last = j === k - 1;
    const sums: Leaf[] = g.right.leaves.map((leaf, i) => {
      const gi = denseValues(leaf);
      const a = denseValues(acc.right.leaves[i]!);
      const out = allocate(dtypeOf(leaf), gi.length);
      if (j === 0) out.set(gi); // a ← g
      else for (let e = 0; e < gi.length; e++) out[e] = a[e]! + gi[e]!; // a ← a + g
      if (last && k > 1) for (let e = 0; e < out.length; e++) out[e] = out[e]! / k; // ḡ = a / k
      return leafOf(out, leaf.shape);
    });
    const summed = unflatten(g.right.def, sums, g.right.paths);
    if (!last)
      return E.right([noUpdates(g.right), Object.freeze({ ...s.right, count: count.right + 1, acc: summed })] as const);
    const step = inner.update(summed, s.right.inner as S, params);
    if (E.isLeft(step)) return step;
    return E.right([
      step.right[0],
      Object.freeze({ kind: "multiSteps" as const, count: count.right + 1, acc: zerosLike(g.right), inner: step.right[1] }),
    ] as const);
  };
  return Object.freeze({
    name,
    hyperparams,
    init: (params: Tree) => {
      const flat = flatten(params);
      if (E.isLeft(flat)) return flat;
      return E.map((innerState: S) =>
        Object.freeze({ kind: "multiSteps" as const, count: 0, acc: zerosLike(flat.right), inner: innerState }),
      )(inner.init(params));
    },
    update,
  });
};
