/**
 * Matrix products of 2-D leaves, for transformations that work on a weight as a matrix (Muon's Newton–Schulz
 * orthogonalisation, Shampoo-style preconditioners).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "./caught.js";
import { optimizerError, type OptimizerError } from "./errors.js";
import { allocate, denseValues, dtypeOf, leafOf, type Leaf } from "./leaf.js";
import { aBoolean, optional, readOptions } from "./options.js";
import { isLeaf } from "./tree.js";
import { compiledMath } from "./executor.js";
import { matrixProduct, type MatrixProduct } from "./matrixProduct.js";

export type { MatrixProduct } from "./matrixProduct.js";

const notMatrix = (what: string, leaf: Leaf): OptimizerError =>
  optimizerError("ShapeMismatch", `${what} must be a 2-D leaf (a matrix), got shape [${leaf.shape.join(", ")}]`);

/** Right when `x` is a valid 2-D float leaf (an ndarray of float32 or float64 storage). */
const matrix = (what: string, x: unknown): E.Either<OptimizerError, Leaf> => {
  const leaf = x as Leaf;
  if (!isLeaf(x)) // float32 or float64 storage, and a shape and strides that stay inside it
    return E.left(optimizerError("InvalidTree", `${what} is not a float32 or float64 ndarray`));
  return leaf.shape.length === 2 ? E.right(leaf) : E.left(notMatrix(what, leaf));
};

/** A matrix's values as float64, row-major: [rows, cols] as given, or its transpose [cols, rows] when asked. */
const float64Of = (leaf: Leaf, transposed: boolean): Float64Array => {
  const [r, c] = leaf.shape as [number, number];
  const x = denseValues(leaf);
  if (!transposed) return Float64Array.from(x);
  const out = new Float64Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j]!;
  return out;
};

/** Whether a square row-major float64 matrix equals its transpose exactly. */
const isSymmetric = (x: Float64Array, n: number): boolean => {
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) if (x[i * n + j] !== x[j * n + i]) return false;
  return true;
};

/**
 * C = A·Bᵀ when `transposeB`, else C = A·B: cᵢⱼ = Σₚ aᵢₚ·bₚⱼ (or Σₚ aᵢₚ·bⱼₚ), each sum accumulated in float64 in
 * increasing p, then stored in the leaves' dtype (one rounding per element). A and B must be 2-D leaves of one dtype
 * whose inner dimensions agree, else a ShapeMismatch or DtypeMismatch Left; any strides are read. The result is a
 * fresh frozen row-major leaf; A and B are only read. Cost: m·k·n multiply-adds in float64 by blocks that stay in
 * cache (float64 copies of A and B besides), half of them when the product is symmetric: the same leaf twice as
 * A·Aᵀ, or as A·A of a symmetric A. `product` does the arithmetic: a transformation passes the one its
 * `UpdateContext` carries; without one, the installed executor's (`core/executor.ts`: the package entry installs the
 * kernels' WebAssembly), else the core's JavaScript `matrixProduct`. The same bits whichever runs.
 * @example
 * matmul(x, x, { transposeB: true }) // Right(X·Xᵀ), the Gram matrix of X's rows
 */
export const matmul = (a: Leaf, b: Leaf, o: { readonly transposeB?: boolean } = {}, product?: MatrixProduct): E.Either<OptimizerError, Leaf> => {
  try {
    return matmulOrThrow(a, b, o, product);
  } catch (e) {
    return threw("matmul", e); // a leaf that is a Proxy whose traps throw
  }
};

const matmulOrThrow = (a: Leaf, b: Leaf, options: { readonly transposeB?: boolean }, given: MatrixProduct | undefined): E.Either<OptimizerError, Leaf> => {
  const o = readOptions("matmul", options, { transposeB: optional(aBoolean, false) });
  if (E.isLeft(o)) return o;
  const A = matrix("the left factor", a);
  if (E.isLeft(A)) return A;
  const B = matrix("the right factor", b);
  if (E.isLeft(B)) return B;
  if (dtypeOf(A.right) !== dtypeOf(B.right))
    return E.left(optimizerError("DtypeMismatch", `matmul of a ${dtypeOf(A.right)} and a ${dtypeOf(B.right)} matrix`));
  const tb = o.right.transposeB;
  const [m, k] = A.right.shape as [number, number];
  const [b0, b1] = B.right.shape as [number, number];
  const [kb, n] = tb ? [b1, b0] : [b0, b1];
  if (k !== kb)
    return E.left(
      optimizerError("ShapeMismatch", `matmul of [${m}, ${k}] by ${tb ? "the transpose of " : ""}[${b0}, ${b1}]: inner dimensions ${k} and ${kb} differ`),
    );
  const x = float64Of(A.right, false);
  // the same leaf twice: A·Aᵀ is symmetric, and so is A·A when A is; then half the sums are mirrored (same bits), and
  // Bᵀ is A itself (A·Aᵀ: Bᵀ's rows are A's rows; A·A: Aᵀ = A)
  const same = a === b && (tb || (m === k && isSymmetric(x, m)));
  const product = typeof given === "function" ? given : (compiledMath()?.matrixProduct ?? matrixProduct);
  const c = product(x, same ? x : float64Of(B.right, !tb), m, k, n, same); // Bᵀ's rows are B's columns
  const out = allocate(dtypeOf(A.right), m * n);
  out.set(c); // one rounding per element in float32
  return E.right(leafOf(out, [m, n]));
};

/**
 * Aᵀ: a fresh frozen row-major leaf with aᵀⱼᵢ = aᵢⱼ. A must be a 2-D leaf.
 * @example
 * transpose(w) // Right(wᵀ), shape [n, m] for w of shape [m, n]
 */
export const transpose = (a: Leaf): E.Either<OptimizerError, Leaf> => {
  try {
    return E.map((A: Leaf) => {
      const [m, n] = A.shape as [number, number];
      const x = denseValues(A);
      const out = allocate(dtypeOf(A), m * n);
      for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) out[j * m + i] = x[i * n + j]!;
      return leafOf(out, [n, m]);
    })(matrix("the matrix", a));
  } catch (e) {
    return threw("transpose", e); // a leaf that is a Proxy whose traps throw
  }
};
