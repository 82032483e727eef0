/**
 * `applyUpdates` through the installed executor (the kernels' WebAssembly: p + u as a generated pass, on one or two
 * threads, p′ in kernel memory) against the JavaScript loop (no executor installed), bit for bit: random trees of
 * float32 and float64 leaves, strided and empty ones, NaN, ±0, ±Inf, subnormals and sums that overflow, params and
 * updates plain or in kernel memory; the inputs are never written; a Left is the JavaScript's. And `update` then
 * `applyUpdates` of a fused chain keeps u′, the new state and p′ in kernel memory.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import { applyUpdates, denseValues, dtypeOf, flatten, isLeaf, kernelThreads, kernelTree, sgd, adam, type Tree } from "larch";
import { withoutCompiledMath } from "../../src/core/executor.js";
import { everyStepCompiled } from "../support/executor.js";
import { bitsOf as bytesOf, right } from "../compose/bits.js";
import { makeLeaf, makeTree, prng, treeSpecArb, type LeafSpec, type TreeSpec } from "../support/trees.js";

/** Every value exactly (−0 and ±Inf count), leaves with their dtypes and shapes; any NaN counts as NaN. */
const bitsOf = (x: unknown): string =>
  JSON.stringify(x, (_k, v) =>
    isLeaf(v) ? `${dtypeOf(v)}[${v.shape}]:${Array.from(denseValues(v), (n) => (Object.is(n, -0) ? "-0" : String(n))).join(",")}` : v,
  );

const SPECIAL = [NaN, 0, -0, Infinity, -Infinity, 1e-45, -1e-45, 1e-40, 3.4e38, -3.4e38, 1, -1, 1e-8];

/** A tree of the spec's structure whose values are often special (NaN, ±0, ±Inf, subnormal, near float32's max). */
const specialTree = (spec: TreeSpec, seed: number): Tree => {
  const rand = prng(seed);
  const value = () => (rand() < 0.3 ? SPECIAL[Math.floor(rand() * SPECIAL.length)]! : (rand() - 0.5) * 4);
  const build = (s: TreeSpec): Tree =>
    typeof s === "object" && s !== null && "view" in s
      ? makeLeaf(s as LeafSpec, value)
      : Array.isArray(s)
        ? s.map(build)
        : Object.fromEntries(Object.entries(s).map(([k, v]) => [k, build(v as TreeSpec)]));
  return build(spec);
};

/** Trees with an odd leaf of 0–13 values (every tail length of a quad) and an empty leaf beside the random ones. */
const specArb: fc.Arbitrary<TreeSpec> = fc
  .tuple(treeSpecArb(), fc.constantFrom<"float32" | "float64">("float32", "float64"), fc.integer({ min: 0, max: 13 }), fc.constantFrom("dense", "reversed", "sliced" as const))
  .map(([spec, dtype, n, view]) => ({ spec, odd: { shape: [n], dtype, view }, empty: { shape: [0, 3], dtype, view: "dense" as const } }));


const inKernelMemory = (t: Tree) => right(flatten(t)).leaves.filter((l) => l.shape.every((d) => d > 0)).map((l) => l.data.buffer instanceof SharedArrayBuffer);

describe("applyUpdates through the installed WebAssembly: the bits of the JavaScript loop", () => {
  const taken = everyStepCompiled("applyUpdates"); // calls the WebAssembly ran (not handed back to the JavaScript)

  it("random trees (float32/float64, strided, odd, empty), special values, params and updates plain or resident, 1 or 2 threads", async () => {
    await fc.assert(
      fc.asyncProperty(specArb, fc.boolean(), fc.boolean(), fc.integer(), fc.constantFrom<1 | 2>(1, 2), async (spec, residentP, residentU, seed, threads) => {
        await kernelThreads(threads, 0); // every pass shared with the helper thread when there are two
        let params = specialTree(spec, seed);
        let updates = specialTree(spec, seed + 1);
        if (residentP) params = right(kernelTree(params));
        if (residentU) updates = right(kernelTree(updates));
        const before = bytesOf([params, updates]);
        const wasm = applyUpdates(params, updates);
        expect(bytesOf([params, updates])).toBe(before); // nothing written
        const js = withoutCompiledMath(() => applyUpdates(params, updates));
        expect(bitsOf(wasm)).toBe(bitsOf(js));
        // p + p: one array given twice
        expect(bitsOf(applyUpdates(params, params))).toBe(bitsOf(withoutCompiledMath(() => applyUpdates(params, params))));
      }),
      { numRuns: 60 },
    );
    expect(taken()).toBeGreaterThan(0);
  });

  it("float32 results are in kernel memory; a second step reads them in place: the same bits", () => {
    const spec: TreeSpec = { w: { shape: [301], dtype: "float32", view: "dense" }, b: { shape: [7], dtype: "float32", view: "dense" } };
    const once = right(applyUpdates(makeTree(spec, 1), makeTree(spec, 2, 0.1)));
    expect(inKernelMemory(once)).toEqual([true, true]);
    const twice = right(applyUpdates(once, once));
    expect(bytesOf(twice)).toBe(bytesOf(withoutCompiledMath(() => right(applyUpdates(once, once)))));
  });

  it("trees that differ (structure, shape, dtype) are the JavaScript's Left", () => {
    const f32 = (shape: number[]): TreeSpec => ({ shape, dtype: "float32", view: "dense" });
    const params = makeTree({ a: f32([5, 3]), b: f32([4]) }, 1);
    const others: Tree[] = [
      makeTree({ a: f32([5, 3]) }, 2),
      makeTree({ a: f32([3, 5]), b: f32([4]) }, 2),
      makeTree({ a: f32([5, 3]), b: { shape: [4], dtype: "float64", view: "dense" } }, 2),
      { a: 1, b: 2 } as unknown as Tree,
    ];
    for (const u of others) {
      const failed = applyUpdates(params, u);
      expect(E.isLeft(failed)).toBe(true);
      expect(failed).toEqual(withoutCompiledMath(() => applyUpdates(params, u)));
    }
  });

  it("update then applyUpdates of a fused chain: u′, the new state and p′ in kernel memory, the JavaScript's bits", () => {
    const spec: TreeSpec = { w: { shape: [40, 9], dtype: "float32", view: "dense" }, b: { shape: [13], dtype: "float32", view: "transposed" } };
    for (const make of [() => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }), () => adam({ lr: 1e-3 })]) {
      const loop = (p: Tree, steps: number) => {
        const opt = make();
        let state = right(opt.init(p));
        const out: string[] = [];
        for (let t = 0; t < steps; t++) {
          const [u, next] = right(opt.update(makeTree(spec, 10 + t, 0.1), state, p));
          const p2 = right(applyUpdates(p, u));
          out.push(bytesOf([u, next, p2]));
          if (t === steps - 1) out.push(JSON.stringify([inKernelMemory(u), inKernelMemory(p2)]));
          [p, state] = [p2, next];
        }
        return out;
      };
      const wasm = loop(makeTree(spec, 1), 3);
      const js = withoutCompiledMath(() => loop(makeTree(spec, 1), 3));
      expect(wasm.slice(0, 3)).toEqual(js.slice(0, 3));
      expect(wasm[3]).toBe(JSON.stringify([[true, true], [true, true]]));
    }
  });
});
