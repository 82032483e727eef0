/**
 * L2 weight decay added to the gradient.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { elementwise, failing, requireParams, stateOfKind } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";

/** State of {@link addWeightDecay}: nothing but its tag. */
export interface AddWeightDecayState {
  readonly kind: "addWeightDecay";
}

const STATE: AddWeightDecayState = Object.freeze({ kind: "addWeightDecay" });

/**
 * u ← u + λ·p (the seed's `d_p.add_(p, alpha=weight_decay)`). Needs the params; λ must be finite and ≥ 0.
 * @example
 * const decay = addWeightDecay(5e-4);
 */
export const addWeightDecay = (weightDecay: number): GradientTransformation<AddWeightDecayState> => {
  const name = "addWeightDecay";
  const hyperparams = { weightDecay };
  if (!(Number.isFinite(weightDecay) && weightDecay >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid weight_decay value: ${weightDecay} (must be finite and >= 0)`));
  return elementwise<AddWeightDecayState>({
    name,
    hyperparams,
    init: () => E.right(STATE),
    begin: (state, trees) => {
      const s = stateOfKind<AddWeightDecayState>(state, "addWeightDecay");
      if (E.isLeft(s)) return s;
      const params = requireParams(name, trees);
      if (E.isLeft(params)) return params;
      return E.right({
        leaf: ({ params: p }) =>
          E.right(
            weightDecay === 0
              ? null
              : (u, lo, hi) => {
                  for (let i = lo, j = 0; i < hi; i++, j++) u[j] = u[j]! + weightDecay * p![i]!; // u ← u + λ·p
                },
          ),
        finish: () => s.right,
      });
    },
  });
};
