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

/** One block of the product: 128 columns of Bᵀ by 128 of depth (128 KiB of float64) stay in cache while every row of A passes. */
const COLS = 128;
const DEPTH = 128;

/**
 * c = x·yᵀ for row-major float64 x (m×k) and yt (n×k): cᵢⱼ = Σₚ xᵢₚ·ytⱼₚ, each sum accumulated in increasing p
 * (from 0, one float64 addition per term). By blocks of columns and depth; inside a block, 4×4 elements of c at a
 * time in sixteen local sums (eight reads per sixteen multiply-adds), the edges one element at a time. Every
 * element's additions come in the plain loop's order, so its bits are the plain loop's. When c is known to be
 * symmetric (`symmetric`: x·xᵀ, or x·x for a symmetric x), only the blocks that reach the upper triangle are
 * computed and the rest mirrored: cⱼᵢ's sum has cᵢⱼ's terms in the same order (xⱼₚ·xᵢₚ = xᵢₚ·xⱼₚ), so the same bits.
 */
const product = (x: Float64Array, yt: Float64Array, m: number, k: number, n: number, symmetric: boolean): Float64Array => {
  const c = new Float64Array(m * n);
  const m4 = m - (m % 4);
  for (let j0 = 0; j0 < n; j0 += COLS) {
    const j1 = Math.min(n, j0 + COLS);
    const j4 = j1 - ((j1 - j0) % 4);
    for (let p0 = 0; p0 < k; p0 += DEPTH) {
      const p1 = Math.min(k, p0 + DEPTH);
      for (let i = 0; i < m4; i += 4) {
        const x0 = i * k, x1 = x0 + k, x2 = x1 + k, x3 = x2 + k;
        const r0 = i * n, r1 = r0 + n, r2 = r1 + n, r3 = r2 + n;
        for (let j = symmetric ? Math.max(j0, i) : j0; j < j4; j += 4) {
          const y0 = j * k, y1 = y0 + k, y2 = y1 + k, y3 = y2 + k;
          let c00 = c[r0 + j]!, c01 = c[r0 + j + 1]!, c02 = c[r0 + j + 2]!, c03 = c[r0 + j + 3]!;
          let c10 = c[r1 + j]!, c11 = c[r1 + j + 1]!, c12 = c[r1 + j + 2]!, c13 = c[r1 + j + 3]!;
          let c20 = c[r2 + j]!, c21 = c[r2 + j + 1]!, c22 = c[r2 + j + 2]!, c23 = c[r2 + j + 3]!;
          let c30 = c[r3 + j]!, c31 = c[r3 + j + 1]!, c32 = c[r3 + j + 2]!, c33 = c[r3 + j + 3]!;
          for (let p = p0; p < p1; p++) {
            const a0 = x[x0 + p]!, a1 = x[x1 + p]!, a2 = x[x2 + p]!, a3 = x[x3 + p]!;
            const b0 = yt[y0 + p]!, b1 = yt[y1 + p]!, b2 = yt[y2 + p]!, b3 = yt[y3 + p]!;
            c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
            c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
            c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
            c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
          }
          c[r0 + j] = c00; c[r0 + j + 1] = c01; c[r0 + j + 2] = c02; c[r0 + j + 3] = c03;
          c[r1 + j] = c10; c[r1 + j + 1] = c11; c[r1 + j + 2] = c12; c[r1 + j + 3] = c13;
          c[r2 + j] = c20; c[r2 + j + 1] = c21; c[r2 + j + 2] = c22; c[r2 + j + 3] = c23;
          c[r3 + j] = c30; c[r3 + j + 1] = c31; c[r3 + j + 2] = c32; c[r3 + j + 3] = c33;
        }
      }
      // the edges: rows past the last group of four, columns past the block's last group of four
      for (let i = 0; i < m; i++)
        for (let j = Math.max(i < m4 ? j4 : j0, symmetric ? i : j0); j < j1; j++) {
          let sum = c[i * n + j]!;
          for (let p = p0; p < p1; p++) sum += x[i * k + p]! * yt[j * k + p]!;
          c[i * n + j] = sum;
        }
    }
  }
  if (symmetric) for (let i = 1; i < m; i++) for (let j = 0; j < i; j++) c[i * n + j] = c[j * n + i]!;
  return c;
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
 * cache (in one thread; float64 copies of A and B besides), half of them when the product is symmetric: the same
 * leaf twice as A·Aᵀ, or as A·A of a symmetric A.
 * @example
 * matmul(x, x, { transposeB: true }) // Right(X·Xᵀ), the Gram matrix of X's rows
 */
export const matmul = (a: Leaf, b: Leaf, o: { readonly transposeB?: boolean } = {}): E.Either<OptimizerError, Leaf> => {
  try {
    return matmulOrThrow(a, b, o);
  } catch (e) {
    return threw("matmul", e); // a leaf that is a Proxy whose traps throw
  }
};

const matmulOrThrow = (a: Leaf, b: Leaf, options: { readonly transposeB?: boolean } = {}): E.Either<OptimizerError, Leaf> => {
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
  // the same leaf twice: A·Aᵀ is symmetric, and so is A·A when A is; then half the sums are mirrored (same bits)
  const same = a === b && (tb || (m === k && isSymmetric(x, m)));
  const c = product(x, same && !tb ? x : float64Of(B.right, !tb), m, k, n, same); // Bᵀ's rows are B's columns
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
