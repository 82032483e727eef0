/** fast-check properties of the core: purity, determinism, the laws of chain, fusion, and LARS's invariances. */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  addWeightDecay,
  applyUpdates,
  chain,
  chainUnfused,
  denseValues,
  flatten,
  identity,
  lars,
  scaleByLr,
  scaleByTrustRatio,
  traceMomentum,
  type GradientTransformation,
  type Tree,
} from "larch";
import { bits, makeTree, snapshot, treeSpecArb, type TreeSpec } from "./support/trees.js";

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** Runs `steps` updates from init with gradients drawn from the seed; returns every output (updates, state, params). */
const run = (opt: GradientTransformation<any>, spec: TreeSpec, seed: number, steps: number) => {
  let params = makeTree(spec, seed);
  let state = right(opt.init(params));
  const outputs: { updates: Tree; state: unknown; params: Tree }[] = [];
  for (let t = 0; t < steps; t++) {
    const grads = makeTree(spec, seed + 1000 * (t + 1), 0.1);
    const [updates, next] = right(opt.update(grads, state, params));
    params = right(applyUpdates(params, updates));
    state = next;
    outputs.push({ updates, state, params });
  }
  return outputs;
};

/** Everything a run produced, as bits: updates, params, and every leaf or number in the state. */
const fingerprint = (outputs: ReturnType<typeof run>): string =>
  JSON.stringify(
    outputs.map((o) => [bits(o.updates), bits(o.params), JSON.stringify(o.state, (k, v) => (v?.data ? bits(v) : Number.isNaN(v) ? "NaN" : v))]),
  );

const larsOptionsArb = fc.record({
  lr: fc.double({ min: 1e-4, max: 1, noNaN: true }),
  momentum: fc.constantFrom(0, 0.5, 0.9),
  dampening: fc.constantFrom(0, 0.1),
  weightDecay: fc.constantFrom(0, 1e-4, 5e-3),
  nesterov: fc.boolean(),
}).map((o) => ({ ...o, nesterov: o.nesterov && o.momentum > 0 && o.dampening === 0 }));

const handChain = (o: { lr: number; momentum: number; dampening: number; weightDecay: number; nesterov: boolean }) =>
  chainUnfused(
    addWeightDecay(o.weightDecay),
    traceMomentum({ momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov }),
    scaleByTrustRatio({ weightDecay: o.weightDecay }),
    scaleByLr(o.lr),
  );

const seedArb = fc.integer({ min: 0, max: 2 ** 30 });
const PROPS = { numRuns: 60 };

describe("purity and determinism", () => {
  it("never changes an input: params, gradients, state (every byte of every storage)", () => {
    fc.assert(
      fc.property(treeSpecArb(), seedArb, larsOptionsArb, (spec, seed, o) => {
        const opt = lars(o);
        const params = makeTree(spec, seed);
        const grads = makeTree(spec, seed + 1, 0.1);
        const state0 = right(opt.init(params));
        const [, state1] = right(opt.update(grads, state0, params)); // a state with live buffers
        const before = [snapshot(params), snapshot(grads), JSON.stringify(state1, (k, v) => (v?.data ? snapshot(v) : v))];
        const [updates] = right(opt.update(grads, state1, params));
        right(applyUpdates(params, updates));
        const after = [snapshot(params), snapshot(grads), JSON.stringify(state1, (k, v) => (v?.data ? snapshot(v) : v))];
        expect(after).toEqual(before);
      }),
      PROPS,
    );
  });

  it("returns frozen trees and state records", () => {
    const spec: TreeSpec = { fc: { w: { shape: [2, 3], dtype: "float32", view: "dense" }, b: { shape: [3], dtype: "float32", view: "dense" } } };
    const { updates, state, params } = run(lars({ lr: 0.1, momentum: 0.9, weightDecay: 1e-4 }), spec, 7, 1)[0]!;
    const s = state as readonly any[];
    for (const x of [updates, (updates as any).fc, params, s, s[0], s[1], s[1].trace, s[1].trace.fc, s[2], s[2].ratios, s[3]])
      expect(Object.isFrozen(x)).toBe(true);
    // leaves larch makes: the view, its shape and strides (the values' storage cannot be frozen)
    for (const leaf of [(updates as any).fc.w, (params as any).fc.b, s[1].trace.fc.w])
      for (const x of [leaf, leaf.shape, leaf.stride]) expect(Object.isFrozen(x)).toBe(true);
  });

  it("gives bit-identical outputs for identical inputs", () => {
    fc.assert(
      fc.property(treeSpecArb(), seedArb, larsOptionsArb, (spec, seed, o) => {
        expect(fingerprint(run(lars(o), spec, seed, 3))).toBe(fingerprint(run(lars(o), spec, seed, 3)));
      }),
      PROPS,
    );
  });
});

describe("laws of chain", () => {
  const member = (k: number, o: { lr: number; momentum: number; weightDecay: number }): GradientTransformation<any> =>
    [addWeightDecay(o.weightDecay), traceMomentum({ momentum: o.momentum }), scaleByTrustRatio({ weightDecay: o.weightDecay }), scaleByLr(o.lr)][k % 4]!;

  it("chain(identity(), t) and chain(t, identity()) behave as t", () => {
    fc.assert(
      fc.property(treeSpecArb(), seedArb, larsOptionsArb, fc.integer({ min: 0, max: 3 }), (spec, seed, o, k) => {
        const t = member(k, o);
        const updatesOf = (opt: GradientTransformation<any>) => run(opt, spec, seed, 3).map((x) => [bits(x.updates), bits(x.params)]);
        expect(updatesOf(chain(identity(), t))).toEqual(updatesOf(t));
        expect(updatesOf(chain(t, identity()))).toEqual(updatesOf(t));
      }),
      PROPS,
    );
  });

  it("is associative: chain(chain(a, b), c) = chain(a, chain(b, c)) = chain(a, b, c)", () => {
    fc.assert(
      fc.property(treeSpecArb(), seedArb, larsOptionsArb, fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 3, maxLength: 3 }), (spec, seed, o, ks) => {
        const [a, b, c] = ks.map((k) => member(k, o)) as [any, any, any];
        const updatesOf = (opt: GradientTransformation<any>) => run(opt, spec, seed, 3).map((x) => [bits(x.updates), bits(x.params)]);
        const flatChain = updatesOf(chain(a, b, c));
        expect(updatesOf(chain(chain(a, b), c))).toEqual(flatChain);
        expect(updatesOf(chain(a, chain(b, c)))).toEqual(flatChain);
      }),
      PROPS,
    );
  });

  it("lars(o) equals its chain written by hand and run unfused, bit for bit (the fused path is exact)", () => {
    fc.assert(
      fc.property(treeSpecArb(), seedArb, larsOptionsArb, (spec, seed, o) => {
        expect(fingerprint(run(lars(o), spec, seed, 4))).toBe(fingerprint(run(handChain(o), spec, seed, 4)));
      }),
      PROPS,
    );
  });

  it("fused and unfused chains agree bit for bit on leaves larger than a block", () => {
    const spec: TreeSpec = { big: { shape: [3, 2500], dtype: "float32", view: "transposed" }, small: { shape: [7], dtype: "float64", view: "reversed" } };
    const o = { lr: 0.3, momentum: 0.9, dampening: 0, weightDecay: 1e-3, nesterov: true };
    expect(fingerprint(run(lars(o), spec, 11, 5))).toBe(fingerprint(run(handChain(o), spec, 11, 5)));
  });
});

describe("LARS invariances", () => {
  it("with weight decay 0, scaling every gradient by c > 0 leaves the updates unchanged (up to rounding)", () => {
    fc.assert(
      fc.property(treeSpecArb("float64"), seedArb, larsOptionsArb, fc.double({ min: 1e-3, max: 1e3, noNaN: true }), (spec, seed, o, c) => {
        const opt = lars({ ...o, weightDecay: 0 });
        const params = makeTree(spec, seed);
        const grads = makeTree(spec, seed + 1, 0.1);
        const scaled = makeTree(spec, seed + 1, 0.1 * c);
        const state = right(opt.init(params));
        const [u1] = right(opt.update(grads, state, params));
        const [u2] = right(opt.update(scaled, state, params));
        const v1 = leafValues(u1);
        const v2 = leafValues(u2);
        v1.forEach((x, i) => expect(Math.abs(x - v2[i]!)).toBeLessThanOrEqual(1e-12 * Math.max(1, Math.abs(x))));
      }),
      PROPS,
    );
  });

  it("steps random trees of random shapes, dtypes and strides without error", () => {
    fc.assert(
      fc.property(treeSpecArb(), seedArb, larsOptionsArb, (spec, seed, o) => {
        const outputs = run(lars(o), spec, seed, 3);
        expect(outputs).toHaveLength(3);
        for (const x of outputs) expect(leafValues(x.params).every(Number.isFinite)).toBe(true);
      }),
      PROPS,
    );
  });
});

const leafValues = (tree: Tree): number[] => right(flatten(tree)).leaves.flatMap((l) => Array.from(denseValues(l)));
