/**
 * Clipping every update element to an interval (optax's `clip`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue } from "../core/errors.js";
import { aNumber, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";

/** State of {@link clip}: nothing but its tag. */
export interface ClipState {
  readonly kind: "clip";
}

/**
 * u′ = min(max(u, −δ), δ) element by element (optax's `clip`; NaN stays NaN). δ must be finite and ≥ 0.
 * Elementwise: chains fuse it.
 * @example
 * const opt = chain(clip(1), sgd({ lr: 0.1, momentum: 0.9 }));
 */
export const clip = (delta: number): GradientTransformation<ClipState> => {
  const name = "clip";
  const read = readOptions(name, { maxDelta: delta }, { maxDelta: required(aNumber) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { maxDelta } = read.right;
  const hyperparams = { maxDelta };
  if (!(Number.isFinite(maxDelta) && maxDelta >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid max delta: ${showValue(maxDelta)} (must be finite and >= 0)`));
  return defineElementwise<ClipState>({
    name,
    hyperparams,
    state: { kind: "clip" },
    bodies: { clip: { u: "min(max(u, lo), hi)" } }, // u′ = min(max(u, −δ), δ)
    step: () => E.right({ body: "clip", scalars: { lo: -maxDelta, hi: maxDelta } }),
  });
};
