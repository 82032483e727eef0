/**
 * Tree arithmetic for transformation authors: laws (add and sub are inverses where exact, scaling distributes,
 * ‖x‖² = ⟨x, x⟩), immutability and frozen results, dtypes kept, and Lefts for trees that do not match.
 */
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  denseValues,
  dtypeOf,
  flatten,
  treeAdd,
  treeAddScaled,
  treeFull,
  treeMap,
  treeMul,
  treeNorm,
  treeOnesLike,
  treeScale,
  treeSub,
  treeSum,
  treeVdot,
  treeZerosLike,
  type Tree,
} from "larch";
import { bits, makeTree, snapshot, treeSpecArb } from "../support/trees.js";

const right = <A>(x: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(x)) throw new Error(x.left.message);
  return x.right;
};

/** Every value of a tree, in leaf order. */
const values = (t: unknown): number[] => right(flatten(t)).leaves.flatMap((l) => Array.from(denseValues(l)));

/** Two trees of one random type (and one seed each), small. */
const twoTrees = fc.tuple(treeSpecArb(), fc.integer(), fc.integer()).map(([spec, s1, s2]) => [makeTree(spec, s1), makeTree(spec, s2)] as const);

const frozenAll = (t: Tree): boolean => {
  const flat = right(flatten(t));
  return Object.isFrozen(t) && flat.leaves.every((l) => Object.isFrozen(l));
};

describe("tree arithmetic", () => {
  test.prop([twoTrees], { numRuns: 30 })("never writes its inputs, and returns frozen trees of the inputs' type", ([a, b]) => {
    const before = [snapshot(a), snapshot(b)];
    const results = [treeAdd(a, b), treeSub(a, b), treeMul(a, b), treeScale(0.5, a), treeAddScaled(a, -2, b), treeMap((x, y) => x * y + 1, a, b)].map(right);
    results.push(...[treeZerosLike(a), treeOnesLike(a), treeFull(a, 3)].map(right));
    right(treeNorm(a));
    right(treeVdot(a, b));
    right(treeSum(a));
    expect([snapshot(a), snapshot(b)]).toEqual(before);
    const types = (t: unknown) => right(flatten(t)).leaves.map((l) => `${dtypeOf(l)}[${l.shape}]`);
    for (const r of results) {
      expect(frozenAll(r)).toBe(true);
      expect(types(r)).toEqual(types(a));
      expect(right(flatten(r)).paths).toEqual(right(flatten(a)).paths);
    }
  });

  test.prop([twoTrees], { numRuns: 30 })("elementwise: +, −, ×, s·x and x + s·y, each rounded once to the leaf's dtype", ([a, b]) => {
    const x = values(a);
    const y = values(b);
    const f32 = right(flatten(a)).leaves.flatMap((l) => Array.from(denseValues(l), () => dtypeOf(l) === "float32"));
    const round = (v: number, i: number) => (f32[i] ? Math.fround(v) : v);
    expect(values(right(treeAdd(a, b)))).toEqual(x.map((v, i) => round(v + y[i]!, i)));
    expect(values(right(treeSub(a, b)))).toEqual(x.map((v, i) => round(v - y[i]!, i)));
    expect(values(right(treeMul(a, b)))).toEqual(x.map((v, i) => round(v * y[i]!, i)));
    expect(values(right(treeScale(0.3, a)))).toEqual(x.map((v, i) => round(0.3 * v, i)));
    expect(values(right(treeAddScaled(a, -0.7, b)))).toEqual(x.map((v, i) => round(v + -0.7 * y[i]!, i)));
    expect(values(right(treeMap((u, v) => Math.max(u, v), a, b)))).toEqual(x.map((v, i) => Math.max(v, y[i]!)));
  });

  test.prop([twoTrees], { numRuns: 30 })("laws: (a + b) − b = a where nothing rounds; a − a = 0; a + 0 = a; 1·a = a", ([a, b]) => {
    const plusZero = (t: Tree) => values(t).map((v) => v + 0); // −0 + 0 = +0
    expect(values(right(treeAdd(a, right(treeZerosLike(a)))))).toEqual(plusZero(a));
    expect(bits(right(treeScale(1, a)))).toEqual(bits(a));
    expect(values(right(treeSub(a, a))).every((v) => v === 0)).toBe(true);
    // an exact inverse when nothing rounds: small integers in the tree's dtype
    const ints = right(treeMap((v) => Math.round(v * 1000), a));
    const other = right(treeMap((v) => Math.round(v * 1000), b));
    expect(plusZero(right(treeSub(right(treeAdd(ints, other)), other)))).toEqual(plusZero(ints));
    // a + b = b + a, a ⊙ b = b ⊙ a, ⟨a, b⟩ = ⟨b, a⟩
    expect(bits(right(treeAdd(a, b)))).toEqual(bits(right(treeAdd(b, a))));
    expect(bits(right(treeMul(a, b)))).toEqual(bits(right(treeMul(b, a))));
    expect(right(treeVdot(a, b))).toBe(right(treeVdot(b, a)));
  });

  test.prop([twoTrees, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), fc.boolean()], { numRuns: 30 })(
    "reductions: ‖x‖ = √⟨x, x⟩ bit for bit, ‖s·x‖ ≈ |s|·‖x‖, Σ, ‖·‖₁ and ‖·‖∞ of the values, ⟨x, y⟩ ≈ Σ xy",
    ([a, b], magnitude, negative) => {
      const s = negative ? -magnitude : magnitude;
      const x = values(a);
      const y = values(b);
      expect(right(treeNorm(a))).toBe(Math.sqrt(right(treeVdot(a, a))));
      const scaled = right(treeScale(s, right(treeMap((v) => v, a)))); // s·x in the leaf dtype
      const norm = right(treeNorm(a));
      expect(Math.abs(right(treeNorm(scaled)) - Math.abs(s) * norm)).toBeLessThanOrEqual(1e-6 * Math.abs(s) * norm + 1e-300);
      const close = (u: number, v: number, scale: number) => expect(Math.abs(u - v)).toBeLessThanOrEqual(1e-12 * Math.max(1, scale));
      close(right(treeVdot(a, b)), x.reduce((acc, v, i) => acc + v * y[i]!, 0), x.reduce((acc, v, i) => acc + Math.abs(v * y[i]!), 0));
      close(right(treeSum(a)), x.reduce((acc, v) => acc + v, 0), x.reduce((acc, v) => acc + Math.abs(v), 0));
      close(right(treeNorm(a, 1)), x.reduce((acc, v) => acc + Math.abs(v), 0), x.length);
      expect(right(treeNorm(a, Infinity))).toBe(x.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
    },
  );

  it("norms of float64 trees near the limits neither overflow nor underflow, and NaN is NaN", () => {
    const big = { w: ndarray(Float64Array.of(3e200, 4e200), [2]), b: ndarray(Float64Array.of(0), [1]) };
    const tiny = { w: ndarray(Float64Array.of(3e-200, 4e-200), [2]) };
    expect(right(treeNorm(big)) / 5e200).toBeCloseTo(1, 14);
    expect(right(treeNorm(tiny)) / 5e-200).toBeCloseTo(1, 14);
    expect(right(treeNorm({ w: ndarray(Float32Array.of(3e30, 4e30), [2]) })) / 5e30).toBeCloseTo(1, 6);
    expect(right(treeNorm({ w: ndarray(Float64Array.of(1, NaN), [2]) }))).toBeNaN();
    expect(right(treeNorm({ w: ndarray(Float64Array.of(NaN, 1), [2]) }, Infinity))).toBeNaN();
    expect(right(treeNorm({ w: ndarray(Float64Array.of(1, -Infinity), [2]) }))).toBe(Infinity);
  });

  it("trees that do not match, bad scalars and bad trees are Lefts naming the problem", () => {
    const a = { w: ndarray(new Float32Array(4), [2, 2]), b: ndarray(new Float32Array(2), [2]) };
    const other = { w: ndarray(new Float32Array(4), [4]), b: ndarray(new Float32Array(2), [2]) };
    const wide = { w: ndarray(new Float64Array(4), [2, 2]), b: ndarray(new Float32Array(2), [2]) };
    const leftOf = (x: E.Either<{ kind: string; message: string }, unknown>) => (E.isLeft(x) ? [x.left.kind, x.left.message] : ["right", ""]);
    expect(leftOf(treeAdd(a, other))).toEqual(["ShapeMismatch", expect.stringContaining("w")]);
    expect(leftOf(treeVdot(a, wide))).toEqual(["DtypeMismatch", expect.stringContaining("w")]);
    expect(leftOf(treeSub(a, { w: a.w }))[0]).toBe("StructureMismatch");
    expect(leftOf(treeScale("2" as unknown as number, a))).toEqual(["InvalidOption", expect.stringContaining("must be a number")]);
    expect(leftOf(treeFull(a, undefined as unknown as number))[0]).toBe("InvalidOption");
    expect(leftOf(treeNorm(a, 3 as 2))[0]).toBe("InvalidOption");
    expect(leftOf(treeMap(() => { throw new Error("boom"); }, a))).toEqual(["InvalidOption", expect.stringContaining("boom")]);
    expect(leftOf(treeMap((x) => x))[0]).toBe("InvalidTree");
    expect(leftOf(treeZerosLike({ w: [1, 2] } as unknown as Tree))).toEqual(["InvalidTree", expect.stringContaining("w")]);
  });
});
