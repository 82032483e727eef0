/**
 * Resident trees stepped without donation in a synchronous loop (issue 12): every step's results take new regions,
 * which only the garbage collector's callbacks give back, and those run only when the program yields, so kernel
 * memory grew until 4 GiB. The arena's budget bounds it by count: past it, results are plain arrays with the same
 * bits. Nothing here depends on timing: bytes and regions are counted.
 */
import ndarray from "ndarray";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyStep, flatten, kernelTree, lars, type GradientTransformation, type Leaf, type Tree } from "larch";
import { right } from "../compose/bits.js";
import { createKernelMemory, KernelArena, swapKernelArena } from "../../src/kernels/kernelMemory.js";
import { compiledMinValues } from "../../src/kernels/compiledStep.js";
import { applyStepWith } from "../../src/core/step.js";

/** The JavaScript path, to compare with. */
const jsStep = applyStepWith(undefined);
import { sameBits } from "./lars-step-support.js";

const n = 1 << 14; // 64 KiB a leaf
const values = (seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + 0.37 * i));
const tree = (seed: number): Tree => ({ w: ndarray(values(seed), [n]) as Leaf });
const leaves = (t: unknown): readonly Leaf[] => right(flatten(t)).leaves;

describe("a budget for resident results", () => {
  let minValues = 0;
  beforeAll(() => void (minValues = compiledMinValues(0))); // steps of every size take the WebAssembly
  afterAll(() => void compiledMinValues(minValues));
  for (const [name, make] of [["lars", () => lars({ lr: 0.1, momentum: 0.9 })]] as const)
    for (const start of ["kernelTree", "plain params"] as const)
    it(`${name} from ${start}: 40 undonated steps in a loop that never yields stay within the budget, then go on in plain arrays, same bits`, () => {
      const fresh = new KernelArena(createKernelMemory(1 << 16)!);
      fresh.ownedBudget = 8 * 4 * n; // eight leaves' worth
      const previous = swapKernelArena(fresh);
      try {
        const opt: GradientTransformation<unknown> = make();
        // plain params: the first step's results go to kernel memory all the same
        let params = start === "kernelTree" ? right(kernelTree(tree(1))) : tree(1);
        const grads = tree(2);
        let state = right(opt.init(params));
        let plain: [Tree, unknown] = [tree(1), right(opt.init(tree(1)))];
        const peaks: number[] = [];
        for (let t = 0; t < 40; t++) {
          [params, state] = right(applyStep(opt, grads, state, params)); // not donated: the old regions stay taken
          plain = right(applyStep(opt, grads, plain[1], plain[0])) as [Tree, unknown];
          sameBits([params, state], plain);
          peaks.push(fresh.ownedInUse);
          if (t === 0) expect(leaves(params).every((leaf) => fresh.holds(leaf))).toBe(true); // resident results at first
        }
        // unbounded, 40 steps would hold 40 × (params + state) regions; the budget holds, and so does the memory's top
        expect(Math.max(...peaks)).toBeLessThanOrEqual(fresh.ownedBudget);
        expect(fresh.end).toBeLessThanOrEqual(fresh.ownedBudget + 16 * 4 * n); // the budget, and the steps' scratch
        // the last steps' results are plain arrays, not kernel memory
        expect(leaves(params).some((leaf) => fresh.holds(leaf))).toBe(false);
      } finally {
        swapKernelArena(previous);
      }
    });

  it("a donating loop is not affected: its regions are handed back every step and stay within a few leaves", () => {
    const fresh = new KernelArena(createKernelMemory(1 << 16)!);
    fresh.ownedBudget = 8 * 4 * n;
    const previous = swapKernelArena(fresh);
    try {
      const opt = lars({ lr: 0.1, momentum: 0.9 });
      let params = right(kernelTree(tree(1)));
      let state = right(opt.init(params));
      for (let t = 0; t < 40; t++) [params, state] = right(applyStep(opt, tree(2), state, params, { donate: true }));
      expect(leaves(params).every((leaf) => fresh.holds(leaf))).toBe(true); // still resident after 40 steps
      expect(fresh.ownedInUse).toBeLessThanOrEqual(4 * 4 * n);
    expect(fresh.end).toBeLessThanOrEqual(8 * 4 * n);
    } finally {
      swapKernelArena(previous);
    }
  });
});
