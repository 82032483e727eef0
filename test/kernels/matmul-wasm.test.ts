/**
 * The WebAssembly matrix product (src/kernels/matmulWasm.ts) against the core's JavaScript one, byte for byte (any NaN
 * as NaN): random
 * sizes 0–70 (and a few across the 128 tiles and 256 depth blocks), symmetric or not, B transposed or not, strided
 * leaves of both dtypes, NaN, ±Inf, −0 and subnormals among the values, on one thread and shared with the helper
 * thread; and muon through the public applyStep (which hands Newton–Schulz its executor's product) against update
 * then applyUpdates, and update through the installed executor against update in JavaScript, bit for bit.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { afterAll, describe, expect, it } from "vitest";
import { applyStep, applyUpdates, kernelThreads, matmul, muon, type Dtype, type Leaf, type MatrixProduct, type Tree } from "larch";
import { matrixProduct } from "../../src/core/matrixProduct.js";
import { installCompiledMath } from "../../src/core/executor.js";
import { applyStepWith } from "../../src/core/step.js";
import { wasmMath } from "../../src/kernels/compiledStep.js";
import { matmulModule, wasmProduct } from "../../src/kernels/matmulWasm.js";
import { wasmApi } from "../../src/kernels/wasm-api.js";
import { bitsOf, right } from "../compose/bits.js";
import { makeLeaf, prng, type View } from "../support/trees.js";

afterAll(async () => {
  await kernelThreads(1);
});

/** Values with every special among them: NaN, ±Inf, ±0, float32 and float64 subnormals, and ordinary numbers. */
const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -3e-42, 5e-324, -1e-310, 1, -1];
const valuesOf = (seed: number, specials: number) => {
  const rand = prng(seed);
  return () => (rand() < specials ? SPECIALS[Math.floor(rand() * SPECIALS.length)]! : (rand() - 0.5) * 4);
};

/**
 * Every value's bytes (so −0, ±Inf and subnormals count), any NaN as "NaN": which NaN an operation on NaNs returns
 * (sign, payload) is not fixed from one compiled form of the same JavaScript to another (x64 returns an operand's
 * NaN, and a compiler may swap the operands of + and ×), as compiled-step.test.ts's comparisons also allow.
 */
const bytes = (x: Float64Array | Float32Array | ArrayLike<number>) =>
  Array.from(x as ArrayLike<number>, (v, i) =>
    Number.isNaN(v) ? "NaN" : x instanceof Float32Array ? Buffer.from(x.buffer, x.byteOffset + 4 * i, 4).toString("hex") : Buffer.from(new Float64Array([v]).buffer).toString("hex"),
  ).join(",");

/** A row-major float64 matrix of these values. */
const dense = (rows: number, cols: number, value: () => number) => Float64Array.from({ length: rows * cols }, value);

describe("the WebAssembly matrix product", () => {
  it("is a module this host compiles (else every product would quietly be the JavaScript one)", () => {
    expect(() => new wasmApi!.Module(matmulModule())).not.toThrow();
  });

  const sizes = fc.integer({ min: 0, max: 70 });
  for (const threads of [1, 2] as const)
    it(`gives the JavaScript product's bytes, sizes 0–70, symmetric or not, specials (${threads} thread${threads === 2 ? "s" : ""})`, async () => {
      expect(await kernelThreads(threads, 0)).toBe(threads); // 2: every product with two tiles or more is shared
      fc.assert(
        fc.property(sizes, sizes, sizes, fc.integer(), fc.constantFrom(0, 0.02, 0.3), (m, k, n, seed, specials) => {
          const value = valuesOf(seed, specials);
          const x = dense(m, k, value);
          const yt = dense(n, k, value);
          expect(bytes(wasmProduct(x, yt, m, k, n, false))).toBe(bytes(matrixProduct(x, yt, m, k, n, false)));
          expect(bytes(wasmProduct(x, x, m, k, m, true))).toBe(bytes(matrixProduct(x, x, m, k, m, true))); // x·xᵀ
        }),
        { numRuns: 60 },
      );
    });

  it("across tiles and depth blocks (128 rows and columns, 256 deep), one and two threads", async () => {
    const value = valuesOf(3, 0.001);
    for (const [m, k, n] of [[133, 261, 129], [4, 515, 260], [257, 7, 131]] as const) {
      const x = dense(m, k, value);
      const yt = dense(n, k, value);
      const want = [bytes(matrixProduct(x, yt, m, k, n, false)), bytes(matrixProduct(x, x, m, k, m, true))];
      for (const threads of [1, 2] as const) {
        await kernelThreads(threads, 0);
        expect([bytes(wasmProduct(x, yt, m, k, n, false)), bytes(wasmProduct(x, x, m, k, m, true))]).toEqual(want);
      }
    }
  });

  it("through matmul: both dtypes, strided leaves, B transposed, the symmetric S·S, two threads", async () => {
    await kernelThreads(2, 0);
    const dims = fc.integer({ min: 1, max: 40 });
    fc.assert(
      fc.property(fc.constantFrom<Dtype>("float32", "float64"), dims, dims, dims, fc.constantFrom<View>("dense", "transposed", "reversed", "sliced"), fc.integer(), (dtype, m, k, n, view, seed) => {
        const value = valuesOf(seed, 0.02);
        const a = makeLeaf({ shape: [m, k], dtype, view }, value);
        const b = makeLeaf({ shape: [k, n], dtype, view }, value);
        const bt = makeLeaf({ shape: [n, k], dtype, view }, value);
        const both = (x: Leaf, y: Leaf, o: { transposeB?: boolean }) => {
          const [js, wasm] = [matmul(x, y, o), matmul(x, y, o, wasmProduct)].map((c) => bytes(right(c).data));
          expect(wasm).toBe(js);
        };
        both(a, b, {});
        both(a, bt, { transposeB: true });
        both(a, a, { transposeB: true }); // A·Aᵀ, symmetric
        const s = right(matmul(a, a, { transposeB: true }));
        both(s, s, {}); // S·S of a symmetric S (when it has no NaN: NaN ≠ NaN, so a NaN's S is not seen as symmetric)
      }),
      { numRuns: 40 },
    );
  });
});

describe("muon through applyStep", () => {
  /** A tree like muon's fixtures: a conv weight and biases for Adam, two matrices for Newton–Schulz (one tall; one whose
   * B·X has two column tiles, so two threads share it). */
  const tree = (dtype: Dtype, seed: number): Tree => {
    const value = valuesOf(seed, 0);
    const leaf = (shape: number[]) => makeLeaf({ shape, dtype, view: "dense" }, value);
    return { conv: { weight: leaf([3, 2, 3, 3]), bias: leaf([3]) }, fc: { weight: leaf([37, 140]), bias: leaf([37]) }, head: { weight: leaf([66, 9]) } };
  };

  for (const threads of [1, 2] as const)
    it(`is update then applyUpdates bit for bit, float32 and float64, three steps (${threads} thread${threads === 2 ? "s" : ""})`, async () => {
      await kernelThreads(threads, 0);
      for (const dtype of ["float32", "float64"] as const) {
        const opt = muon({ lr: 0.02, weightDecay: 0.01 });
        let [p1, p2] = [tree(dtype, 1), tree(dtype, 1)];
        let s1 = right(opt.init(p1));
        let s2 = right(opt.init(p2));
        for (let t = 0; t < 3; t++) {
          const g = tree(dtype, 10 + t);
          [p1, s1] = right(applyStep(opt, g, s1, p1));
          const [u, next] = right(opt.update(g, s2, p2));
          [p2, s2] = [right(applyUpdates(p2, u)), next];
          expect(bitsOf(p1)).toBe(bitsOf(p2));
          expect(bitsOf(s1)).toBe(bitsOf(s2));
        }
      }
    });

  it("hands the executor's product to Newton–Schulz (three products per iteration per matrix), and only that one", () => {
    let calls = 0;
    const counting: MatrixProduct = (...args) => (calls++, wasmProduct(...args));
    const step = applyStepWith({ ...wasmMath, matrixProduct: counting });
    const p = tree("float32", 1);
    const opt = muon({ lr: 0.02, nsSteps: 2 });
    const s = right(opt.init(p));
    const [fast] = right(step(opt, tree("float32", 2), s, p));
    expect(calls).toBe(2 * 3 * 2); // two matrices, two iterations, three products each
    expect(bitsOf(fast)).toBe(bitsOf(right(applyStepWith(undefined)(opt, tree("float32", 2), s, p))[0]));
    expect(E.isRight(opt.update(tree("float32", 2), s, p))).toBe(true);
    expect(calls).toBe(12); // update without a context: the installed executor's product, not this one
  });

  it("update without a context runs the installed executor's product; with none installed, the JavaScript's bits", () => {
    let calls = 0;
    const previous = installCompiledMath(undefined)!;
    try {
      const opt = muon({ lr: 0.02, nsSteps: 2 });
      for (const dtype of ["float32", "float64"] as const) {
        const p = tree(dtype, 1);
        const s = right(opt.init(p));
        const js = right(opt.update(tree(dtype, 2), s, p)); // no executor: the JavaScript product
        installCompiledMath({ ...previous, matrixProduct: (...args) => (calls++, wasmProduct(...args)) });
        const installed = right(opt.update(tree(dtype, 2), s, p));
        installCompiledMath(undefined);
        expect(bitsOf(installed)).toBe(bitsOf(js));
      }
      expect(calls).toBe(2 * 2 * 3 * 2);
    } finally {
      installCompiledMath(previous);
    }
  });

  it("an empty matrix is a product of nothing (zeros, or an empty result), as in JavaScript", () => {
    const z = ndarray(new Float32Array(0), [0, 5]) as Leaf;
    expect(right(matmul(z, z, { transposeB: true }, wasmProduct)).shape).toEqual([0, 0]);
    const e = ndarray(new Float32Array(0), [3, 0]) as Leaf;
    expect(Array.from(right(matmul(e, e, { transposeB: true }, wasmProduct)).data)).toEqual(new Array(9).fill(0));
  });
});
