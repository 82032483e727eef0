/**
 * lars()'s whole step through the WebAssembly generated from its chain's bodies (the public applyStep's executor,
 * taking steps of any size here) against the JavaScript path of the same chain built by hand: the same bits,
 * params and every state record, over random float32 trees and hyper-parameters, first and later steps, donated or
 * not, plain or resident; the inputs the executor does not take (float64) run the JavaScript, and every Left (a
 * NaN, a state of another optimizer, a donated state, a failing schedule) is the JavaScript path's.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adam,
  denseValues,
  flatten,
  isDonated,
  isLeaf,
  kernelTree,
  lars,
  leafOf,
  type ChainState,
  type GradientTransformation,
  type LarsOptions,
  type Leaf,
  type Tree,
  unflatten,
} from "larch";
import { right } from "../compose/bits.js";
import { handChain, sameBits } from "./lars-step-support.js";
import { createKernelMemory, KernelArena, kernelArena, swapKernelArena } from "../../src/kernels/kernelMemory.js";
import { compiledMinValues, wasmMath } from "../../src/kernels/compiledStep.js";
import { applyStepWith } from "../../src/core/step.js";
import type { CompiledMath } from "../../src/core/transform.js";
import { makeLeaf, prng, snapshot, type LeafSpec, type View } from "../support/trees.js";

/** The executor's steps: `taken` counts those it ran (a Right or a Left), `declined` those it left to the JavaScript. */
const calls = { taken: 0, declined: 0 };
const spiedMath: CompiledMath = {
  ...wasmMath,
  applyStep: (...args) => {
    const r = wasmMath.applyStep(...args);
    calls[r === undefined ? "declined" : "taken"]++;
    return r;
  },
};
/** applyStep through the spied executor, and the JavaScript path. */
const compiledStep = applyStepWith(spiedMath);
const jsStep = applyStepWith(undefined);
/** lars(o), the counts reset. */
const spied = (o: LarsOptions): { opt: GradientTransformation<ChainState>; calls: typeof calls } => {
  calls.taken = 0;
  calls.declined = 0;
  return { opt: lars(o), calls };
};
let minValues = 0;
beforeAll(() => void (minValues = compiledMinValues(0))); // steps of every size take the WebAssembly
afterAll(() => void compiledMinValues(minValues));

/** Which leaves of `out` live in the storage (buffer) of the same leaf of `input` (donation reused it). */
const reusedStorage = (input: readonly Leaf[], out: unknown): boolean[] =>
  leafList(out).map((leaf, i) => leaf.data.buffer === input[i]!.data.buffer);

const arena = kernelArena()!;

/** Every leaf of a tree or state. */
const leavesOf = (x: unknown): Leaf[] =>
  isLeaf(x) ? [x] : typeof x === "object" && x !== null ? Object.values(x).flatMap(leavesOf) : [];

/** Which leaves of `out` have the same storage array as the same leaf of `input` (a resident leaf written in place). */
const sameArrays = (input: readonly Leaf[], out: unknown): boolean[] => leafList(out).map((leaf, i) => leaf.data === input[i]!.data);
/** The leaves of a tree in larch's order (taken before a step that may donate the tree). */
const leafList = (tree: unknown): readonly Leaf[] => {
  const flat = flatten(tree);
  if (E.isLeft(flat)) throw new Error(flat.left.message);
  return flat.right.leaves;
};

/** Frozen-ness of every record and array of a state, in walk order. */
const frozenness = (x: unknown): boolean[] =>
  typeof x !== "object" || x === null || isLeaf(x)
    ? []
    : [Object.isFrozen(x), ...Object.values(x).flatMap(frozenness)];

// ---- random trees: sizes 0..5000, odd sizes, 0-d leaves, every kind of view, edge values --------------------

const shapeArb = fc.oneof(
  fc.constant([] as number[]),
  fc.integer({ min: 0, max: 5000 }).map((n) => [n]),
  fc.integer({ min: 0, max: 40 }).map((n) => [n]),
  fc.tuple(fc.integer({ min: 1, max: 70 }), fc.integer({ min: 1, max: 70 })).map(([a, b]) => [a, b]),
  fc.array(fc.integer({ min: 0, max: 6 }), { minLength: 3, maxLength: 4 }),
);
const viewArb = fc.constantFrom<View>("dense", "transposed", "reversed", "sliced");

interface LeafPlan {
  readonly shape: number[];
  readonly params: View;
  readonly grads: View;
  /** all params 0 (γ = 1), all grads −0 (γ = 1 without weight decay, and d = −0) */
  readonly zeroParams: boolean;
  readonly negZeroGrads: boolean;
}
const leafPlanArb: fc.Arbitrary<LeafPlan> = fc.record({
  shape: shapeArb,
  params: viewArb,
  grads: viewArb,
  zeroParams: fc.integer({ min: 0, max: 9 }).map((k) => k < 2),
  negZeroGrads: fc.integer({ min: 0, max: 9 }).map((k) => k < 2),
});
const treePlanArb = fc.dictionary(fc.constantFrom("w", "b", "conv.w", "fc", "bn", "0", "1", "emb"), leafPlanArb, {
  minKeys: 0,
  maxKeys: 6,
});

/** Values: mostly normal-ish with full mantissas, plus ±0, subnormals and large ones. */
const valueSource = (seed: number, scale: number) => {
  const rand = prng(seed);
  return () => {
    const r = rand();
    if (r < 0.03) return -0;
    if (r < 0.06) return 0;
    if (r < 0.07) return (rand() - 0.5) * 1e-40;
    if (r < 0.08) return (rand() - 0.5) * 1e20;
    return scale * (rand() + rand() + rand() - 1.5) * 2;
  };
};

const leafFrom = (shape: number[], view: View, value: () => number): Leaf =>
  makeLeaf({ shape, dtype: "float32", view } satisfies LeafSpec, value);

const paramsOf = (plan: Record<string, LeafPlan>, seed: number): Tree => {
  const value = valueSource(seed, 1);
  return Object.fromEntries(
    Object.entries(plan).map(([k, l]) => [k, leafFrom(l.shape, l.params, l.zeroParams ? () => 0 : value)]),
  );
};
const gradsOf = (plan: Record<string, LeafPlan>, seed: number): Tree => {
  const value = valueSource(seed, 0.01);
  return Object.fromEntries(
    Object.entries(plan).map(([k, l]) => [k, leafFrom(l.shape, l.grads, l.negZeroGrads ? () => -0 : value)]),
  );
};

/** The same values as `tree`, behind another kind of view (its storage laid out differently). */
const relayout = (tree: Tree, view: View): Tree => {
  const flat = flatten(tree);
  if (E.isLeft(flat)) throw new Error(flat.left.message);
  const leaves = flat.right.leaves.map((leaf) => {
    const values = denseValues(leaf);
    const target = leafFrom([...leaf.shape], view, () => 0) as ndarray.NdArray<Float32Array>;
    const index = new Array<number>(leaf.shape.length).fill(0);
    for (let i = 0; i < values.length; i++) {
      (target.set as (...args: number[]) => number)(...index, values[i]!); // row-major order
      for (let k = index.length - 1; k >= 0; k--) {
        if (++index[k]! < leaf.shape[k]!) break;
        index[k] = 0;
      }
    }
    return target as Leaf;
  });
  return unflatten(flat.right.def, leaves);
};

const hyperArb: fc.Arbitrary<LarsOptions> = fc
  .record({
    lr: fc.oneof(
      fc.constantFrom(0, 0.1),
      fc.double({ min: 0, max: 10, noNaN: true }),
      fc.constant((t: number) => 0.5 / (t + 1)),
    ),
    momentum: fc.oneof(fc.constantFrom(0, 0.9), fc.double({ min: 0, max: 1.5, noNaN: true })),
    dampening: fc.oneof(fc.constantFrom(0, 0, 0.1), fc.double({ min: -1, max: 1, noNaN: true })),
    weightDecay: fc.oneof(fc.constantFrom(0, 0, 5e-4), fc.double({ min: 0, max: 2, noNaN: true })),
    nesterov: fc.boolean(),
    scaleClip: fc.option(fc.constantFrom<[number, number]>([0, 10], [0.5, 1], [0, 0], [2, 3])),
  })
  .map(({ scaleClip, nesterov, ...o }) => {
    const withNesterov = nesterov && o.momentum > 0 ? { ...o, dampening: 0, nesterov: true } : { ...o, nesterov: false };
    return scaleClip === null ? withNesterov : { ...withNesterov, scaleClip };
  });

describe("lars() through the generated WebAssembly == its chain in JavaScript, bit for bit", () => {
  it("lars() is its chain: fused, with no step of its own", () => {
    const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    expect(opt.fusable).toBeDefined();
    expect(Object.keys(opt).sort()).toEqual(Object.keys(handChain({ lr: 0.1 })).sort());
  });

  it("params, momentum buffers, ratios, counts, lr over 1–3 steps, any views, donated or not", () => {
    fc.assert(
      fc.property(
        treePlanArb,
        hyperArb,
        fc.integer({ min: 1, max: 3 }),
        fc.boolean(),
        fc.option(viewArb),
        fc.constantFrom("none", "none, no room", "params", "params and grads"),
        fc.integer(),
        (plan, o, steps, donate, traceView, residency, seed) => {
          const fast = spied(o);
          const generic = handChain(o);
          // resident: the compiled path's params (and grads) placed in kernel memory (kernelTree)
          const placed = (tree: Tree, yes: boolean) => (yes ? right(kernelTree(tree)) : tree);
          let [pFast, pGen] = [placed(paramsOf(plan, seed), residency.startsWith("params")), paramsOf(plan, seed)];
          let sFast = fast.opt.init(pFast);
          let sGen = generic.init(pGen);
          if (E.isLeft(sFast) || E.isLeft(sGen)) throw new Error("init failed");
          let stateFast = sFast.right;
          let stateGen = sGen.right;
          // "no room": a kernel memory with no room for results (its owned budget spent), so plain params give plain results
          const room = residency === "none, no room" ? new KernelArena(createKernelMemory(1 << 16)!) : arena;
          room.ownedBudget = residency === "none, no room" ? 0 : room.ownedBudget;
          const previous = swapKernelArena(room);
          try {
            for (let t = 0; t < steps; t++) {
              const grads = placed(gradsOf(plan, seed + 1 + t), residency === "params and grads");
              const relaid = t > 0 && traceView !== null && (stateFast[1] as { trace: Tree | null }).trace !== null;
              if (relaid) {
                // a momentum buffer handed in as a strided view
                const m = stateFast[1] as { kind: string; count: number; trace: Tree };
                stateFast = Object.freeze([stateFast[0], Object.freeze({ ...m, trace: relayout(m.trace, traceView) }), stateFast[2], stateFast[3]]);
              }
              const before = donate ? "" : snapshot([pFast, stateFast, grads]);
              const traceIn = (stateFast[1] as { trace: Tree | null }).trace;
              const inputLeaves = { params: leafList(pFast), trace: traceIn === null ? [] : leafList(traceIn) };
              const genTraceIn = (stateGen[1] as { trace: Tree | null }).trace;
              const genLeaves = { params: leafList(pGen), trace: genTraceIn === null ? [] : leafList(genTraceIn) };
              const taken = fast.calls.taken;
              const a = compiledStep(fast.opt, grads, stateFast, pFast, { donate });
              const b = jsStep(generic, gradsOf(plan, seed + 1 + t), stateGen, pGen, { donate });
              expect(E.isRight(a)).toBe(E.isRight(b));
              if (E.isLeft(a) || E.isLeft(b)) {
                expect(a).toEqual(b); // the same Left (e.g. an overflow to Inf made a norm non-finite)
                return;
              }
              expect(fast.calls.taken).toBe(taken + 1); // the WebAssembly ran this step
              if (!donate) expect(snapshot([pFast, stateFast, grads])).toBe(before); // inputs untouched
              sameBits(a.right[0], b.right[0]);
              sameBits(a.right[1], b.right[1]);
              expect(Object.keys((a.right[1][2] as { ratios: object }).ratios)).toEqual(
                Object.keys((b.right[1][2] as { ratios: object }).ratios),
              );
              expect(frozenness(a.right)).toEqual(frozenness(b.right));
              expect(a.right[1][0]).toBe(b.right[1][0]); // addWeightDecay's constant record, passed through
              const traces = [stateFast, stateGen, a.right[1], b.right[1]].map((s) => (s[1] as { trace: Tree | null }).trace);
              if (residency === "none") {
                // plain params: the results in kernel memory all the same (empty leaves: plain arrays, nothing to run)
                expect(leavesOf(a.right).every((leaf) => leaf.data.length === 0 || room.holds(leaf))).toBe(true);
              } else if (residency === "none, no room") {
                expect(leavesOf(a.right).some((leaf) => room.holds(leaf))).toBe(false);
                if (donate) {
                  // the same storage reused as on the generic path
                  expect(reusedStorage(inputLeaves.params, a.right[0])).toEqual(reusedStorage(genLeaves.params, b.right[0]));
                  if (traces[2] !== null && !relaid)
                    expect(reusedStorage(inputLeaves.trace, traces[2])).toEqual(reusedStorage(genLeaves.trace, traces[3]));
                }
              } else {
                // resident params: results in kernel memory (empty leaves: plain arrays, nothing to run); pure, in new
                // regions; donated (lars refuses nothing), written over the donated regions in place, none taken back
                expect(leavesOf(a.right).every((leaf) => leaf.data.length === 0 || room.holds(leaf))).toBe(true);
                const full = (leaf: Leaf) => leaf.data.length > 0;
                const inPlace = (input: readonly Leaf[], out: unknown) => sameArrays(input, out).filter((_, i) => full(input[i]!));
                expect(inPlace(inputLeaves.params, a.right[0])).toEqual(inputLeaves.params.filter(full).map(() => donate));
                const takenBack = (leaf: Leaf) => room.isSpare(leaf.data as Float32Array);
                expect(inputLeaves.params.filter(full).some(takenBack)).toBe(false);
                if (traces[0] !== null && t > 0 && !relaid) {
                  expect(inPlace(inputLeaves.trace, traces[2])).toEqual(inputLeaves.trace.filter(full).map(() => donate));
                  expect(inputLeaves.trace.filter(full).some(takenBack)).toBe(false);
                }
              }
              if (donate) expect(isDonated(pFast)).toBe(isDonated(pGen));
              [pFast, stateFast] = a.right;
              [pGen, stateGen] = b.right;
            }
          } finally {
            swapKernelArena(previous);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it("an empty tree, a lone 0-d leaf, a lone empty leaf", () => {
    for (const params of [{}, leafOf(Float32Array.of(1.5), []), leafOf(new Float32Array(0), [0, 3])] as Tree[]) {
      const grads = isLeaf(params) ? leafOf(Float32Array.from(denseValues(params), () => 0.25), params.shape) : {};
      const o = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };
      const fast = spied(o);
      const s = fast.opt.init(params);
      const g = handChain(o).init(params);
      if (E.isLeft(s) || E.isLeft(g)) throw new Error("init failed");
      const a = compiledStep(fast.opt, grads, s.right, params);
      const b = jsStep(handChain(o), grads, g.right, params);
      expect(fast.calls.taken).toBe(1);
      sameBits(a, b);
    }
  });
});

describe("inputs the WebAssembly does not take run the JavaScript; every Left is the JavaScript's", () => {
  const o = { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 };
  const tree = (values: number[], Array_: Float32ArrayConstructor | Float64ArrayConstructor = Float32Array): Tree => ({
    w: leafOf(Array_.from(values), [values.length]),
    b: leafOf(Array_.of(0.5), []),
  });

  it("float64 trees: declined, same result as the generic path", () => {
    const fast = spied(o);
    const params = tree([1, -2, 3, 4, 5], Float64Array);
    const grads = tree([0.1, 0.2, -0.3, 0, -0], Float64Array);
    const s = fast.opt.init(params);
    if (E.isLeft(s)) throw new Error(s.left.message);
    const a = compiledStep(fast.opt, grads, s.right, params);
    const b = jsStep(handChain(o), grads, s.right, params);
    expect(fast.calls).toEqual({ taken: 0, declined: 1 });
    expect(E.isRight(a)).toBe(true);
    sameBits(a, b);
  });

  it("a NaN in a grad or an Inf in the params: the generic path's NonFinite Left, inputs untouched even when donated", () => {
    for (const [p, g] of [
      [[1, 2, 3, 4, 5], [0.1, NaN, 0.3, 0, 0]],
      [[1, 2, Infinity, 4, 5], [0.1, 0.2, 0.3, 0, 0]],
    ] as const) {
      for (const donate of [false, true]) {
        const fast = spied(o);
        const params = tree([...p]);
        const grads = tree([...g]);
        const s0 = fast.opt.init(params);
        if (E.isLeft(s0)) throw new Error(s0.left.message);
        // a later step, so the momentum buffers are read too
        const warm = compiledStep(fast.opt, tree([0.5, 0.5, 0.5, 0.5, 0.5]), s0.right, tree([1, 1, 1, 1, 1]));
        if (E.isLeft(warm)) throw new Error(warm.left.message);
        const state = warm.right[1];
        const before = snapshot([params, grads, state]);
        const a = compiledStep(fast.opt, grads, state, params, { donate });
        const b = jsStep(handChain(o), grads, state, params);
        expect(E.isLeft(a)).toBe(true);
        expect(a).toEqual(b);
        expect(E.isLeft(a) && a.left.kind).toBe("NonFinite");
        expect(fast.calls).toEqual({ taken: 2, declined: 0 }); // the executor's Left, before anything was written
        expect(snapshot([params, grads, state])).toBe(before);
        expect(isDonated(params) || isDonated(state)).toBe(false);
      }
    }
  });

  it("a state of another optimizer, a malformed state, a donated state: the generic path's Left", () => {
    const params = tree([1, 2, 3]);
    const grads = tree([0.1, 0.2, 0.3]);
    const fast = spied(o);
    const mine = fast.opt.init(params);
    const other = adam({ lr: 0.1 }).init(params);
    if (E.isLeft(mine) || E.isLeft(other)) throw new Error("init failed");
    const badCount = Object.freeze([mine.right[0], { ...(mine.right[1] as object), count: -1 }, mine.right[2], mine.right[3]]);
    const otherTree = lars(o).init(tree([1, 2]));
    if (E.isLeft(otherTree)) throw new Error("init failed");
    for (const state of [other.right, badCount, otherTree.right, mine.right.slice(0, 3), null]) {
      const a = compiledStep(fast.opt, grads, state as ChainState, params);
      const b = jsStep(handChain(o), grads, state as ChainState, params);
      expect(E.isLeft(a)).toBe(true);
      expect(a).toEqual(b);
    }
    // donated: a second use of a donated state is StateReused, as on the generic path
    const first = compiledStep(fast.opt, grads, mine.right, tree([1, 2, 3]), { donate: true });
    expect(E.isRight(first)).toBe(true);
    const again = compiledStep(fast.opt, grads, mine.right, params);
    expect(E.isLeft(again) && again.left.kind).toBe("StateReused");
    expect(fast.calls).toEqual({ taken: 1, declined: 0 }); // the others are refused before any leaf is bound
  });

  it("a schedule that throws or returns a negative rate: the generic path's InvalidOption Left", () => {
    for (const lr of [() => { throw new Error("boom"); }, () => -1]) {
      const params = tree([1, 2, 3]);
      const grads = tree([0.1, 0.2, 0.3]);
      const fast = spied({ ...o, lr });
      const s = fast.opt.init(params);
      if (E.isLeft(s)) throw new Error(s.left.message);
      const a = compiledStep(fast.opt, grads, s.right, params, { donate: true });
      const b = jsStep(handChain({ ...o, lr }), grads, s.right, params);
      expect(E.isLeft(a) && a.left.kind).toBe("InvalidOption");
      expect(a).toEqual(b);
      expect(isDonated(params)).toBe(false);
    }
  });
});
