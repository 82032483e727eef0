/** applyStep: one pass per leaf, the same bits as update + applyUpdates, and donation that is never silently wrong. */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  adam,
  applyStep,
  applyUpdates,
  chainUnfused,
  addWeightDecay,
  clipByGlobalNorm,
  chain,
  denseValues,
  flatten,
  isDonated,
  lamb,
  lars,
  partition,
  scaleByLr,
  scaleByTrustRatio,
  sgd,
  skipNonFinite,
  traceMomentum,
  unflatten,
  type GradientTransformation,
  type Leaf,
  type Tree,
} from "larch";
import { bits, makeTree, snapshot, treeSpecArb, type TreeSpec } from "./support/trees.js";

const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};

/** A state as bits: leaves by value, numbers exactly (NaN and −0 included). */
const stateBits = (state: unknown): string =>
  JSON.stringify(state, (_k, v) =>
    v?.data ? bits(v) : typeof v === "number" && (Number.isNaN(v) || Object.is(v, -0)) ? String(v) : v,
  );

const gradsAt = (spec: TreeSpec, seed: number, t: number): Tree => makeTree(spec, seed + 1000 * (t + 1), 0.1);

/** `steps` steps through update + applyUpdates: the reference. */
const byUpdate = (opt: GradientTransformation<any>, spec: TreeSpec, seed: number, steps: number): string[] => {
  let params = makeTree(spec, seed);
  let state = right(opt.init(params));
  const out: string[] = [];
  for (let t = 0; t < steps; t++) {
    const [updates, next] = right(opt.update(gradsAt(spec, seed, t), state, params));
    params = right(applyUpdates(params, updates));
    state = next;
    out.push(JSON.stringify(bits(params)) + stateBits(state));
  }
  return out;
};

/** The same steps through applyStep, donating or not. */
const byApplyStep = (opt: GradientTransformation<any>, spec: TreeSpec, seed: number, steps: number, donate: boolean): string[] => {
  let params = makeTree(spec, seed);
  let state = right(opt.init(params));
  const out: string[] = [];
  for (let t = 0; t < steps; t++) {
    [params, state] = right(applyStep(opt, gradsAt(spec, seed, t), state, params, { donate }));
    out.push(JSON.stringify(bits(params)) + stateBits(state));
  }
  return out;
};

const labels = (spec: TreeSpec) => (params: Tree) =>
  Object.fromEntries(right(flatten(params)).paths.map((p, i) => [p, i % 2 === 0 ? "a" : "b"]));

const OPTIMIZERS: Record<string, (spec: TreeSpec) => GradientTransformation<any>> = {
  "lars (fused)": () => lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-3 }),
  "lars, nesterov, dampening 0": () => lars({ lr: 0.05, momentum: 0.5, weightDecay: 1e-4, nesterov: true }),
  "lars without momentum or decay (kernels skipped)": () => lars({ lr: 0.1 }),
  "lars as an unfused chain": () =>
    chainUnfused(addWeightDecay(5e-3), traceMomentum({ momentum: 0.9 }), scaleByTrustRatio({ weightDecay: 5e-3 }), scaleByLr(0.1)),
  "sgd, dampening": () => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }),
  adam: () => adam({ lr: 1e-3, weightDecay: 1e-2 }),
  "lamb (not fusable)": () => lamb({ lr: 1e-3 }),
  "clip then sgd (not fusable)": () => chain(clipByGlobalNorm(0.5), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1)),
  partition: (spec) => partition({ a: lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-3 }), b: sgd({ lr: 0.01 }) }, labels(spec)),
};

describe("applyStep equals update + applyUpdates, bit for bit", () => {
  for (const [name, make] of Object.entries(OPTIMIZERS))
    it(name, () => {
      fc.assert(
        fc.property(treeSpecArb(), fc.integer({ min: 1, max: 1e6 }), (spec, seed) => {
          const opt = make(spec);
          const reference = byUpdate(opt, spec, seed, 3);
          expect(byApplyStep(opt, spec, seed, 3, false)).toEqual(reference);
          expect(byApplyStep(opt, spec, seed, 3, true)).toEqual(reference);
        }),
        { numRuns: 25 },
      );
    });

  it("runs leaves of more than one block (BLOCK = 2048 values) and a 0-d leaf", () => {
    const spec: TreeSpec = {
      big: { shape: [3, 2049], dtype: "float32", view: "dense" },
      odd: { shape: [4097], dtype: "float64", view: "dense" },
      scalar: { shape: [], dtype: "float32", view: "dense" },
      strided: { shape: [70, 40], dtype: "float32", view: "transposed" },
    };
    const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    const reference = byUpdate(opt, spec, 7, 3);
    expect(byApplyStep(opt, spec, 7, 3, false)).toEqual(reference);
    expect(byApplyStep(opt, spec, 7, 3, true)).toEqual(reference);
  });
});

describe("applyStep without donation is pure", () => {
  it("leaves params, grads and state as they were", () => {
    fc.assert(
      fc.property(treeSpecArb(), fc.integer({ min: 1, max: 1e6 }), (spec, seed) => {
        const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-3 });
        const params = makeTree(spec, seed);
        const state = right(applyStep(opt, gradsAt(spec, seed, 0), right(opt.init(params)), params))[1];
        const grads = gradsAt(spec, seed, 1);
        const before = [snapshot(params), snapshot(grads), stateBits(state)];
        right(applyStep(opt, grads, state, params));
        expect([snapshot(params), snapshot(grads), stateBits(state)]).toEqual(before);
        expect(isDonated(state) || isDonated(params)).toBe(false);
      }),
      { numRuns: 30 },
    );
  });
});

const dense = (values: number[]): Leaf => ndarray(Float32Array.from(values), [values.length]) as Leaf;

describe("donation", () => {
  const opt = lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
  const setup = () => {
    const params = { w: dense([1, 2, 3, 4]), b: dense([0.5, -0.5]) };
    const grads = { w: dense([0.1, 0.2, 0.3, 0.4]), b: dense([0.01, 0.02]) };
    const state = right(opt.init(params));
    return { params, grads, state };
  };

  it("writes the new params and momentum buffers into the donated storage", () => {
    const { params, grads, state } = setup();
    const [p1, s1] = right(applyStep(opt, grads, state, params, { donate: true }));
    const [p2, s2] = right(applyStep(opt, grads, s1, p1, { donate: true }));
    const w = (t: Tree) => (t as { w: Leaf }).w;
    const trace = (s: unknown) => w((s as [unknown, { trace: Tree }])[1].trace);
    expect(w(p1).data).toBe(params.w.data);
    expect(w(p2).data).toBe(params.w.data);
    expect(trace(s2).data).toBe(trace(s1).data);
    expect(isDonated(params) && isDonated(p1) && isDonated(state) && isDonated(s1)).toBe(true);
    expect(isDonated(p2) || isDonated(s2) || isDonated(grads)).toBe(false);
    // a leaf larch made (p1's) is dead too, wherever it is used again
    expect(isDonated(w(p1)) && isDonated(trace(s1))).toBe(true);
    const again = flatten({ kept: w(p1) });
    expect(E.isLeft(again) && again.left.kind).toBe("StateReused");
  });

  it("refuses a donated state or params tree with StateReused, everywhere they can be passed", () => {
    const { params, grads, state } = setup();
    const [p1, s1] = right(applyStep(opt, grads, state, params, { donate: true }));
    const kinds = [
      applyStep(opt, grads, state, p1),
      applyStep(opt, grads, s1, params),
      opt.update(grads, state, p1),
      applyUpdates(params, grads),
      flatten({ w: params.w }),
      flatten(params),
      applyStep(opt, grads, state, p1, { donate: true }),
    ].map((r) => (E.isLeft(r) ? r.left.kind : "Right"));
    expect(kinds).toEqual(Array(kinds.length).fill("StateReused"));
    const leafUse = flatten({ fresh: params.b });
    expect(E.isLeft(leafUse) && leafUse.left.message).toMatch(/fresh.*donated/);
    // the step's own results go on working
    expect(E.isRight(applyStep(opt, grads, s1, p1))).toBe(true);
  });

  it("keeps alive what the step's results still hold: a skipped step's unchanged state, a leaf that is also a gradient", () => {
    // a skipped step (NaN gradient) returns the inner state as it was: its momentum buffers stay usable
    const skipping = skipNonFinite(opt);
    const { params, grads } = setup();
    const [p1, s1] = right(applyStep(skipping, grads, right(skipping.init(params)), params, { donate: true }));
    const nan = { w: dense([0.1, 0.2, 0.3, NaN]), b: dense([0.01, 0.02]) };
    const [p2, s2] = right(applyStep(skipping, nan, s1, p1, { donate: true }));
    expect(isDonated(s1) && isDonated(p1)).toBe(true);
    const [p3] = right(applyStep(skipping, grads, s2, p2, { donate: true }));
    const fresh = setup(); // the same three steps without donation
    const [q1, t1] = right(applyStep(skipping, fresh.grads, right(skipping.init(fresh.params)), fresh.params));
    const [q2, t2] = right(applyStep(skipping, nan, t1, q1));
    expect(bits(p3)).toEqual(bits(right(applyStep(skipping, fresh.grads, t2, q2))[0]));
    // a params leaf that is also the gradient is still held by the caller's grads: not dead, not overwritten
    const shared = dense([1, 2]);
    const before = Array.from(shared.data);
    const mixed = { w: dense([1, 2, 3, 4]), b: shared };
    right(applyStep(opt, { w: dense([0.1, 0.2, 0.3, 0.4]), b: shared }, right(opt.init(mixed)), mixed, { donate: true }));
    expect([isDonated(shared), isDonated(mixed.w), Array.from(shared.data)]).toEqual([false, true, before]);
  });

  it("gives fresh storage to leaves that share a buffer or are strided views, and still computes the same bits", () => {
    const shared = new Float32Array([1, 2, 3, 4, 5, 6]);
    const params = {
      a: ndarray(shared.subarray(0, 3), [3]) as Leaf,
      b: ndarray(shared.subarray(3, 6), [3]) as Leaf,
      t: (ndarray(Float32Array.from([1, 2, 3, 4, 5, 6]), [2, 3]) as Leaf).transpose(1, 0) as Leaf,
    };
    const grads = { a: dense([0.1, 0.2, 0.3]), b: dense([0.3, 0.2, 0.1]), t: ndarray(Float32Array.from([1, 1, 2, 2, 3, 3]), [3, 2]) as Leaf };
    const storage = () => [shared, params.t.data].map((d) => Array.from(d));
    const before = storage();
    const expected = bits(right(applyStep(opt, grads, right(opt.init(params)), params))[0]);
    const [next] = right(applyStep(opt, grads, right(opt.init(params)), params, { donate: true }));
    expect(bits(next)).toEqual(expected);
    expect(storage()).toEqual(before); // not overwritten: these leaves got fresh storage
  });

  it("reuses no storage reached twice or viewed by a gradient: the same bits as without donation, the gradients unchanged", () => {
    // each case builds its trees afresh: a step of larch's (its leaves larch's own storage), then the case's inputs
    const sgdish = chain(traceMomentum({ momentum: 0.9 }), traceMomentum({ momentum: 0.5 }), scaleByLr(0.1));
    const start = (o: GradientTransformation<any>) => {
      const { params, grads } = setup();
      return { grads, made: right(applyStep(o, grads, right(o.init(params)), params)) };
    };
    const w = (t: unknown) => (t as { w: Leaf }).w;
    const cases: Record<string, () => { o: GradientTransformation<any>; grads: Tree; state: unknown; params: Tree }> = {
      "a member's state in two slots": () => {
        const { grads, made } = start(sgdish);
        const s = made[1] as readonly unknown[];
        return { o: sgdish, grads, state: [s[0], s[0], s[2]], params: made[0] };
      },
      "a params leaf of larch's that is also its gradient": () => {
        const { made } = start(opt);
        return { o: opt, grads: made[0], state: made[1], params: made[0] };
      },
      "a caller's view of a params leaf's buffer as a gradient": () => {
        const { grads, made } = start(opt);
        const p = w(made[0]);
        return { o: opt, grads: { ...grads, w: ndarray(new Float32Array(p.data.buffer), [4]) as Leaf }, state: made[1], params: made[0] };
      },
      "a caller's leaf in the state over a params leaf's storage": () => {
        const { grads, made } = start(sgdish);
        const s = made[1] as readonly { trace: Tree }[];
        const trace = { ...s[0]!.trace, w: ndarray(w(made[0]).data, [4]) as Leaf };
        return { o: sgdish, grads, state: [{ ...s[0], trace }, s[1], s[2]], params: made[0] };
      },
      "a params leaf of larch's also in the state, and a caller's view of it in the state": () => {
        const { grads, made } = start(sgdish);
        const s = made[1] as readonly { trace: Tree }[];
        const p = w(made[0]);
        const first = { ...s[0], trace: { ...s[0]!.trace, w: p } };
        const second = { ...s[1], trace: { ...s[1]!.trace, w: ndarray(p.data, [4]) as Leaf } };
        return { o: sgdish, grads, state: [first, second, s[2]], params: made[0] };
      },
      "a caller's leaf both a param and in the state": () => {
        const { params, grads } = setup();
        const state = right(sgdish.init(params)) as readonly { trace: Tree }[];
        return { o: sgdish, grads, state: [{ ...state[0], trace: params }, state[1], state[2]], params };
      },
    };
    for (const [name, make] of Object.entries(cases)) {
      const pure = make();
      const expected = right(applyStep(pure.o, pure.grads, pure.state, pure.params));
      const donated = make();
      const gradsBefore = snapshot(donated.grads);
      const got = right(applyStep(donated.o, donated.grads, donated.state, donated.params, { donate: true }));
      expect([name, bits(got[0]), stateBits(got[1])]).toEqual([name, bits(expected[0]), stateBits(expected[1])]);
      if (name !== "a params leaf of larch's that is also its gradient") expect([name, snapshot(donated.grads)]).toEqual([name, gradsBefore]);
    }
  });

  it("property: random trees with random sharing between gradients, params and state give the undonated bits", () => {
    const o = chain(traceMomentum({ momentum: 0.9 }), traceMomentum({ momentum: 0.5 }), scaleByLr(0.1));
    type Trace = { readonly trace: Tree };
    // each way a caller can make two inputs share storage, applied to leaf k (mod the leaf count) of a step's inputs
    const kinds = ["gradIsParam", "gradViewsParam", "gradViewsState", "stateSlotRepeated", "stateHoldsParam", "stateViewsParam", "paramViewsState"] as const;
    const edit = fc.record({ kind: fc.constantFrom(...kinds), k: fc.nat(50) });
    const replaced = (tree: Tree, k: number, leaf: (old: Leaf) => Leaf): Tree => {
      const flat = right(flatten(tree));
      return unflatten(flat.def, flat.leaves.map((l, i) => (i === k % flat.leaves.length ? leaf(l) : l)), flat.paths);
    };
    const leafAt = (tree: Tree, k: number): Leaf => {
      const leaves = right(flatten(tree)).leaves;
      return leaves[k % leaves.length]!;
    };
    const view = (of: Leaf, like: Leaf): Leaf => {
      const d = of.data;
      const data = d instanceof Float32Array ? new Float32Array(d.buffer, d.byteOffset, d.length) : new Float64Array(d.buffer, d.byteOffset, d.length);
      return ndarray(data, [...like.shape]) as Leaf;
    };
    fc.assert(
      fc.property(treeSpecArb(), fc.integer({ min: 1, max: 1e6 }), fc.array(edit, { minLength: 1, maxLength: 3 }), (spec, seed, edits) => {
        const params0 = makeTree(spec, seed);
        const [p1, s1] = right(applyStep(o, gradsAt(spec, seed, 0), right(o.init(params0)), params0)) as readonly [Tree, readonly Trace[]];
        let grads = gradsAt(spec, seed, 1);
        let params: Tree = p1;
        let state: readonly Trace[] = s1;
        const withTrace = (slot: number, trace: Tree) => state.map((s, i) => (i === slot ? { ...s, trace } : s));
        for (const { kind, k } of edits) {
          const p = leafAt(params, k);
          if (kind === "gradIsParam") grads = replaced(grads, k, () => p);
          if (kind === "gradViewsParam") grads = replaced(grads, k, (g) => view(p, g));
          if (kind === "gradViewsState") grads = replaced(grads, k, (g) => view(leafAt(state[1]!.trace, k), g));
          if (kind === "stateSlotRepeated") state = [state[0]!, state[0]!, state[2]!];
          if (kind === "stateHoldsParam") state = withTrace(0, replaced(state[0]!.trace, k, () => p));
          if (kind === "stateViewsParam") state = withTrace(1, replaced(state[1]!.trace, k, (t) => view(p, t)));
          if (kind === "paramViewsState") params = replaced(params, k, (q) => view(leafAt(state[0]!.trace, k), q));
        }
        const valuesOf = (tree: Tree) => right(flatten(tree)).leaves.map((l) => Array.from(denseValues(l)));
        const gradValues = valuesOf(grads);
        const expected = right(applyStep(o, grads, state, params));
        const got = right(applyStep(o, grads, state, params, { donate: true }));
        expect([bits(got[0]), stateBits(got[1])]).toEqual([bits(expected[0]), stateBits(expected[1])]);
        // the gradients are never written, even where they share storage with what was donated
        expect(valuesOf(grads)).toEqual(gradValues);
      }),
      { numRuns: 60 },
    );
  });

  it("on a Left (NaN in the last leaf) writes nothing and donates nothing", () => {
    const { params, grads, state } = setup();
    const [p1, s1] = right(applyStep(opt, grads, state, params, { donate: true }));
    const bad = { b: dense([0.01, 0.02]), w: dense([0.1, 0.2, 0.3, NaN]) }; // w comes last in leaf order
    const before = [snapshot(p1), stateBits(s1)];
    const step = applyStep(opt, bad, s1, p1, { donate: true });
    expect(E.isLeft(step) && step.left.kind).toBe("NonFinite");
    expect([snapshot(p1), stateBits(s1)]).toEqual(before);
    expect(isDonated(p1) || isDonated(s1)).toBe(false);
    expect(E.isRight(applyStep(opt, grads, s1, p1))).toBe(true);
  });
});
