/**
 * Scaling each leaf's update by the root mean square of its params (optax's `scale_by_param_block_rms`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue } from "../core/errors.js";
import { sumOfSquares } from "../core/norm.js";
import { aNumber, optional, readOptions } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";

/** State of {@link scaleByParamBlockRms}: nothing but its tag. */
export interface ScaleByParamBlockRmsState {
  readonly kind: "scaleByParamBlockRms";
}

/**
 * The rms of a leaf's params floored at `minScale`, as optax's `safe_root_mean_squares`: √(mean p²), or minScale
 * where that is ≤ minScale (a zero-initialised bias moves at minScale·u).
 * @example
 * safeRms(Float32Array.of(3, 4), 1e-3) // √12.5 ≈ 3.54; safeRms(new Float32Array(3), 1e-3) // 1e-3
 */
export const safeRms = (p: ArrayLike<number>, minScale: number): number => {
  try {
    if (!(p instanceof Float32Array || p instanceof Float64Array) || typeof minScale !== "number") return NaN;
  } catch {
    return NaN; // a Proxy whose getPrototypeOf throws
  }
  const rms = Math.sqrt(sumOfSquares(p) / p.length);
  return rms <= minScale ? minScale : rms;
};

/**
 * Per leaf, u′ = max(ε₂, rms(p))·u with rms(p) = √(mean p²) of the leaf's params (optax's `scale_by_param_block_rms`,
 * Adafactor's "multiply by parameter scale": the step is relative to the size of the weights). ε₂ = `minScale`
 * (default 1e-3) must be finite and ≥ 0. Needs the params. Elementwise once the leaf's rms is known: chains fuse it.
 * @example
 * const relative = chain(scaleByLr(1e-2), scaleByParamBlockRms());
 */
export const scaleByParamBlockRms = (o: { readonly minScale?: number } = {}): GradientTransformation<ScaleByParamBlockRmsState> => {
  const name = "scaleByParamBlockRms";
  const read = readOptions(name, o, { minScale: optional(aNumber, 1e-3) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { minScale } = read.right;
  const hyperparams = { minScale };
  if (!(Number.isFinite(minScale) && minScale >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `${name}: Invalid minScale: ${showValue(minScale)} (must be finite and >= 0)`));
  return defineElementwise<ScaleByParamBlockRmsState>({
    name,
    hyperparams,
    state: { kind: name, params: true },
    bodies: { scale: { u: "rms * u" } }, // u′ = max(ε₂, rms(p))·u
    step: () => E.right({ body: "scale", leaf: ({ params }) => E.right({ rms: safeRms(params!, minScale) }) }),
  });
};

registerBuilder("scaleByParamBlockRms", scaleByParamBlockRms);
