/**
 * Trees in the kernel's memory (kernelTree): lars()'s compiled step reads them in place and keeps its outputs there,
 * with the generic path's bits; a donated region is written in place only when no other input overlaps it; donated
 * loops use no new memory, pure ones hand every region to the finalization registry, which gives it back once the GC has collected its array.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyStep, flatten, kernelTree, lars, leafOf, sgd, type ChainState, type Leaf, type Tree } from "larch";
import { right } from "../compose/bits.js";
import { createKernelMemory, KernelArena, kernelArena, swapKernelArena, type Region } from "../../src/kernels/kernelMemory.js";
import { compiledMinValues } from "../../src/kernels/compiledStep.js";
import { applyStepWith } from "../../src/core/step.js";

/** The JavaScript path, to compare with. */
const jsStep = applyStepWith(undefined);
import { snapshot } from "../support/trees.js";
import { handChain, sameBits } from "./lars-step-support.js";

const arena = kernelArena()!;
const o = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + 0.37 * i));
const plainTree = (seed: number): Tree => ({
  conv: leafOf(values(3 * 5 * 7, seed), [3, 5, 7]),
  fc: { w: leafOf(values(1001, seed + 1), [1001]), b: leafOf(values(1, seed + 2), []) },
});
const leaves = (tree: unknown): readonly Leaf[] => right(flatten(tree)).leaves;

/** Runs `steps` steps of lars() from `params0`, grads from `gradsAt`, and the same through the hand-built chain. */
const run = (params0: Tree, gradsAt: (t: number, params: Tree) => Tree, steps: number, donate: boolean) => {
  const opt = lars(o);
  const generic = handChain(o);
  let [p, q] = [params0, right(kernelTree(params0))];
  let s = right(generic.init(p));
  let r: ChainState = right(opt.init(q));
  for (let t = 0; t < steps; t++) {
    const a = right(jsStep(generic, gradsAt(t, p), s, p));
    const b = right(applyStep(opt, gradsAt(t, q), r, q, { donate }));
    sameBits(b, a);
    [p, s] = a;
    [q, r] = b;
  }
  return { params: q, state: r };
};

describe("resident trees (kernelTree)", () => {
  let minValues = 0;
  beforeAll(() => void (minValues = compiledMinValues(0))); // steps of every size take the WebAssembly
  afterAll(() => void compiledMinValues(minValues));
  it("kernelTree: same values in kernel memory; float64 leaves as they are; a Left for a non-tree", () => {
    const f64 = leafOf(Float64Array.of(1, 2), [2]);
    const tree = { ...plainTree(1), f64 };
    const placed = right(kernelTree(tree));
    sameBits(placed, tree);
    expect(leaves(placed).map((l) => arena.holds(l))).toEqual(leaves(tree).map((l) => l !== f64));
    expect((placed as { f64: Leaf }).f64).toBe(f64);
    expect(E.isLeft(kernelTree({ x: 3 } as unknown as Tree))).toBe(true);
  });

  it("resident params and grads, donated or not: the generic path's bits, outputs in kernel memory", () => {
    for (const donate of [false, true]) {
      const grads = right(kernelTree(plainTree(7)));
      const { params, state } = run(plainTree(3), (_, p) => (arena.holds(leaves(p)[0]!) ? grads : plainTree(7)), 4, donate);
      const trace = (state[1] as { trace: Tree }).trace;
      expect([...leaves(params), ...leaves(trace)].every((l) => arena.holds(l))).toBe(true);
    }
  });

  it("grads that alias the params, and a leaf at two paths: not written in place, same bits", () => {
    // grads = the params themselves (g = p)
    run(plainTree(5), (_, p) => p, 3, true);
    // one leaf at two paths of the params: its region is read twice, so neither output may overwrite it
    const shared = leafOf(values(64, 9), [64]);
    const twice = { a: shared, b: shared };
    const opt = lars(o);
    const q = right(kernelTree({ a: shared }));
    const qTwice = { a: (q as { a: Leaf }).a, b: (q as { a: Leaf }).a };
    const grads = { a: leafOf(values(64, 1), [64]), b: leafOf(values(64, 2), [64]) };
    const a = right(applyStep(handChain(o), grads, right(handChain(o).init(twice)), twice));
    const b = right(applyStep(opt, grads, right(opt.init(qTwice)), qTwice, { donate: true }));
    sameBits(b, a);
    expect(leaves(b[0]).map((l) => l.data === (q as { a: Leaf }).a.data)).toEqual([false, false]);
  });

  it("a non-finite gradient: the NonFinite Left, and kernel memory untouched, donated or not", () => {
    const params = right(kernelTree(plainTree(2)));
    const opt = lars(o);
    const warm = right(applyStep(opt, plainTree(4), right(opt.init(params)), params, { donate: true }));
    const bad = plainTree(6) as { fc: { w: Leaf } };
    bad.fc.w.data[500] = NaN;
    const gradsResident = right(kernelTree(bad));
    for (const grads of [bad, gradsResident]) {
      const before = snapshot(warm);
      const step = applyStep(opt, grads, warm[1], warm[0], { donate: true });
      expect(E.isLeft(step) && step.left.kind).toBe("NonFinite");
      expect(snapshot(warm)).toBe(before);
    }
  });

  it("the generic path never writes a donated leaf's storage in kernel memory (a region belongs to its own array)", () => {
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    // a lone leaf on its own buffer object: a fresh memory grows after it is placed, so later leaves see another one
    const previous = swapKernelArena(new KernelArena(createKernelMemory(1 << 16)!));
    try {
      const first = right(kernelTree({ w: leafOf(values(8, 1), [8]) }));
      right(kernelTree({ big: leafOf(new Float32Array(1 << 20), [1 << 20]) }));
      const w = leaves(first)[0]!;
      const before = Array.from(w.data);
      expect(w.data.buffer).not.toBe(leaves(right(kernelTree({ w: leafOf(values(8, 3), [8]) })))[0]!.data.buffer);
      const state = right(opt.init(first));
      const [next] = right(applyStep(opt, { w: leafOf(values(8, 2), [8]) }, state, first, { donate: true }));
      // (sgd's compiled pass writes the new params into a new region: the donated one is taken back afterwards)
      expect(leaves(next)[0]!.data).not.toBe(w.data);
      expect(Array.from(w.data)).toEqual(before);
    } finally {
      swapKernelArena(previous);
    }
  });

  it("memory short: no room for new outputs, for the staging, or for anything: the JavaScript path's bits", () => {
    // a fresh kernel memory for this test, so that what fits is known
    const fresh = new KernelArena(createKernelMemory(1 << 16)!);
    const previous = swapKernelArena(fresh);
    const n = 12345;
    const tree = (seed: number): Tree => ({ w: leafOf(values(n, seed), [n]), b: leafOf(values(3, seed), [3]) });
    const generic = handChain(o);
    const once = right(jsStep(generic, tree(2), right(generic.init(tree(1))), tree(1)));
    const twice = right(jsStep(generic, tree(3), once[1], once[0]));
    const opt = lars(o);
    try {
      // staged, with room for the staging only (4 arrays of n do not fit, 3 do): the results are plain arrays
      fresh.limit = fresh.end + 3.5 * 4 * n;
      fresh.ownedBudget = 0;
      const staged = right(applyStep(opt, tree(2), right(opt.init(tree(1))), tree(1)));
      sameBits(staged, once);
      expect(leaves(staged[0]).some((l) => fresh.holds(l))).toBe(false);
      // the same with room for the results as well: they go to kernel memory although the params were plain
      fresh.limit = 2 ** 32;
      fresh.ownedBudget = 2 ** 30;
      const placedResults = right(applyStep(opt, tree(2), right(opt.init(tree(1))), tree(1)));
      sameBits(placedResults, once);
      expect(leaves(placedResults[0]).map((l) => fresh.holds(l))).toEqual([true, true]);
      // resident and donated: after a first step, no room for new regions (the outputs are plain arrays)
      const params = right(kernelTree(tree(1)));
      const first = right(applyStep(opt, tree(2), right(opt.init(params)), params)); // not donated: no spare arrays
      fresh.limit = fresh.end;
      sameBits(right(applyStep(opt, tree(3), first[1], first[0], { donate: true })), twice);
      // nothing fits: the JavaScript path, same bits
      fresh.limit = fresh.end;
      const other = (seed: number): Tree => ({ w: leafOf(values(3 * n, seed), [3 * n]) });
      const declined = right(applyStep(opt, other(2), right(opt.init(other(1))), other(1)));
      sameBits(declined, right(jsStep(generic, other(2), right(generic.init(other(1))), other(1))));
    } finally {
      swapKernelArena(previous);
    }
  });

  it("the allocator: exact sizes first, then the smallest free region split, then the top; free neighbours merge", () => {
    const arena = new KernelArena(createKernelMemory(1 << 16)!);
    const a = arena.allocate(40_000)!;
    const b = arena.allocate(80_000)!;
    const c = arena.allocate(16)!; // keeps a and b off the top
    expect([a.at, b.at, c.at]).toEqual([0, 40_000, 120_000]);
    arena.release(a);
    arena.release(b); // merged with a: one free region of 120 000 bytes
    arena.limit = arena.end;
    expect(arena.allocate(1_000)).toEqual({ at: 0, bytes: 1_008 }); // split from the merged region
    expect(arena.allocate(118_992)).toEqual({ at: 1_008, bytes: 118_992 }); // the rest, an exact fit
    expect(arena.allocate(16)).toBeUndefined(); // nothing free, and the memory may not grow
    arena.release({ at: 0, bytes: 1_008 });
    arena.release({ at: 1_008, bytes: 118_992 });
    arena.release(c); // everything merged back, down to the bottom
    expect([arena.inUse, arena.end]).toEqual([0, 0]);
    expect(arena.allocate(120_016)).toEqual({ at: 0, bytes: 120_016 });
  });

  it("donated steps use no new kernel memory", () => {
    const opt = lars(o);
    let params = right(kernelTree(plainTree(1)));
    const grads = right(kernelTree(plainTree(2)));
    let state = right(opt.init(params));
    [params, state] = right(applyStep(opt, grads, state, params, { donate: true })); // buffers placed
    const inUse = arena.inUse;
    for (let t = 0; t < 20; t++) [params, state] = right(applyStep(opt, grads, state, params, { donate: true }));
    expect(arena.inUse).toBe(inUse);
  });

  it("a step refused for a NaN gives back every region it took (its new outputs' and its scratch)", () => {
    const opt = lars(o);
    const params = right(kernelTree(plainTree(1)));
    const [p1, s1] = right(applyStep(opt, right(kernelTree(plainTree(2))), right(opt.init(params)), params));
    const nan = plainTree(3);
    const first = leaves(nan)[0]!;
    (first.data as Float32Array)[first.offset] = NaN; // before the tree is placed: a NaN gradient in kernel memory
    const bad = right(kernelTree(nan));
    const inUse = arena.inUse;
    const step = applyStep(opt, bad, s1, p1);
    expect(E.isLeft(step) && step.left.kind).toBe("NonFinite");
    expect(arena.inUse).toBe(inUse);
  });

  it("pure steps: every output's region is handed to the finalization registry, and regions it gives back are reused", () => {
    // The arena's FinalizationRegistry, captured: its callback is what V8 calls once it has collected an owner array.
    // The test "collects" the arrays of the trees it has dropped by calling that callback itself, so nothing waits
    // for the garbage collector (whose timing depends on load).
    const registered = new Map<object, Region>();
    let cleanup: ((r: Region) => void) | undefined;
    class CapturedRegistry {
      constructor(callback: (r: Region) => void) {
        cleanup = callback;
      }
      register(owner: object, region: Region): void {
        registered.set(owner, region);
      }
      unregister(owner: object): boolean {
        return registered.delete(owner);
      }
    }
    const real = globalThis.FinalizationRegistry;
    globalThis.FinalizationRegistry = CapturedRegistry as unknown as typeof FinalizationRegistry;
    let fresh: KernelArena;
    try {
      fresh = new KernelArena(createKernelMemory(1 << 16)!);
    } finally {
      globalThis.FinalizationRegistry = real;
    }
    const previous = swapKernelArena(fresh);
    try {
      const opt = lars(o);
      const big = (seed: number): Tree => ({ w: ndarray(values(1 << 16, seed), [1 << 16]) as Leaf });
      let params = right(kernelTree(big(1)));
      const grads = right(kernelTree(big(2)));
      let state = right(opt.init(params));
      /** the arrays reachable from a value (its leaves' data, wherever they sit in a state) */
      const arrays = (x: unknown, out = new Set<object>()): Set<object> => {
        if (ArrayBuffer.isView(x)) out.add(x);
        else if (typeof x === "object" && x !== null) for (const v of Object.values(x)) arrays(v, out);
        return out;
      };
      const peaks: number[] = [];
      const ends: number[] = [];
      for (let t = 0; t < 30; t++) {
        [params, state] = right(applyStep(opt, grads, state, params));
        // every output array of the step is registered, with its own region
        const alive = arrays([params, state, grads]);
        for (const a of arrays([params, (state[1] as { trace: Tree }).trace])) expect(registered.has(a)).toBe(true);
        // the trees of earlier steps are unreachable now: collect their arrays, as the GC would
        for (const [owner, region] of [...registered]) {
          if (alive.has(owner)) continue;
          registered.delete(owner);
          cleanup!(region);
        }
        peaks.push(fresh.inUse);
        ends.push(fresh.end);
      }
      // 30 steps would hold 60 regions of 256 KiB each without recycling; here only the live trees' are in use
      expect(Math.max(...peaks)).toBeLessThanOrEqual(4 * 4 * (1 << 16) + 4096);
      // and the memory stops growing: freed regions are used before new pages
      expect(ends[29]).toBe(ends[9]);
    } finally {
      swapKernelArena(previous);
    }
  });
});
