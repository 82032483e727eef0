/**
 * chain's runs: maximal runs of consecutive fusable members fused, the members that are not run between them.
 * The same bits and the same Left as the members in turn (chainUnfused), through update and applyStep, with
 * nothing mutated; adafactor and muon keep their state layout.
 */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import { describe, expect, it } from "vitest";
import {
  adafactor,
  applyStep,
  applyUpdates,
  chain,
  chainUnfused,
  defineElementwise,
  muon,
  optimizerError,
  type GradientTransformation,
  type Tree,
} from "larch";
import { applyStepWith } from "../../src/core/step.js";
import { mixedPieceArb } from "../support/pieces.js";
import { makeTree, treeSpecArb, type TreeSpec } from "../support/trees.js";
import { bitsOf } from "./bits.js";

const jsStep = applyStepWith(undefined);

/** `steps` updates (then applyUpdates) from init: every step's updates, state and params as bits, or the first Left. */
const byUpdate = (opt: GradientTransformation<any>, spec: TreeSpec, seed: number, steps: number): string[] => {
  let params: Tree = makeTree(spec, seed);
  let state = opt.init(params);
  if (E.isLeft(state)) return [JSON.stringify(state.left)];
  let s = state.right;
  const out: string[] = [];
  for (let t = 0; t < steps; t++) {
    const grads = makeTree(spec, seed + 1 + t, 0.1);
    const before = bitsOf([grads, s, params]);
    const step = opt.update(grads, s, params);
    expect(bitsOf([grads, s, params])).toBe(before); // nothing mutated
    if (E.isLeft(step)) return [...out, JSON.stringify(step.left)];
    const next = applyUpdates(params, step.right[0]);
    if (E.isLeft(next)) return [...out, JSON.stringify(next.left)];
    [params, s] = [next.right, step.right[1]];
    out.push(bitsOf([step.right, params]));
  }
  return out;
};

describe("chain fuses runs of fusable members between the others", () => {
  it("random chains mixing fusable and non-fusable pieces: update gives chainUnfused's bits (float32 and float64, strided views)", () => {
    fc.assert(
      fc.property(fc.array(mixedPieceArb, { minLength: 1, maxLength: 6 }), treeSpecArb(), fc.integer({ min: 1, max: 3 }), fc.integer(), (pieces, spec, steps, seed) => {
        const make = () => pieces.map((p) => p.make());
        expect(byUpdate(chain(...make()), spec, seed, steps)).toEqual(byUpdate(chainUnfused(...make()), spec, seed, steps));
      }),
      { numRuns: 60 },
    );
  });

  it("nested: a chain whose members are partly fusable chains gives the bits of every member in turn", () => {
    fc.assert(
      fc.property(fc.array(mixedPieceArb, { minLength: 2, maxLength: 6 }), fc.integer({ min: 1, max: 5 }), treeSpecArb(), fc.integer(), (pieces, cut, spec, seed) => {
        const make = () => pieces.map((p) => p.make());
        const m = make();
        const nested = chain(chain(...m.slice(0, cut)), chain(...m.slice(cut)));
        const flat = chainUnfused(chainUnfused(...make().slice(0, cut)), chainUnfused(...make().slice(cut)));
        expect(byUpdate(nested, spec, seed, 2)).toEqual(byUpdate(flat, spec, seed, 2));
      }),
      { numRuns: 30 },
    );
  });

  /** A member that refuses one leaf in its per-leaf checks (by index), with its own message. */
  const refusing = (name: string, at: number) =>
    defineElementwise({
      name,
      hyperparams: { at },
      state: { kind: name },
      bodies: { step: { u: "2 * u" } },
      step: () => E.right({ body: "step", leaf: (input) => (input.index === at ? E.left(optimizerError("NonFinite", `${name} refuses leaf ${at}`)) : E.right({})) }),
    });

  it("when two members of a run fail on one step, the Left is the members' in turn (the first member's, at its later leaf)", () => {
    const spec: TreeSpec = { a: { shape: [3], dtype: "float32", view: "dense" }, b: { shape: [4], dtype: "float32", view: "dense" } };
    const params = makeTree(spec, 1);
    const grads = makeTree(spec, 2, 0.1);
    const make = (f: typeof chain) => f(refusing("first", 1), refusing("second", 0));
    const reference = make(chainUnfused).update(grads, E.getOrElseW(() => [])(make(chainUnfused).init(params)), params);
    expect(E.isLeft(reference) && reference.left.message).toBe("first refuses leaf 1");
    const opt = make(chain);
    const state = E.getOrElseW(() => [])(opt.init(params));
    expect(opt.update(grads, state, params)).toEqual(reference);
    expect(applyStep(opt, grads, state, params)).toEqual(reference);
    expect(jsStep(opt, grads, state, params)).toEqual(reference);
  });

  it("adafactor and muon: applyStep (WebAssembly or JavaScript, donated or not) gives the bits of update + applyUpdates", () => {
    const spec: TreeSpec = {
      conv: { shape: [6, 3, 3, 3], dtype: "float32", view: "dense" },
      fc: { weight: { shape: [5, 9], dtype: "float32", view: "dense" }, bias: { shape: [5], dtype: "float32", view: "dense" } },
    };
    for (const make of [
      () => adafactor({ lr: 1e-2, minDimSizeToFactor: 3, momentum: 0.9, weightDecayRate: 1e-3 }),
      () => adafactor({}),
      () => muon({ lr: 0.02, weightDecay: 1e-3 }),
    ]) {
      const reference = byUpdate(make(), spec, 4, 3);
      for (const donate of [false, true])
        for (const stepper of [applyStep, jsStep]) {
          const opt = make();
          let params: Tree = makeTree(spec, 4);
          let state: any = E.getOrElseW(() => undefined)(opt.init(params));
          const out: string[] = [];
          for (let t = 0; t < 3; t++) {
            const grads = makeTree(spec, 5 + t, 0.1);
            const [u] = E.getOrElseW(() => [undefined])(opt.update(grads, state, params));
            const step = stepper(opt, grads, state, params, { donate });
            if (E.isLeft(step)) throw new Error(step.left.message);
            [params, state] = step.right;
            out.push(bitsOf([[u, state], params]));
          }
          expect(out).toEqual(reference);
        }
    }
  });
});
