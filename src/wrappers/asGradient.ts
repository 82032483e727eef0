/**
 * Starting a chain afresh inside another: the updates handed in become the gradient.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { failing } from "../core/elementwise.js";
import { aTransformation, readOptions, required } from "../core/options.js";
import { specOf, type GradientTransformation, type UpdateContext } from "../core/transform.js";
import type { Tree } from "../core/tree.js";

/**
 * `inner`, with the updates it is handed taken as its raw gradient: `update(u, s, p, ctx)` = `inner.update(u, s, p)`
 * (the outer chain's context is dropped). In a chain every member also sees the gradient the outermost chain
 * started from, and that is what {@link scaleByTrustRatio} reads; so in `chain(clipByGlobalNorm(1), lars(o))` lars's
 * γ comes from the unclipped gradient. `chain(clipByGlobalNorm(1), asGradient(lars(o)))` gives lars the clipped
 * gradient for everything, as if it had been called on it directly. The state is inner's own.
 * @example
 * const clippedLars = chain(clipByGlobalNorm(1.0), asGradient(lars({ lr: 0.1, momentum: 0.9 })));
 */
export const asGradient = <S>(wrapped: GradientTransformation<S>): GradientTransformation<S> => {
  const o = readOptions("asGradient", { inner: wrapped }, { inner: required(aTransformation) });
  if (E.isLeft(o)) return failing("asGradient", {}, o.left);
  const inner = o.right.inner as GradientTransformation<S>;
  return Object.freeze({
    name: "asGradient",
    hyperparams: { inner: specOf(inner) },
    init: (params: Tree) => inner.init(params),
    update: (updates: Tree, state: S, params?: Tree, _context?: UpdateContext) => inner.update(updates, state, params),
  });
};
