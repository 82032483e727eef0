/**
 * Matrix products of 2-D leaves, for transformations that work on a weight as a matrix (Muon's Newton–Schulz
 * orthogonalisation, Shampoo-style preconditioners).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "./errors.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "./leaf.js";

const notMatrix = (what: string, leaf: Leaf): OptimizerError =>
  optimizerError("ShapeMismatch", `${what} must be a 2-D leaf (a matrix), got shape [${leaf.shape.join(", ")}]`);

/** Right when `x` is a valid 2-D float leaf (an ndarray of float32 or float64 storage). */
const matrix = (what: string, x: unknown): E.Either<OptimizerError, Leaf> => {
  const leaf = x as Leaf;
  if (typeof x !== "object" || x === null || !((leaf.data as unknown) instanceof Float32Array || (leaf.data as unknown) instanceof Float64Array) || !Array.isArray(leaf.shape))
    return E.left(optimizerError("InvalidTree", `${what} is not a float32 or float64 ndarray`));
  return leaf.shape.length === 2 ? E.right(leaf) : E.left(notMatrix(what, leaf));
};

/**
 * C = A·Bᵀ when `transposeB`, else C = A·B: cᵢⱼ = Σₚ aᵢₚ·bₚⱼ (or Σₚ aᵢₚ·bⱼₚ), each sum accumulated in float64 in
 * increasing p, then stored in the leaves' dtype (one rounding per element). A and B must be 2-D leaves of one dtype
 * whose inner dimensions agree, else a ShapeMismatch or DtypeMismatch Left; any strides are read. The result is a
 * fresh frozen row-major leaf; A and B are only read.
 * @example
 * matmul(x, x, { transposeB: true }) // Right(X·Xᵀ), the Gram matrix of X's rows
 */
export const matmul = (a: Leaf, b: Leaf, o: { readonly transposeB?: boolean } = {}): E.Either<OptimizerError, Leaf> => {
  const A = matrix("the left factor", a);
  if (E.isLeft(A)) return A;
  const B = matrix("the right factor", b);
  if (E.isLeft(B)) return B;
  if (dtypeOf(A.right) !== dtypeOf(B.right))
    return E.left(optimizerError("DtypeMismatch", `matmul of a ${dtypeOf(A.right)} and a ${dtypeOf(B.right)} matrix`));
  const tb = o.transposeB === true;
  const [m, k] = A.right.shape as [number, number];
  const [b0, b1] = B.right.shape as [number, number];
  const [kb, n] = tb ? [b1, b0] : [b0, b1];
  if (k !== kb)
    return E.left(
      optimizerError("ShapeMismatch", `matmul of [${m}, ${k}] by ${tb ? "the transpose of " : ""}[${b0}, ${b1}]: inner dimensions ${k} and ${kb} differ`),
    );
  const x = denseValues(A.right);
  const y = denseValues(B.right);
  const out = allocate(dtypeOf(A.right), m * n);
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = x[i * k + p]!;
      if (tb) for (let j = 0; j < n; j++) row[j]! += aip * y[j * k + p]!; // Σₚ aᵢₚ·bⱼₚ
      else for (let j = 0; j < n; j++) row[j]! += aip * y[p * n + j]!; // Σₚ aᵢₚ·bₚⱼ
    }
    for (let j = 0; j < n; j++) out[i * n + j] = row[j]!;
  }
  return E.right(leafOf(out, [m, n]));
};

/**
 * Aᵀ: a fresh frozen row-major leaf with aᵀⱼᵢ = aᵢⱼ. A must be a 2-D leaf.
 * @example
 * transpose(w) // Right(wᵀ), shape [n, m] for w of shape [m, n]
 */
export const transpose = (a: Leaf): E.Either<OptimizerError, Leaf> =>
  E.map((A: Leaf) => {
    const [m, n] = A.shape as [number, number];
    const x = denseValues(A);
    const out = allocate(dtypeOf(A), m * n);
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = x[i * n + j]!;
    return leafOf(out, [n, m]);
  })(matrix("the matrix", a));
