/**
 * Newton–Schulz orthogonalisation of a matrix (Muon's core step, Jordan et al. 2024): X ↦ about U·Vᵀ of X = U·S·Vᵀ,
 * by a few polynomial iterations instead of an SVD.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "../core/caught.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { aNumber, numbers, optional, readOptions } from "../core/options.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "../core/leaf.js";
import { matmul, transpose } from "../core/matmul.js";
import type { MatrixProduct } from "../core/matrixProduct.js";
import { l2Norm } from "../core/norm.js";

/** The quintic coefficients (a, b, c) of Muon's default iteration, as optax's `muon` has them. */
export const MUON_NS_COEFFS = Object.freeze([3.4445, -4.775, 2.0315] as const);

/** The options of {@link newtonSchulz}. */
export interface NewtonSchulzOptions {
  /** Iterations (default 5, a whole number ≥ 0). */
  readonly steps?: number;
  /** (a, b, c) of f(X) = a·X + (b·A + c·A²)·X, A = X·Xᵀ (default {@link MUON_NS_COEFFS}). */
  readonly coeffs?: readonly [number, number, number];
  /** ε of the first scaling X / (‖X‖_F + ε) (default 1e-8). */
  readonly eps?: number;
}

/** Values of one matrix as a leaf of the same dtype: c₁·x + c₂·y element by element (one rounding each). */
const combine = (c1: number, x: Leaf, c2: number, y: Leaf): Leaf => {
  const u = denseValues(x);
  const v = denseValues(y);
  const out = allocate(dtypeOf(x), u.length);
  for (let i = 0; i < u.length; i++) out[i] = c1 * u[i]! + c2 * v[i]!;
  return leafOf(out, x.shape);
};

/**
 * Orthogonalises a 2-D leaf X (m×n) as optax's `orthogonalize_via_newton_schulz` with Frobenius preconditioning:
 *
 *   X ← X / (‖X‖_F + ε)                      (‖·‖_F in float64)
 *   transpose X when m > n (so A below is the smaller Gram matrix), and back at the end
 *   repeat `steps` times:  A = X·Xᵀ,  B = b·A + c·A·A,  X ← a·X + B·X
 *
 * Each product accumulates in float64 and rounds to the leaf's dtype ({@link matmul}), as does each sum. With Muon's
 * coefficients the singular values end in about [0.7, 1.2] rather than at exactly 1 (the iteration trades accuracy for
 * speed). A leaf that is not 2-D, or invalid options, is a Left; X is only read. `product` does the products'
 * arithmetic (scaleByMuon passes its context's; without one, {@link matmul}'s default), the same bits.
 * @example
 * newtonSchulz(momentumOfW) // Right(≈ U·Vᵀ), Muon's update direction for a weight matrix
 */
export const newtonSchulz = (x: Leaf, options: NewtonSchulzOptions = {}, product?: MatrixProduct): E.Either<OptimizerError, Leaf> => {
  try {
    return newtonSchulzOrThrow(x, options, product);
  } catch (e) {
    return threw("newtonSchulz", e); // a leaf that is a Proxy whose traps throw
  }
};

const newtonSchulzOrThrow = (x: Leaf, options: NewtonSchulzOptions, product: MatrixProduct | undefined): E.Either<OptimizerError, Leaf> => {
  const o = readOptions("newtonSchulz", options ?? {}, { steps: optional(aNumber, 5), coeffs: optional(numbers, MUON_NS_COEFFS), eps: optional(aNumber, 1e-8) });
  if (E.isLeft(o)) return o;
  const { steps, eps } = o.right;
  const [a, b, c] = o.right.coeffs;
  if (!(Number.isSafeInteger(steps) && steps >= 0))
    return E.left(optimizerError("InvalidOption", `Invalid Newton–Schulz steps: ${steps} (must be a whole number >= 0)`));
  if (o.right.coeffs.length !== 3 || ![a, b, c].every(Number.isFinite)) return E.left(optimizerError("InvalidOption", `Invalid Newton–Schulz coefficients: [${o.right.coeffs.join(", ")}] (must be three finite numbers)`));
  if (!(Number.isFinite(eps) && eps >= 0)) return E.left(optimizerError("InvalidOption", `Invalid eps: ${eps} (must be finite and >= 0)`));
  const checked = transpose(x); // also checks that x is a 2-D float leaf
  if (E.isLeft(checked)) return checked;
  const tall = x.shape[0]! > x.shape[1]!;
  const start = tall ? checked.right : x;
  const values = denseValues(start);
  const norm = l2Norm(values);
  const scaled = allocate(dtypeOf(start), values.length);
  for (let i = 0; i < values.length; i++) scaled[i] = values[i]! / (norm + eps); // X / (‖X‖_F + ε)
  let X = leafOf(scaled, start.shape);
  for (let k = 0; k < steps; k++) {
    const A = matmul(X, X, { transposeB: true }, product); // A = X·Xᵀ
    if (E.isLeft(A)) return A;
    const AA = matmul(A.right, A.right, {}, product);
    if (E.isLeft(AA)) return AA;
    const B = combine(b, A.right, c, AA.right); // B = b·A + c·A²
    const BX = matmul(B, X, {}, product);
    if (E.isLeft(BX)) return BX;
    X = combine(a, X, 1, BX.right); // X ← a·X + B·X
  }
  return tall ? transpose(X) : E.right(X);
};
