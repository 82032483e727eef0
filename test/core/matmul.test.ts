/**
 * Matrix products of leaves and Newton–Schulz orthogonalisation: products equal to the float64 sums they are defined
 * by, for any strides (the installed WebAssembly product and the core's JavaScript one); transposition laws; Newton–Schulz against optax 0.2.8's orthogonalize_via_newton_schulz
 * (test/fixtures/optax-family-newton-schulz.json) and its transposition symmetry.
 */
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { denseValues, dtypeOf, matmul, newtonSchulz, transpose, type Dtype, type Leaf } from "larch";
import { matrixProduct } from "../../src/core/matrixProduct.js";
import { makeLeaf as makeRefLeaf } from "../support/reference.js";
import { makeLeaf } from "../support/trees.js";
import { FAMILY_TOLERANCE, loadFamily } from "../compose/family.js";
import { relError } from "../compose/replay.js";

const right = <A>(x: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(x)) throw new Error(x.left.message);
  return x.right;
};

/** A random matrix of a dtype and any of the views the tree tests use. */
const matrixArb = (rows: fc.Arbitrary<number>, cols: fc.Arbitrary<number>, dtype: Dtype) =>
  fc.record({ m: rows, n: cols, view: fc.constantFrom("dense", "transposed", "reversed", "sliced" as const), seed: fc.integer() }).map(({ m, n, view, seed }) => {
    let s = seed;
    const next = () => ((s = (s * 1103515245 + 12345) % 2147483648) / 2147483648) * 4 - 2;
    return makeLeaf({ shape: [m, n], dtype, view }, next);
  });

const dims = fc.integer({ min: 1, max: 6 });
const at = (x: Leaf, i: number, j: number) => x.get(i, j);

describe("matmul", () => {
  test.prop([fc.constantFrom<Dtype>("float32", "float64"), dims, dims, dims, fc.integer(), fc.integer()], { numRuns: 40 })(
    "cᵢⱼ = Σₚ aᵢₚ·bₚⱼ in float64, rounded once to the dtype, for any strides; A·Bᵀ the same with B transposed",
    (dtype, m, k, n, s1, s2) => {
      const a = fc.sample(matrixArb(fc.constant(m), fc.constant(k), dtype), { seed: s1, numRuns: 1 })[0]!;
      const b = fc.sample(matrixArb(fc.constant(k), fc.constant(n), dtype), { seed: s2, numRuns: 1 })[0]!;
      const c = right(matmul(a, b));
      expect(c.shape).toEqual([m, n]);
      expect(dtypeOf(c)).toBe(dtype);
      expect(Object.isFrozen(c)).toBe(true);
      const round = dtype === "float32" ? Math.fround : (x: number) => x;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < n; j++) {
          let sum = 0;
          for (let p = 0; p < k; p++) sum += at(a, i, p) * at(b, p, j);
          expect(at(c, i, j)).toBe(round(sum));
        }
      const bt = right(transpose(b));
      expect(Array.from(denseValues(right(matmul(a, bt, { transposeB: true }))))).toEqual(Array.from(denseValues(c)));
      expect(Array.from(denseValues(right(transpose(right(transpose(a))))))).toEqual(Array.from(denseValues(a)));
    },
  );

  /** cᵢⱼ as the plain loop sums it: in float64, in increasing p, rounded once. */
  const plain = (a: Leaf, b: Leaf, tb: boolean, round: (x: number) => number) => {
    const [m, k] = a.shape as [number, number];
    const n = tb ? b.shape[0]! : b.shape[1]!;
    const [x, y] = [denseValues(a), denseValues(b)];
    const out: number[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum += x[i * k + p]! * (tb ? y[j * k + p]! : y[p * n + j]!);
        out.push(round(sum));
      }
    return out;
  };

  test.prop(
    [fc.constantFrom<Dtype>("float32", "float64"), fc.integer({ min: 1, max: 132 }), fc.integer({ min: 1, max: 140 }), fc.integer({ min: 1, max: 132 }), fc.integer()],
    { numRuns: 6 },
  )("the blocked loops (4×4 tiles, blocks of 128 columns and depth, their edges) add in the plain loop's order", (dtype, m, k, n, seed) => {
    const a = fc.sample(matrixArb(fc.constant(m), fc.constant(k), dtype), { seed, numRuns: 1 })[0]!;
    const b = fc.sample(matrixArb(fc.constant(k), fc.constant(n), dtype), { seed: seed + 1, numRuns: 1 })[0]!;
    const round = dtype === "float32" ? Math.fround : (x: number) => x;
    /** The first index where the product differs from the plain loop's bits (-1: none), cheaper than toEqual on 10⁴ values. */
    const firstDifference = (c: Leaf, expected: number[]) => {
      const v = denseValues(c);
      return v.length !== expected.length ? -2 : expected.findIndex((x, i) => !Object.is(x, v[i]));
    };
    // the installed executor's product (the kernels' WebAssembly) and the core's JavaScript one, both
    for (const product of [undefined, matrixProduct]) {
      expect(firstDifference(right(matmul(a, b, {}, product)), plain(a, b, false, round))).toBe(-1);
      // the symmetric products, half computed and mirrored: A·Aᵀ, and S·S for a symmetric S = A·Aᵀ
      const gram = right(matmul(a, a, { transposeB: true }, product));
      expect(firstDifference(gram, plain(a, a, true, round))).toBe(-1);
      expect(firstDifference(right(matmul(gram, gram, {}, product)), plain(gram, gram, false, round))).toBe(-1);
    }
  });

  it("refuses what is not a product of two matrices of one dtype", () => {
    const a = ndarray(new Float64Array(6), [2, 3]) as Leaf;
    const kind = (x: E.Either<{ kind: string }, unknown>) => (E.isLeft(x) ? x.left.kind : "right");
    expect(kind(matmul(a, a))).toBe("ShapeMismatch");
    expect(kind(matmul(a, a, { transposeB: true }))).toBe("right");
    expect(kind(matmul(a, ndarray(new Float32Array(6), [3, 2]) as Leaf))).toBe("DtypeMismatch");
    expect(kind(matmul(a, ndarray(new Float64Array(3), [3]) as Leaf))).toBe("ShapeMismatch");
    expect(kind(matmul(a, { data: [1, 2], shape: [1, 2] } as unknown as Leaf))).toBe("InvalidTree");
    expect(kind(transpose(null as unknown as Leaf))).toBe("InvalidTree");
  });
});

interface NewtonSchulzCase {
  readonly name: string;
  readonly dtype: Dtype;
  readonly options: { ns_coeffs: [number, number, number]; ns_steps: number; eps: number };
  readonly input: { shape: number[]; data: number[] };
  readonly output: number[];
}

describe("newtonSchulz", () => {
  for (const c of loadFamily<NewtonSchulzCase>("newton-schulz"))
    it(`${c.name}: optax's orthogonalize_via_newton_schulz`, () => {
      const x = makeRefLeaf(c.dtype, c.input.shape, c.input.data);
      const y = right(newtonSchulz(x, { steps: c.options.ns_steps, coeffs: c.options.ns_coeffs, eps: c.options.eps }));
      expect(y.shape).toEqual(c.input.shape);
      const worst = relError(denseValues(y), c.output);
      expect(worst).toBeLessThanOrEqual(FAMILY_TOLERANCE[c.dtype]);
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)}`);
    });

  test.prop([fc.constantFrom<Dtype>("float32", "float64"), dims, dims, fc.integer()], { numRuns: 30 })(
    "f(Xᵀ) = f(X)ᵀ bit for bit, the singular values land near 1, X is not written",
    (dtype, m, n, seed) => {
      const x = fc.sample(matrixArb(fc.constant(m), fc.constant(n), dtype), { seed, numRuns: 1 })[0]!;
      const before = Array.from(denseValues(x));
      const y = right(newtonSchulz(x));
      expect(Array.from(denseValues(x))).toEqual(before);
      const yt = right(newtonSchulz(right(transpose(x))));
      if (m !== n) expect(Array.from(denseValues(right(transpose(y))))).toEqual(Array.from(denseValues(yt)));
      // the Frobenius norm² is the sum of the squared singular values: min(m, n) of them, each in about [0.6, 1.25]
      const norm2 = Array.from(denseValues(y)).reduce((s, v) => s + v * v, 0);
      const r = Math.min(m, n);
      if (before.some((v) => v !== 0)) {
        expect(norm2).toBeLessThanOrEqual(r * 1.25 ** 2);
        expect(norm2).toBeGreaterThan(0);
      }
    },
  );

  it("refuses a leaf that is not a matrix, and bad options", () => {
    const kind = (x: E.Either<{ kind: string }, unknown>) => (E.isLeft(x) ? x.left.kind : "right");
    const m = ndarray(Float64Array.of(1, 2, 3, 4), [2, 2]) as Leaf;
    expect(kind(newtonSchulz(ndarray(new Float64Array(8), [2, 2, 2]) as Leaf))).toBe("ShapeMismatch");
    expect(kind(newtonSchulz(m, { steps: -1 }))).toBe("InvalidOption");
    expect(kind(newtonSchulz(m, { coeffs: [NaN, 0, 0] }))).toBe("InvalidOption");
    expect(kind(newtonSchulz(m, { eps: -1 }))).toBe("InvalidOption");
  });
});
