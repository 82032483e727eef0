/**
 * The pieces every layer-wise trust ratio shares (the seed's LARS, the LARS paper's, optax's LARS and LAMB):
 * the numerator η·clip(‖p‖), the ratio with its zero-norm rule, the scaling kernel, and the non-finite check
 * read off the norms the step computes anyway.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "../core/errors.js";
import { aNumber, aPair, optional, readOptions } from "../core/options.js";
import type { BlockKernel } from "../core/transform.js";

/** Options of the numerator η·clip(‖p‖). */
export interface TrustNumeratorOptions {
  /** η, multiplying the ratio (default 1). */
  readonly trustCoefficient?: number;
  /** `[lo, hi]`: clamp ‖p‖ to this range (default: no clamp). */
  readonly scaleClip?: readonly [number, number];
}

/**
 * Why a scaleClip range is invalid (it needs finite 0 ≤ lo ≤ hi), or undefined when it is valid or absent.
 * @example
 * scaleClipProblem([0, 10]) === undefined; scaleClipProblem([1, 0]) // "Invalid scale_clip: [1,0] (needs ...)"
 */
export const scaleClipProblem = (clip: readonly [number, number] | undefined): string | undefined => {
  if (clip === undefined) return undefined;
  try {
    const [lo, hi] = Array.isArray(clip) ? clip : [];
    return Number.isFinite(lo) && Number.isFinite(hi) && 0 <= lo! && lo! <= hi! ? undefined : `Invalid scale_clip: ${showValue(clip)} [${showValue(lo)}, ${showValue(hi)}] (needs finite 0 <= lo <= hi)`;
  } catch (e) {
    return `Invalid scale_clip: reading it threw ${showValue(e)}`;
  }
};

/**
 * The numerator n(‖p‖) = η·min(max(‖p‖, lo), hi) (without the clamp when no `scaleClip` is given, and without
 * the product when η = 1, so that η = 1 gives exactly ‖p‖). A Left names an invalid η or clip.
 * @example
 * const numerator = trustNumerator({ trustCoefficient: 0.001, scaleClip: [0, 10] }); // Right(n): n(‖p‖) = 0.001·min(‖p‖, 10)
 */
export const trustNumerator = (options: TrustNumeratorOptions): E.Either<OptimizerError, (paramNorm: number) => number> => {
  const o = readOptions("trustNumerator", options, { trustCoefficient: optional(aNumber, 1), scaleClip: optional(aPair, undefined) });
  if (E.isLeft(o)) return o;
  const { trustCoefficient: eta, scaleClip: clip } = o.right;
  if (!(Number.isFinite(eta) && eta > 0))
    return E.left(optimizerError("InvalidOption", `Invalid trust coefficient: ${eta} (must be finite and > 0)`));
  const clipProblem = scaleClipProblem(clip);
  if (clipProblem !== undefined) return E.left(optimizerError("InvalidOption", clipProblem));
  const clamp = clip ? (pNorm: number) => Math.min(Math.max(pNorm, clip[0]), clip[1]) : (pNorm: number) => pNorm;
  return E.right(eta === 1 ? clamp : (pNorm: number) => eta * clamp(pNorm));
};

/**
 * γ = n(‖p‖) / denominator, and γ = 1 where ‖p‖ = 0 or the reference norm is degenerate (`degenerate`: the
 * seed's ‖g‖ + λ‖p‖ = 0, optax's ‖u‖ = 0), so a zero-initialised bias or a zero update is left as it is.
 * @example
 * const denom = gNorm + wd * pNorm;
 * const gamma = trustRatio(numerator, pNorm, denom, denom === 0); // η‖p‖ / (‖g‖ + λ‖p‖)
 */
export const trustRatio = (
  numerator: (paramNorm: number) => number,
  paramNorm: number,
  denominator: number,
  degenerate: boolean,
): number => (paramNorm === 0 || degenerate ? 1 : typeof numerator === "function" ? numerator(paramNorm) / denominator : NaN);

/**
 * The kernel u ← γ·u, or null (leave the leaf as it is) when γ = 1.
 * @example
 * leaf: (input) => E.right(scaleKernel(gamma)) // in a StepPlan
 */
export const scaleKernel = (gamma: number): BlockKernel | null =>
  gamma === 1
    ? null
    : (u, lo, hi) => {
        for (let j = 0; j < hi - lo; j++) u[j] = gamma * u[j]!; // u ← γ·u
      };

/**
 * Right when every norm is finite; otherwise a NonFinite Left naming the first non-finite one (a NaN or ±Inf in
 * that leaf makes its norm NaN or +Inf), the leaf path and the step.
 * @example
 * finiteNorms("fc.weight", 3, [["parameter", pNorm], ["gradient", gNorm]]) // Left(NonFinite) if gNorm is NaN
 */
export const finiteNorms = (
  path: string,
  step: number,
  norms: readonly (readonly [what: string, norm: number])[],
): E.Either<OptimizerError, void> => {
  try {
    return finiteOrLeft(path, step, norms);
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `finiteNorms: its norms cannot be read: reading them threw ${showValue(e)}`));
  }
};

const finiteOrLeft = (
  path: string,
  step: number,
  norms: readonly (readonly [what: string, norm: number])[],
): E.Either<OptimizerError, void> => {
  for (const [what, norm] of norms)
    if (!Number.isFinite(norm))
      return E.left(
        optimizerError(
          "NonFinite",
          `${what} ${showPath(path)} contains ${Number.isNaN(norm) ? "NaN" : "±Inf"} at step ${step}; the state is unchanged, so the batch can be dropped`,
          { path, step },
        ),
      );
  return E.right(undefined);
};
