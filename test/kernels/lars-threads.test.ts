/**
 * lars()'s compiled step on two threads (kernelThreads(2)): the leaves are shared with a helper thread, each leaf
 * whole on one thread, so the bits are the generic path's whatever thread ran what; many back-to-back steps (staged
 * and resident, donated or not) to catch races in the hand-over between the two phases.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyStep, kernelThreads, kernelTree, lars, leafOf, type ChainState, type Tree } from "larch";
import { right } from "../compose/bits.js";
import { handChain, sameBits } from "./lars-step-support.js";

const values = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed + 0.37 * i) * (1 + (i % 7)));
/** 40 leaves of 0–3000 values (so both threads get some), one 0-d */
const treeOf = (seed: number): Tree =>
  Object.fromEntries(
    Array.from({ length: 40 }, (_, j) => {
      const n = (j * 7919) % 3001;
      return [`l${j}`, j === 5 ? leafOf(values(1, seed + j), []) : leafOf(values(n, seed + j), [n])];
    }),
  );

describe("two threads", () => {
  beforeAll(async () => {
    expect(await kernelThreads(2, 0)).toBe(2); // every step of two leaves or more is shared
  });
  afterAll(async () => {
    expect(await kernelThreads(1)).toBe(1);
  });

  for (const mode of ["staged", "resident", "resident, donated"] as const) {
    it(`200 back-to-back steps, ${mode}: the generic path's bits at every step`, () => {
      const o = { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true };
      const opt = lars(o);
      const generic = handChain(o);
      let p = treeOf(1);
      let q = mode === "staged" ? treeOf(1) : right(kernelTree(treeOf(1)));
      let s = right(generic.init(p));
      let r: ChainState = right(opt.init(q));
      for (let t = 0; t < 200; t++) {
        const grads = treeOf(100 + (t % 5));
        [p, s] = right(applyStep(generic, grads, s, p));
        [q, r] = right(applyStep(opt, grads, r, q, { donate: mode === "resident, donated" }));
        if (t % 20 === 0 || t === 199) {
          sameBits(q, p);
          sameBits(r, s);
        }
      }
    });
  }
});
