/** Properties of the wrappers: skipNonFinite, multiSteps, clipByGlobalNorm, injectHyperparams, asGradient. */
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  adam,
  applyUpdates,
  asGradient,
  chain,
  clipByGlobalNorm,
  flatten,
  injectHyperparams,
  lars,
  multiSteps,
  setHyperparam,
  sgd,
  skipNonFinite,
  type ChainState,
  type GradientTransformation,
  type Leaf,
  type MultiStepsState,
  type SkipNonFiniteState,
  type Tree,
} from "larch";
import { gradsOf, paramsOf, treeCase, type TreeCase } from "./arbitraries.js";
import { bitsOf, right, treeNorm } from "./bits.js";

const inners: Record<string, () => GradientTransformation<any>> = {
  sgd: () => sgd({ lr: 0.1, momentum: 0.9, weightDecay: 1e-3 }),
  adam: () => adam({ lr: 0.01 }),
  lars: () => lars({ lr: 0.1, momentum: 0.9, weightDecay: 5e-4 }),
};
const innerName = fc.constantFrom(...Object.keys(inners));
const dtype = fc.constantFrom("float32" as const, "float64" as const);

/** A copy of the gradients of step t with one element of one leaf replaced by `bad`. */
const poisoned = (c: TreeCase, t: number, dt: "float32" | "float64", leafPick: number, elemPick: number, bad: number): Tree => {
  const names = Object.keys(c);
  const name = names[leafPick % names.length]!;
  const l = c[name]!;
  const g = [...l.grads[t]!];
  g[elemPick % g.length] = bad;
  return gradsOf({ ...c, [name]: { ...l, grads: l.grads.map((x, s) => (s === t ? g : x)) } }, t, dt);
};

describe("skipNonFinite", () => {
  test.prop([treeCase(4), innerName, dtype, fc.nat(), fc.nat(), fc.constantFrom(NaN, Infinity, -Infinity), fc.integer({ min: 0, max: 3 })], {
    numRuns: 60,
  })("a step with a NaN or ±Inf gradient leaves the params and the inner state as they were, and counts the skip", (c, inner, dt, lp, ep, bad, at) => {
    const opt = skipNonFinite(inners[inner]!());
    const plain = inners[inner]!();
    let params = paramsOf(c, dt);
    let state = right(opt.init(params));
    let plainParams = params;
    let plainState = right(plain.init(plainParams));
    for (let t = 0; t < 4; t++) {
      if (t === at) {
        const before = bitsOf(params);
        const [u, next] = right(opt.update(poisoned(c, t, dt, lp, ep, bad), state, params));
        params = right(applyUpdates(params, u));
        expect(bitsOf(params)).toBe(before); // p + (−0) = p, bit for bit
        expect(next.inner).toBe(state.inner);
        expect([next.count, next.skipped, next.consecutive]).toEqual([state.count + 1, state.skipped + 1, state.consecutive + 1]);
        expect(next.lastSkip).toMatch(/NaN|Inf/);
        state = next;
      }
      // the finite steps run exactly as the inner optimizer alone on the finite steps
      const [u, next] = right(opt.update(gradsOf(c, t, dt), state, params));
      expect(next.consecutive).toBe(0);
      params = right(applyUpdates(params, u));
      state = next;
      const [pu, pnext] = right(plain.update(gradsOf(c, t, dt), plainState, plainParams));
      plainParams = right(applyUpdates(plainParams, pu));
      plainState = pnext;
      expect(bitsOf(params)).toBe(bitsOf(plainParams));
      expect(bitsOf(state.inner)).toBe(bitsOf(plainState));
    }
    expect(state.skipped).toBe(1);
  });

  it("catches the NonFinite Left of lars's trust ratio (a NaN parameter) and skips the step", () => {
    const params = { w: ndarray(new Float64Array([1, NaN])) as Leaf };
    const grads = { w: ndarray(new Float64Array([0.5, 0.5])) as Leaf };
    const inner = lars({ lr: 0.1 });
    expect(E.isLeft(inner.update(grads, right(inner.init(params)), params))).toBe(true);
    const opt = skipNonFinite(inner);
    const s0 = right(opt.init(params));
    const [u, s1] = right(opt.update(grads, s0, params));
    expect(Array.from((u as { w: Leaf }).w.data)).toEqual([-0, -0]);
    expect(s1.inner).toBe(s0.inner);
    expect(s1.skipped).toBe(1);
    expect(s1.lastSkip).toMatch(/parameter w contains NaN/);
  });

  it("returns the other Lefts of the inner transformation (a state of another optimizer)", () => {
    const params = { w: ndarray(new Float64Array([1, 2])) as Leaf };
    const opt = skipNonFinite(sgd({ lr: 0.1, momentum: 0.9 }));
    const bad = { ...right(opt.init(params)), inner: right(adam({ lr: 0.1 }).init(params)) } as SkipNonFiniteState;
    const step = opt.update(params, bad, params);
    expect(E.isLeft(step) && step.left.kind).toBe("StateMismatch");
  });
});

describe("multiSteps", () => {
  test.prop([treeCase(4), innerName, dtype], { numRuns: 60 })("with k = 1 it is the inner transformation, bit for bit", (c, inner, dt) => {
    const opt = multiSteps(inners[inner]!(), 1);
    const plain = inners[inner]!();
    let params = paramsOf(c, dt);
    let s = right(opt.init(params));
    let ps = right(plain.init(params));
    for (let t = 0; t < 4; t++) {
      const [u, next] = right(opt.update(gradsOf(c, t, dt), s, params));
      const [pu, pnext] = right(plain.update(gradsOf(c, t, dt), ps, params));
      expect(bitsOf(u)).toBe(bitsOf(pu));
      expect(bitsOf(next.inner)).toBe(bitsOf(pnext));
      [params, s, ps] = [right(applyUpdates(params, u)), next, pnext];
    }
  });

  test.prop([treeCase(6), innerName, fc.integer({ min: 2, max: 3 })], { numRuns: 60 })(
    "with k > 1: no change between, then one inner step on the mean of the k gradients (float64)",
    (c, inner, k) => {
      const opt = multiSteps(inners[inner]!(), k);
      const plain = inners[inner]!();
      let params = paramsOf(c);
      let s: MultiStepsState = right(opt.init(params));
      let ps = right(plain.init(params));
      for (let t = 0; t < 6; t++) {
        const [u, next] = right(opt.update(gradsOf(c, t), s, params));
        if ((t + 1) % k !== 0) {
          const before = bitsOf(params);
          params = right(applyUpdates(params, u));
          expect(bitsOf(params)).toBe(before);
          expect(next.inner).toBe(s.inner);
        } else {
          // the mean, summed in order and divided, written here without larch
          const mean = gradsOf(
            Object.fromEntries(
              Object.entries(c).map(([n, l]) => {
                const g = l.grads.slice(t + 1 - k, t + 1);
                return [n, { ...l, grads: [g[0]!.map((_, i) => g.reduce((a, gs) => a + gs[i]!, -0) / k)] }];
              }),
            ),
            0,
          );
          const [pu, pnext] = right(plain.update(mean, ps, params));
          expect(bitsOf(u)).toBe(bitsOf(pu));
          expect(bitsOf(next.inner)).toBe(bitsOf(pnext));
          ps = pnext;
          params = right(applyUpdates(params, u));
        }
        s = next;
      }
    },
  );

  it("refuses k that is not a whole number >= 1", () => {
    for (const k of [0, -1, 1.5, NaN]) {
      const init = multiSteps(sgd({ lr: 0.1 }), k).init({ w: ndarray(new Float64Array([1])) as Leaf });
      expect(E.isLeft(init) && init.left.kind).toBe("InvalidOption");
    }
  });
});

describe("clipByGlobalNorm", () => {
  test.prop([treeCase(1, 50), dtype, fc.double({ min: 0, max: 100, noNaN: true })], { numRuns: 200 })(
    "never increases the global norm, is the identity at or below the threshold, and clips to it above",
    (c, dt, maxNorm) => {
      const opt = clipByGlobalNorm(maxNorm);
      const g = gradsOf(c, 0, dt);
      const before = bitsOf(g);
      const [u, s] = right(opt.update(g, right(opt.init(g))));
      expect(bitsOf(g)).toBe(before); // input untouched
      const n = treeNorm(g);
      const out = treeNorm(u);
      expect(out).toBeLessThanOrEqual(n);
      expect(s.norm).toBeCloseTo(n, 10);
      if (n <= maxNorm) expect(bitsOf(u)).toBe(before);
      else expect(Math.abs(out - maxNorm)).toBeLessThanOrEqual((dt === "float32" ? 1e-6 : 1e-12) * Math.max(1, maxNorm));
    },
  );

  it("reports a NaN or ±Inf update as a NonFinite Left naming the leaf, and refuses a bad threshold", () => {
    const g = { a: ndarray(new Float32Array([1])) as Leaf, b: ndarray(new Float32Array([Infinity, 2])) as Leaf };
    const opt = clipByGlobalNorm(1);
    const step = opt.update(g, right(opt.init(g)));
    expect(E.isLeft(step) && [step.left.kind, step.left.path]).toEqual(["NonFinite", "b"]);
    for (const c of [-1, NaN, Infinity]) expect(E.isLeft(clipByGlobalNorm(c).init(g))).toBe(true);
  });

  it("keeps float64 norms near the limits finite", () => {
    const g = { a: ndarray(new Float64Array([3e200, 4e200])) as Leaf };
    const opt = clipByGlobalNorm(1);
    const [u, s] = right(opt.update(g, right(opt.init(g))));
    expect(s.norm).toBeCloseTo(5e200, -188);
    expect(Array.from((u as { a: Leaf }).a.data)).toEqual([0.6, 0.8].map((x) => expect.closeTo(x, 12)));
  });
});

describe("injectHyperparams", () => {
  test.prop([treeCase(6), fc.integer({ min: 1, max: 5 }), fc.double({ min: 0, max: 1, noNaN: true })], { numRuns: 60 })(
    "is build(h) while h is unchanged, and build(h′) with the same inner state after setHyperparam",
    (c, switchAt, lr2) => {
      const opt = injectHyperparams((h) => lars(h), { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 });
      let params = paramsOf(c);
      let s = right(opt.init(params));
      let plainState: ChainState = right(lars({ lr: 0.1, momentum: 0.9, weightDecay: 1e-3 }).init(params));
      for (let t = 0; t < 6; t++) {
        if (t === switchAt) {
          const before = bitsOf(s);
          const next = right(setHyperparam(s, "lr", lr2));
          expect(bitsOf(s)).toBe(before); // the old state is untouched
          expect(next.hyperparams).toEqual({ lr: lr2, momentum: 0.9, weightDecay: 1e-3 });
          s = next;
        }
        const plain = lars({ lr: t >= switchAt ? lr2 : 0.1, momentum: 0.9, weightDecay: 1e-3 });
        const [u, next] = right(opt.update(gradsOf(c, t), s, params));
        const [pu, pnext] = right(plain.update(gradsOf(c, t), plainState, params));
        expect(bitsOf(u)).toBe(bitsOf(pu));
        expect(bitsOf(next.inner)).toBe(bitsOf(pnext));
        [params, s, plainState] = [right(applyUpdates(params, u)), next, pnext];
      }
    },
  );

  it("refuses unknown names, values of another type and foreign states; an invalid value fails the next update", () => {
    const params = { w: ndarray(new Float64Array([1, 2])) as Leaf };
    const opt = injectHyperparams((h) => sgd(h), { lr: 0.1, momentum: 0.9, nesterov: false });
    const s = right(opt.init(params));
    expect(E.isLeft(setHyperparam(s, "lrr" as "lr", 0.2))).toBe(true);
    expect(E.isLeft(setHyperparam(s, "nesterov", 1 as unknown as boolean))).toBe(true);
    expect(E.isLeft(setHyperparam(right(sgd({ lr: 0.1 }).init(params)) as never, "lr", 0.2))).toBe(true);
    const bad = opt.update(params, right(setHyperparam(s, "lr", -1)), params);
    expect(E.isLeft(bad) && bad.left).toMatchObject({ kind: "InvalidOption", message: expect.stringMatching(/learning rate: -1/) });
    const renamed = { ...s, hyperparams: { lr: 0.1, momentum: 0.9 } } as unknown as typeof s;
    expect(E.isLeft(opt.update(params, renamed, params))).toBe(true);
  });

  it("keeps the hyper-parameters in the state as plain data", () => {
    const params = { w: ndarray(new Float32Array([1, 2])) as Leaf };
    const opt = injectHyperparams((h) => adam(h), { lr: 1e-3, b1: 0.9 });
    const s = right(opt.init(params));
    expect(s).toMatchObject({ kind: "injectHyperparams", hyperparams: { lr: 1e-3, b1: 0.9 } });
    expect(Object.isFrozen(s) && Object.isFrozen(s.hyperparams)).toBe(true);
    expect(right(flatten(params)).leaves.length).toBe(1);
  });
});

describe("asGradient", () => {
  test.prop([treeCase(3, 5), fc.double({ min: 0.1, max: 3, noNaN: true }), dtype], { numRuns: 60 })(
    "chain(clip, asGradient(lars)) is lars run on the clipped gradient; without asGradient, γ reads the unclipped one",
    (c, maxNorm, dt) => {
      const o = { lr: 0.1, momentum: 0.9, weightDecay: 1e-2 };
      const opt = chain(clipByGlobalNorm(maxNorm), asGradient(lars(o)));
      const clip = clipByGlobalNorm(maxNorm);
      const plain = lars(o);
      let params = paramsOf(c, dt);
      let s = right(opt.init(params));
      let [cs, ps] = [right(clip.init(params)), right(plain.init(params))];
      for (let t = 0; t < 3; t++) {
        const [u, next] = right(opt.update(gradsOf(c, t, dt), s, params));
        const [clipped, cnext] = right(clip.update(gradsOf(c, t, dt), cs, params));
        const [pu, pnext] = right(plain.update(clipped, ps, params));
        expect(bitsOf(u)).toBe(bitsOf(pu));
        expect(bitsOf(next)).toBe(bitsOf([cnext, pnext]));
        [params, s, cs, ps] = [right(applyUpdates(params, u)), next, cnext, pnext];
      }
    },
  );

  it("without it, a nested chain's trust ratio reads the outer chain's raw gradient", () => {
    const params = { w: ndarray(new Float64Array([3, 4])) as Leaf };
    const grads = { w: ndarray(new Float64Array([30, 40])) as Leaf }; // ‖g‖ = 50, clipped to 1
    const ratioOf = (opt: GradientTransformation<any>) => {
      const [, s] = right(opt.update(grads, right(opt.init(params)), params));
      return ((s[1] as unknown[])[2] as { ratios: Record<string, number> }).ratios.w;
    };
    expect(ratioOf(chain(clipByGlobalNorm(1), lars({ lr: 0.1 })))).toBe(5 / 50); // γ = ‖p‖ / ‖g‖, unclipped
    expect(ratioOf(chain(clipByGlobalNorm(1), asGradient(lars({ lr: 0.1 }))))).toBe(5 / 1); // γ of the clipped g
  });
});

describe("injectHyperparams with a hand-made state", () => {
  it("reads a mutable hyper-parameter record afresh at every step (no stale cache)", () => {
    const params = { w: ndarray(new Float64Array([1, 2])) as Leaf };
    const grads = { w: ndarray(new Float64Array([1, 1])) as Leaf };
    const opt = injectHyperparams((h) => sgd(h), { lr: 0.1 });
    const s0 = right(opt.init(params));
    const h = { lr: 0.1 };
    const state = { ...s0, hyperparams: h };
    const first = right(opt.update(grads, state, params))[0];
    h.lr = 0.2;
    const second = right(opt.update(grads, state, params))[0];
    expect(Array.from((first as { w: Leaf }).w.data)).toEqual([-0.1, -0.1]);
    expect(Array.from((second as { w: Leaf }).w.data)).toEqual([-0.2, -0.2]);
  });
});
