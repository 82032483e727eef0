import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  larsLeafStepReference,
  sumSquares4,
  type LarsLeafCoefficients,
} from "../../src/kernels/lars-leaf-reference.js";
import { createKernelMemory, instantiateLarsLeaf, larsLeafFlags } from "../../src/kernels/lars-leaf-wasm.js";
import { larsTrustRatio } from "../../src/kernels/lars-trust-ratio.js";

const memory = createKernelMemory(1 << 20);
if (memory === undefined) throw new Error("this host has no WebAssembly");
const kernel = instantiateLarsLeaf(memory);
if (kernel === undefined) throw new Error("could not instantiate the kernel");

/** ±(1 + k/2²³)·2^e: a float32 with a uniformly random mantissa, so that sums and products round. */
const fullMantissa = fc
  .tuple(fc.integer({ min: 0, max: 2 ** 23 - 1 }), fc.integer({ min: -6, max: 3 }), fc.boolean())
  .map(([k, e, negative]) => (negative ? -1 : 1) * (1 + k / 2 ** 23) * 2 ** e);

/** float32 values: mostly full-mantissa values of moderate size, plus any float32 and edge cases. */
const f32 = fc.oneof(
  { arbitrary: fullMantissa, weight: 6 },
  fc.float({ noNaN: true }),
  fc.constantFrom(0, -0, Infinity, -Infinity, NaN, 1.401298464324817e-45, 3.4028234663852886e38),
);
/** float64 coefficients: mostly ratios a/b (full 53-bit mantissas around 1), plus any double. */
const coefficient = fc.oneof(
  { arbitrary: fc.tuple(fc.integer({ min: 1, max: 2 ** 30 }), fc.integer({ min: 1, max: 2 ** 30 })).map(([a, b]) => a / b), weight: 4 },
  fc.double({ noNaN: true }),
  fc.constantFrom(0, 1), // 1: the kernel's no-dampening shortcut
);

/** Bitwise equality of float32 arrays, every NaN equal to every NaN (WebAssembly does not fix NaN payloads). */
function sameFloat32(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ai = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const bi = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) {
    if (ai[i] !== bi[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return false;
  }
  return true;
}

/** Copies `values` into kernel memory at byte offset `at` (16-byte aligned plus `skew` floats). */
function place(values: readonly number[], at: number): number {
  new Float32Array(memory!.buffer, at, values.length).set(values);
  return at;
}


/** Leaf j's p, g, b, outP, outB at 4096 + 1024·j + {0, 192, 384, 576, 768} (n ≤ 40), its record at table + 24·j. */
const placeLeaves = (specs: readonly (readonly [number[], number[], number[], ...unknown[]])[], table: number): void =>
  specs.forEach(([ps, gs, bs], j) => {
    const at = 4096 + 1024 * j;
    place(ps, at);
    place(gs, at + 192);
    place(bs, at + 384);
    new Float32Array(memory.buffer, at + 768, ps.length).fill(0);
    new Int32Array(memory.buffer, table + 24 * j, 6).set([at, at + 192, at + 384, at + 576, at + 768, ps.length]);
  });

/**
 * After a batched call over leaves laid out by placeLeaves: each leaf's Σ pair at sums + 16·j equals sumSquares4,
 * and its p′, b′ equal the reference step with the γ that `gammaOf` gives for that pair.
 */
const expectLeavesLikeReference = (
  specs: readonly (readonly [number[], number[], number[], ...unknown[]])[],
  sums: number,
  o: { wd: number; m: number; c: number; lr: number; first: boolean; nesterov: boolean },
  gammaOf: (sum: Float64Array, j: number) => number,
): void =>
  specs.forEach(([ps, gs, bs], j) => {
    const at = 4096 + 1024 * j;
    const n = ps.length;
    const params = Float32Array.from(ps);
    const grads = Float32Array.from(gs);
    const sum = new Float64Array(memory.buffer, sums + 16 * j, 2);
    expect(Object.is(sum[0], sumSquares4(params))).toBe(true);
    expect(Object.is(sum[1], sumSquares4(grads))).toBe(true);
    const refP = new Float32Array(n);
    const refB = new Float32Array(n);
    larsLeafStepReference(params, grads, Float32Array.from(bs), {
      weightDecay: o.wd, momentum: o.m, bufferScale: o.c, trustRatio: gammaOf(sum, j), learningRate: o.lr,
      first: o.first, nesterov: o.nesterov,
    }, refP, refB);
    expect(sameFloat32(new Float32Array(memory.buffer, at + 576, n), refP)).toBe(true);
    expect(sameFloat32(new Float32Array(memory.buffer, at + 768, n), refB)).toBe(true);
  });

describe("WebAssembly LARS leaf kernel equals the JS reference bit for bit", () => {
  it("sumSquaresPair == sumSquares4 for both arrays", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 130 }).chain((n) => fc.tuple(fc.array(f32, { minLength: n, maxLength: n }),
          fc.array(f32, { minLength: n, maxLength: n }))),
        fc.integer({ min: 0, max: 3 }),
        ([xs, ys], skew) => {
          const n = xs.length;
          const x = place(xs, 4096 + 4 * skew);
          const y = place(ys, 8192 + 4 * skew);
          kernel.sumSquaresPair(x, y, n, 64);
          const out = new Float64Array(memory.buffer, 64, 2);
          expect(Object.is(out[0], sumSquares4(Float32Array.from(xs)))).toBe(true);
          expect(Object.is(out[1], sumSquares4(Float32Array.from(ys)))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("step == larsLeafStepReference for every flag combination, size and tail", () => {
    const leaf = fc.integer({ min: 0, max: 130 }).chain((n) => {
      const arr = fc.array(f32, { minLength: n, maxLength: n });
      return fc.tuple(arr, arr, arr);
    });
    const coefficients = fc.record({
      weightDecay: coefficient, momentum: coefficient, bufferScale: coefficient, trustRatio: coefficient,
      learningRate: coefficient, first: fc.boolean(), nesterov: fc.boolean(),
    });
    fc.assert(
      fc.property(leaf, coefficients, fc.integer({ min: 0, max: 3 }), ([ps, gs, bs], k: LarsLeafCoefficients, skew) => {
        const n = ps.length;
        const p = place(ps, 4096 + 4 * skew);
        const g = place(gs, 8192 + 4 * skew);
        const b = place(bs, 12288 + 4 * skew);
        const op = 16384 + 4 * skew;
        const ob = 20480 + 4 * skew;
        new Float32Array(memory.buffer, ob, n).fill(0); // with m = 0 the kernel does not write the buffer
        kernel.step(p, g, b, op, ob, n, k.weightDecay, k.momentum, k.bufferScale, k.trustRatio, k.learningRate,
          larsLeafFlags(k));
        const refP = new Float32Array(n);
        const refB = new Float32Array(n);
        const params = Float32Array.from(ps);
        const grads = Float32Array.from(gs);
        const buffer = Float32Array.from(bs);
        larsLeafStepReference(params, grads, buffer, k, refP, refB);
        expect(sameFloat32(new Float32Array(memory.buffer, op, n), refP)).toBe(true);
        expect(sameFloat32(new Float32Array(memory.buffer, ob, n), refB)).toBe(true);
        // the kernel only reads its inputs
        expect(sameFloat32(new Float32Array(memory.buffer, p, n), params)).toBe(true);
        expect(sameFloat32(new Float32Array(memory.buffer, g, n), grads)).toBe(true);
        expect(sameFloat32(new Float32Array(memory.buffer, b, n), buffer)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("larsLeaves (norms, trust ratio and step in the kernel) == sumSquares4 + larsTrustRatio + reference step", () => {
    const zeroOr = (arr: fc.Arbitrary<number[]>) => fc.oneof(arr, arr.map((xs) => xs.map(() => 0)));
    const leaf = fc.integer({ min: 0, max: 40 }).chain((n) => {
      const arr = fc.array(f32, { minLength: n, maxLength: n });
      return fc.tuple(zeroOr(arr), zeroOr(arr), arr);
    });
    fc.assert(
      fc.property(leaf, coefficient, coefficient, coefficient, fc.boolean(), fc.boolean(), fc.constantFrom(0, 5e-4, 1e300),
        ([ps, gs, bs], m, c, lr, first, nesterov, wd) => {
          const n = ps.length;
          const p = place(ps, 4096);
          const g = place(gs, 8192);
          const b = place(bs, 12288);
          new Int32Array(memory.buffer, 256, 6).set([p, g, b, 16384, 20480, n]);
          new Float32Array(memory.buffer, 20480, n).fill(0); // with m = 0 the kernel does not write the buffer
          kernel.larsLeaves(256, 1, wd, m, c, lr, larsLeafFlags({ first, nesterov }), 64);
          const params = Float32Array.from(ps);
          const grads = Float32Array.from(gs);
          const gamma = larsTrustRatio(Math.sqrt(sumSquares4(params)), Math.sqrt(sumSquares4(grads)), wd);
          const refP = new Float32Array(n);
          const refB = new Float32Array(n);
          larsLeafStepReference(params, grads, Float32Array.from(bs), {
            weightDecay: wd, momentum: m, bufferScale: c, trustRatio: gamma, learningRate: lr, first, nesterov,
          }, refP, refB);
          expect(sameFloat32(new Float32Array(memory.buffer, 16384, n), refP)).toBe(true);
          expect(sameFloat32(new Float32Array(memory.buffer, 20480, n), refB)).toBe(true);
        }),
      { numRuns: 300 },
    );
  });

  it("larsLeavesSums == larsLeaves leaf by leaf, keeping each leaf's Σ pair (== sumSquares4)", () => {
    const leaves = fc.array(
      fc.integer({ min: 0, max: 40 }).chain((n) => {
        const arr = fc.array(f32, { minLength: n, maxLength: n });
        return fc.tuple(arr, arr, arr);
      }),
      { minLength: 0, maxLength: 6 },
    );
    fc.assert(
      fc.property(leaves, fc.constantFrom(0, 5e-4, 1e300), coefficient, coefficient, coefficient, fc.boolean(), fc.boolean(),
        (specs, wd, m, c, lr, first, nesterov) => {
          const [table, sums] = [256, 2048];
          placeLeaves(specs, table);
          kernel.larsLeavesSums(table, specs.length, wd, m, c, lr, larsLeafFlags({ first, nesterov }), sums);
          expectLeavesLikeReference(specs, sums, { wd, m, c, lr, first, nesterov }, (sum) =>
            larsTrustRatio(Math.sqrt(sum[0]!), Math.sqrt(sum[1]!), wd));
        }),
      { numRuns: 200 },
    );
  });

  it("sumSquaresLeaves + stepLeaves (two phases, γ from JS) == sumSquares4 + reference step, leaf by leaf", () => {
    const leaves = fc.array(
      fc.integer({ min: 0, max: 40 }).chain((n) => {
        const arr = fc.array(f32, { minLength: n, maxLength: n });
        return fc.tuple(arr, arr, arr, coefficient);
      }),
      { minLength: 0, maxLength: 6 },
    );
    fc.assert(
      fc.property(leaves, coefficient, coefficient, coefficient, coefficient, fc.boolean(), fc.boolean(),
        (specs, wd, m, c, lr, first, nesterov) => {
          const table = 256;
          const sums = 2048;
          const gammas = 3072;
          placeLeaves(specs, table);
          specs.forEach(([, , , gamma], j) => (new Float64Array(memory.buffer, gammas + 8 * j, 1)[0] = gamma));
          kernel.sumSquaresLeaves(table, specs.length, sums);
          kernel.stepLeaves(table, specs.length, gammas, wd, m, c, lr, larsLeafFlags({ first, nesterov }));
          expectLeavesLikeReference(specs, sums, { wd, m, c, lr, first, nesterov }, (_sum, j) => specs[j]![3]);
        }),
      { numRuns: 200 },
    );
  });
});
