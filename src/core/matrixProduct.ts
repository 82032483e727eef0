/**
 * The arithmetic of a matrix product over float64 arrays, which `matmul` (core/matmul.ts) runs after its checks: its
 * type (the package exports it, as matmul's and the UpdateContext's), and its JavaScript form (not exported: an
 * executor brings its own with these bits: the kernels' WebAssembly).
 * @module
 */

/** One block of the product: 128 columns of Bᵀ by 128 of depth (128 KiB of float64) stay in cache while every row of A passes. */
const COLS = 128;
const DEPTH = 128;

/**
 * The arithmetic of a matrix product, c = x·ytᵀ for row-major float64 x (m×k) and yt (n×k), c fresh and row-major
 * (m×n): cᵢⱼ = Σₚ xᵢₚ·ytⱼₚ, each sum starting at +0 and adding one float64 product per term in increasing p (the
 * plain loop's bits). With `symmetric`, the caller knows c = cᵀ with the same terms in the same order (x·xᵀ, or x·x
 * for a symmetric x; then yt is x), so an implementation may compute the upper triangle and mirror it. x and yt are
 * only read. The core's `matrixProduct` is the JavaScript one; a compiled executor may bring a faster one with the same
 * bits (the kernels' WebAssembly), which transformations receive in their `UpdateContext`.
 */
export type MatrixProduct = (x: Float64Array, yt: Float64Array, m: number, k: number, n: number, symmetric: boolean) => Float64Array;

/**
 * The JavaScript {@link MatrixProduct}: c = x·ytᵀ for row-major float64 x (m×k) and yt (n×k): cᵢⱼ = Σₚ xᵢₚ·ytⱼₚ,
 * each sum accumulated in increasing p (from 0, one float64 addition per term). By blocks of columns and depth;
 * inside a block, 4×4 elements of c at a time in sixteen local sums (eight reads per sixteen multiply-adds), the
 * edges one element at a time. Every element's additions come in the plain loop's order, so its bits are the plain
 * loop's. When c is known to be symmetric (`symmetric`: x·xᵀ, or x·x for a symmetric x), only the blocks that reach
 * the upper triangle are computed and the rest mirrored: cⱼᵢ's sum has cᵢⱼ's terms in the same order
 * (xⱼₚ·xᵢₚ = xᵢₚ·xⱼₚ), so the same bits.
 * @example
 * const gram = matrixProduct(x, x, m, k, m, true); // X·Xᵀ of a row-major m×k X, upper triangle mirrored
 */
export const matrixProduct: MatrixProduct = (x, yt, m, k, n, symmetric) => {
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
