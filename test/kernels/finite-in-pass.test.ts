/**
 * sgd, adam and adamw refuse a NaN or ±Inf in g or p. A compiled step (and `update` of the gradient) checks for
 * them in its pass instead of reading g and p once more before it: on a find it hands nothing out, and the
 * JavaScript path gives the step's Left. A donated step past the owned budget, whose pass writes over donated
 * storage, sums g and p first instead. These tests hold that to the JavaScript's Left, inputs unchanged, no kernel
 * memory kept, and that the pass, not a read before it, did the checking of a finite step.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adam,
  adamw,
  addWeightDecay,
  applyStep,
  chain,
  denseValues,
  flatten,
  kernelThreads,
  kernelTree,
  scaleByLr,
  sgd,
  traceMomentum,
  type GradientTransformation,
  type Tree,
} from "larch";
import { withoutCompiledMath } from "../../src/core/executor.js";
import { applyStepWith } from "../../src/core/step.js";
import { compiledPass, type CompiledPass } from "../../src/kernels/compiledStep.js";
import { kernelArena } from "../../src/kernels/kernelMemory.js";
import { bitsOf, right } from "../compose/bits.js";
import { makeTree, type TreeSpec } from "../support/trees.js";

const jsStep = applyStepWith(undefined);
const OPTIMIZERS: readonly (readonly [string, () => GradientTransformation<unknown>])[] = [
  ["sgd", () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }) as GradientTransformation<unknown>],
  ["adam", () => adam({ lr: 1e-3, weightDecay: 1e-4 }) as GradientTransformation<unknown>],
  ["adamw", () => adamw({ lr: 1e-3, weightDecay: 0.01 }) as GradientTransformation<unknown>],
];
// 70,003 values: past the WebAssembly's smallest step; a leaf of blocks and a tail, a small one, an odd one
const SPEC: TreeSpec = {
  a: { shape: [70001], dtype: "float32", view: "dense" },
  b: { shape: [3], dtype: "float32", view: "dense" },
  c: { shape: [1030], dtype: "float32", view: "dense" },
};
const SIZES = { a: 70001, b: 3, c: 1030 } as const;
type Name = keyof typeof SIZES;

const badArb = fc.record({
  leaf: fc.constantFrom<Name>("a", "b", "c"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  of: fc.constantFrom<"grads" | "params">("grads", "params"),
  value: fc.constantFrom(NaN, Infinity, -Infinity),
});

afterAll(() => kernelThreads(1));

describe("non-finite inputs found by the pass", () => {
  beforeAll(() => kernelThreads(1));

  it("random NaN or ±Inf in g or p, plain or resident params, pure or donated, applyStep or update: the JavaScript's Left, nothing changed or kept", () => {
    const arena = kernelArena()!;
    fc.assert(
      fc.property(fc.constantFrom(...OPTIMIZERS), badArb, fc.boolean(), fc.constantFrom("pure", "donated", "donated, no room", "update"), ([, make], bad, resident, how) => {
        const opt = make();
        let params: Tree = makeTree(SPEC, 5);
        if (resident) params = right(kernelTree(params));
        const state = right(applyStep(opt, makeTree(SPEC, 6, 0.1), right(opt.init(params)), params))[1];
        const grads = makeTree(SPEC, 7, 0.1);
        const target = (bad.of === "grads" ? grads : params) as unknown as { [k in Name]: { data: Float32Array } };
        const i = Math.min(SIZES[bad.leaf] - 1, Math.floor(bad.at * SIZES[bad.leaf]));
        const saved = target[bad.leaf].data[i]!;
        target[bad.leaf].data[i] = bad.value;
        try {
          const before = bitsOf([grads, state, params]);
          const owned = arena.ownedInUse;
          const budget = arena.ownedBudget;
          if (how === "donated, no room") arena.ownedBudget = 0; // results into the donated storage
          let got;
          try {
            got = how === "update" ? opt.update(grads, state, params) : applyStep(opt, grads, state, params, { donate: how !== "pure" });
          } finally {
            arena.ownedBudget = budget;
          }
          const want = how === "update" ? withoutCompiledMath(() => opt.update(grads, state, params)) : jsStep(opt, grads, state, params);
          expect(E.isLeft(got) && got.left.kind).toBe("NonFinite");
          expect(got).toEqual(want);
          expect(bitsOf([grads, state, params])).toBe(before);
          expect(arena.ownedInUse).toBe(owned);
        } finally {
          target[bad.leaf].data[i] = saved;
        }
      }),
      { numRuns: 60 },
    );
  });

  it("a finite step reads g and p once, in the pass: no sums of squares before it (but past the owned budget, donated); the JavaScript's bits", () => {
    const arena = kernelArena()!;
    for (const [name, make] of OPTIMIZERS) {
      const opt = make();
      const params = right(kernelTree(makeTree(SPEC, 5)));
      const state = right(opt.init(params));
      const grads = makeTree(SPEC, 7, 0.1);
      // the step's compiled passes (cached by chain, so the step calls these very objects), their sums counted
      const flat = (t: Tree) => right(flatten(t));
      const plan = right(opt.fusable!.begin(state, { updates: flat(grads), params: flat(params) }));
      const bodies = plan.math!.map((m) => m.body);
      let sums = 0;
      for (const [mode, checks] of [["apply", true], ["apply", false], ["update", true]] as const) {
        const pass = compiledPass(arena, bodies, mode, checks)! as { -readonly [k in keyof CompiledPass]: CompiledPass[k] };
        const [sumsq, sumsq2] = [pass.sumsq, pass.sumsq2];
        pass.sumsq = (...args) => (sums++, sumsq(...args));
        pass.sumsq2 = (...args) => (sums++, sumsq2(...args));
      }
      const pure = right(applyStep(opt, grads, state, params));
      expect(bitsOf(pure), name).toBe(bitsOf(right(jsStep(opt, grads, state, params))));
      const updated = right(opt.update(grads, state, params));
      expect(bitsOf(updated), name).toBe(bitsOf(withoutCompiledMath(() => right(opt.update(grads, state, params)))));
      const again = () => right(kernelTree(makeTree(SPEC, 5)));
      const p1 = again();
      const donated = right(applyStep(opt, grads, right(opt.init(p1)), p1, { donate: true })); // into new regions
      expect(sums, name).toBe(0);
      expect(bitsOf(donated), name).toBe(bitsOf(pure));
      const budget = arena.ownedBudget;
      arena.ownedBudget = 0; // no new regions: the pass writes over the donated ones, so g and p are checked first
      try {
        const p2 = again();
        const over = right(applyStep(opt, grads, right(opt.init(p2)), p2, { donate: true }));
        expect(sums, name).toBeGreaterThan(0);
        expect(bitsOf(over), name).toBe(bitsOf(pure));
      } finally {
        arena.ownedBudget = budget;
      }
    }
  });

  it("a chain that refuses nothing (a user's sgd of the pieces) steps NaN through in the pass, the JavaScript's values, results in kernel memory", () => {
    const arena = kernelArena()!;
    const opt = chain(addWeightDecay(5e-4), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1));
    const params = right(kernelTree(makeTree(SPEC, 5)));
    const state = right(opt.init(params));
    const grads = makeTree(SPEC, 7, 0.1) as unknown as { [k in Name]: { data: Float32Array } };
    grads.a.data[123] = NaN;
    grads.c.data[1029] = Infinity;
    const sameValues = (x: Tree, y: Tree) => {
      const [a, b] = [right(flatten(x)).leaves, right(flatten(y)).leaves];
      return a.every((leaf, i) => Array.from(denseValues(leaf)).every((v, k) => Object.is(v, denseValues(b[i]!)[k]) || (Number.isNaN(v) && Number.isNaN(denseValues(b[i]!)[k]!))));
    };
    for (const how of ["applyStep", "update"] as const) {
      const got = how === "applyStep" ? right(applyStep(opt, grads as unknown as Tree, state, params))[0] : right(opt.update(grads as unknown as Tree, state, params))[0];
      const want = how === "applyStep" ? right(jsStep(opt, grads as unknown as Tree, state, params))[0] : right(withoutCompiledMath(() => opt.update(grads as unknown as Tree, state, params)))[0];
      expect(sameValues(got, want), how).toBe(true);
      expect(Number.isNaN(denseValues(right(flatten(got)).leaves[0]!)[123]), how).toBe(true);
      // the compiled pass's results (kernel memory), not the JavaScript path's: a NaN nothing refuses sends nothing back
      expect(right(flatten(got)).leaves.every((leaf) => arena.holds(leaf)), how).toBe(true);
    }
  });
});
