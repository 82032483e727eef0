/**
 * lars()'s compiled step on two threads (kernelThreads(2)): its norms (by leaf) and passes (by range) are shared
 * with a helper thread, so the bits are the JavaScript path's whatever thread ran what; many back-to-back steps
 * (staged and resident, donated or not) to catch races in the hand-over between the batches of tasks.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyStep, kernelThreads, kernelTree, lars, leafOf, type ChainState, type Tree } from "larch";
import { right } from "../compose/bits.js";
import { handChain, sameBits } from "./lars-step-support.js";
import { compiledMinValues } from "../../src/kernels/compiledStep.js";
import { applyStepWith } from "../../src/core/step.js";

const jsStep = applyStepWith(undefined);

const values = (n: number, seed: number) => {
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) v[i] = Math.sin(seed + 0.37 * i) * (1 + (i % 7));
  return v;
};
/** 40 leaves of 0–1000 values (each step shares them between the threads: what is tested is the hand-over), one 0-d */
const treeOf = (seed: number): Tree =>
  Object.fromEntries(
    Array.from({ length: 40 }, (_, j) => {
      const n = (j * 7919) % 1001;
      return [`l${j}`, j === 5 ? leafOf(values(1, seed + j), []) : leafOf(values(n, seed + j), [n])];
    }),
  );

describe("two threads", () => {
  let minValues = 0;
  beforeAll(async () => {
    expect(await kernelThreads(2, 0)).toBe(2); // every step of two leaves or more is shared
    minValues = compiledMinValues(0); // and every step takes the WebAssembly
  });
  afterAll(async () => {
    compiledMinValues(minValues);
    expect(await kernelThreads(1)).toBe(1);
  });

  const o = { lr: 0.05, momentum: 0.9, weightDecay: 5e-4, nesterov: true };
  const steps = 200;
  const checked = (t: number) => t % 20 === 0 || t === steps - 1;
  /** the five gradients the steps cycle through, made once: every mode reads the same objects, so a step that wrote into its gradients would show as a difference */
  const grads = [0, 1, 2, 3, 4].map((k) => treeOf(100 + k));
  /** The generic path's params and state after the checked steps: the same for every mode, so computed once. */
  let generic: Map<number, readonly [Tree, ChainState]> | undefined;
  const genericAt = (): Map<number, readonly [Tree, ChainState]> => {
    if (generic !== undefined) return generic;
    generic = new Map();
    const chain = handChain(o);
    let p = treeOf(1);
    let s = right(chain.init(p));
    for (let t = 0; t < steps; t++) {
      [p, s] = right(jsStep(chain, grads[t % 5]!, s, p));
      if (checked(t)) generic.set(t, [p, s]);
    }
    return generic;
  };

  for (const mode of ["staged", "resident", "resident, donated"] as const) {
    it(`${steps} back-to-back steps, ${mode}: the generic path's bits at every step`, () => {
      const expected = genericAt();
      const opt = lars(o);
      let q = mode === "staged" ? treeOf(1) : right(kernelTree(treeOf(1)));
      let r: ChainState = right(opt.init(q));
      for (let t = 0; t < steps; t++) {
        [q, r] = right(applyStep(opt, grads[t % 5]!, r, q, { donate: mode === "resident, donated" }));
        if (checked(t)) {
          const [p, s] = expected.get(t)!;
          sameBits(q, p);
          sameBits(r, s);
        }
      }
    });
  }
});
