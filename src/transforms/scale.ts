/**
 * Scaling the updates by a constant (optax's `scale`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue } from "../core/errors.js";
import { aNumber, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";

/** State of {@link scale}: nothing but its tag. */
export interface ScaleState {
  readonly kind: "scale";
}

/**
 * u′ = s·u, for a finite s of either sign (optax's `scale`): `scale(-1)` is optax's closing sign flip, as in
 * {@link adafactor}. Elementwise: chains fuse it.
 * @example
 * const ascend = chain(scaleByLr(0.1), scale(-1)); // u′ = +αu: optax's scale_by_learning_rate(0.1, flip_sign=False)
 */
export const scale = (factor: number): GradientTransformation<ScaleState> => {
  const name = "scale";
  const o = readOptions(name, { factor }, { factor: required(aNumber) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const s = o.right.factor;
  const hyperparams = { factor: s };
  if (!Number.isFinite(s)) return failing(name, hyperparams, optimizerError("InvalidOption", `scale: Invalid factor: ${showValue(s)} (must be finite)`));
  return defineElementwise<ScaleState>({
    name,
    hyperparams,
    state: { kind: name },
    bodies: { scale: { u: "s * u" } }, // u′ = s·u
    step: () => E.right({ body: s === 1 ? null : "scale", scalars: { s } }),
  });
};

registerBuilder("scale", scale);
