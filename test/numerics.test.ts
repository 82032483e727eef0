/** Numerics: dtypes are kept, and norms stay right where a float32 accumulation would underflow or overflow. */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { dtypeOf, flatten, l2Norm, lars, scaleByTrustRatio, sumOfProducts, sumOfSquares, type Leaf, type TrustRatioState } from "larch";

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** ‖x‖ by exact-enough float64 arithmetic on values scaled to 1 first (independent of l2Norm). */
const referenceNorm = (values: ArrayLike<number>): number => {
  const max = Math.max(...Array.from(values, Math.abs));
  if (max === 0) return 0;
  return max * Math.sqrt(Array.from(values).reduce((s, v) => s + (v / max) ** 2, 0));
};

describe("norms", () => {
  it.each([1e-30, 1e-20, 1, 1e19, 1e30, 3e38])("float32 values of magnitude %s give the exact-range norm", (scale) => {
    const x = Float32Array.from({ length: 1001 }, (_, i) => scale * Math.sin(i + 1));
    expect(l2Norm(x) / referenceNorm(x) - 1).toBeLessThan(1e-12);
  });

  it.each([1e-300, 1e-170, 1e170, 1e300])("float64 values of magnitude %s are rescaled, not lost", (scale) => {
    const x = Float64Array.from({ length: 257 }, (_, i) => scale * Math.cos(i));
    expect(Math.abs(l2Norm(x) / referenceNorm(x) - 1)).toBeLessThan(1e-12);
  });

  it("says NaN for a NaN and Infinity for ±Inf, in either dtype", () => {
    for (const Ctor of [Float32Array, Float64Array]) {
      expect(l2Norm(Ctor.from([1, NaN, 2]))).toBeNaN();
      expect(l2Norm(Ctor.from([1, -Infinity, 2]))).toBe(Infinity);
      expect(l2Norm(Ctor.from([0, 0, 0]))).toBe(0);
    }
  });

  it("sums squares in four interleaved lanes, (s0 + s1) + (s2 + s3)", () => {
    const x = Float64Array.from([1e16, 1, 3, -1e16, 1, 2, 5]);
    const s = [x[0]! ** 2 + x[4]! ** 2, x[1]! ** 2 + x[5]! ** 2, x[2]! ** 2 + x[6]! ** 2, x[3]! ** 2];
    expect(sumOfSquares(x)).toBe(s[0]! + s[1]! + (s[2]! + s[3]!));
  });

  it("sums products in the same lanes, and Σx² is Σx·x bit for bit at every length mod 4", () => {
    const x = Float64Array.from([1e16, 1, 3, -1e16, 1, 2, 5]);
    const y = Float64Array.from([2, -1, 0.5, 1, 3, 1e-3, -2]);
    const p = x.map((v, i) => v * y[i]!);
    expect(sumOfProducts(x, y)).toBe(p[0]! + p[4]! + (p[1]! + p[5]!) + (p[2]! + p[6]! + p[3]!));
    for (let n = 0; n <= x.length; n++) expect(sumOfSquares(x.subarray(0, n))).toBe(sumOfProducts(x.subarray(0, n), x.subarray(0, n)));
    expect(sumOfProducts(x, y.subarray(1))).toBeNaN(); // lengths differ
  });
});

describe("the trust ratio at extreme magnitudes (where the seed's float32 torch.norm fails)", () => {
  it.each([1e-30, 1e-25, 1e25, 1e30])("float32 gradients of magnitude %s give γ = ‖p‖/‖g‖", (scale) => {
    const p = ndarray(Float32Array.from({ length: 12 }, (_, i) => Math.cos(i)), [3, 4]) as Leaf;
    const g = ndarray(Float32Array.from({ length: 12 }, (_, i) => scale * Math.sin(i + 0.5)), [3, 4]) as Leaf;
    const t = scaleByTrustRatio();
    const [u, s] = right(t.update({ w: g }, right(t.init({ w: p })), { w: p }));
    const gamma = (s as TrustRatioState).ratios["w"]!;
    const expected = referenceNorm(p.data) / referenceNorm(g.data);
    expect(Math.abs(gamma / expected - 1)).toBeLessThan(1e-12);
    const out = right(flatten(u)).leaves[0]!;
    expect(dtypeOf(out)).toBe("float32");
    expect(Array.from(out.data).every(Number.isFinite)).toBe(true);
  });

  it("keeps the seed's trap: wd > 0 and a zero gradient give γ = 1/wd", () => {
    const p = ndarray(Float64Array.from([3, 4]), [2]) as Leaf;
    const g = ndarray(new Float64Array(2), [2]) as Leaf;
    const t = scaleByTrustRatio({ weightDecay: 5e-4 });
    const [, s] = right(t.update({ w: g }, right(t.init({ w: p })), { w: p }));
    expect((s as TrustRatioState).ratios["w"]).toBeCloseTo(1 / 5e-4, 9);
  });

  it("keeps every leaf's dtype through lars", () => {
    const params = { a: ndarray(Float32Array.from([1, 2]), [2]) as Leaf, b: ndarray(Float64Array.from([1, 2]), [2]) as Leaf };
    const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 1e-4 });
    const [u, s] = right(opt.update(params, right(opt.init(params)), params));
    const leaves = right(flatten(u)).leaves;
    expect(leaves.map(dtypeOf)).toEqual(["float32", "float64"]);
    expect(right(flatten((s as any)[1].trace)).leaves.map(dtypeOf)).toEqual(["float32", "float64"]);
  });
});
