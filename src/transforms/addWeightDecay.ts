/**
 * L2 weight decay added to the gradient.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import { aNumber, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";

/** State of {@link addWeightDecay}: nothing but its tag. */
export interface AddWeightDecayState {
  readonly kind: "addWeightDecay";
}

/**
 * u ← u + λ·p (the seed's `d_p.add_(p, alpha=weight_decay)`). Needs the params; λ must be finite and ≥ 0.
 * @example
 * const decay = addWeightDecay(5e-4);
 */
export const addWeightDecay = (wd: number): GradientTransformation<AddWeightDecayState> => {
  const name = "addWeightDecay";
  const o = readOptions(name, { weightDecay: wd }, { weightDecay: required(aNumber) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const { weightDecay } = o.right;
  const hyperparams = { weightDecay };
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid weight_decay value: ${weightDecay} (must be finite and >= 0)`));
  return defineElementwise<AddWeightDecayState>({
    name,
    hyperparams,
    state: { kind: "addWeightDecay" },
    bodies: { decay: { u: "u + wd * p" } }, // u ← u + λ·p
    step: () => E.right({ body: weightDecay === 0 ? null : "decay", scalars: { wd: weightDecay } }),
  });
};
