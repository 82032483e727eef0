/**
 * Bad input to the composed optimizers and new transformations: invalid options, non-finite values, missing
 * params, foreign states, mismatched trees. Each is a Left with a clear message; nothing is thrown or mutated.
 * Also: every optimizer leaves its inputs untouched, and the elementwise ones fuse with the same bits as unfused.
 */
import { fc, test } from "@fast-check/vitest";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  adam,
  adamw,
  addWeightDecay,
  applyUpdates,
  chain,
  chainUnfused,
  lamb,
  larsOptax,
  larsPaper,
  scaleByAdam,
  scaleByLr,
  scaleByTrustRatio,
  scaleByUpdateTrustRatio,
  sgd,
  traceMomentum,
  type GradientTransformation,
  type Leaf,
} from "larch";
import { gradsOf, paramsOf, treeCase } from "./arbitraries.js";
import { bitsOf, right } from "./bits.js";

const leaf = (xs: number[]) => ndarray(new Float64Array(xs)) as Leaf;
const params = { fc: { weight: leaf([1, -2, 3]), bias: leaf([0, 0]) } };
const grads = { fc: { weight: leaf([0.5, 0.1, -0.3]), bias: leaf([0.2, -0.1]) } };

const invalid: [string, GradientTransformation<any>, RegExp][] = [
  ["sgd: negative lr", sgd({ lr: -1 }), /learning rate: -1/],
  ["sgd: negative momentum", sgd({ lr: 0.1, momentum: -0.5 }), /momentum value: -0.5/],
  ["sgd: negative weight decay", sgd({ lr: 0.1, weightDecay: -1 }), /weight_decay value: -1/],
  ["sgd: nesterov without momentum", sgd({ lr: 0.1, nesterov: true }), /Nesterov momentum requires/],
  ["sgd: nesterov with dampening", sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, nesterov: true }), /Nesterov momentum requires/],
  ["adam: b1 = 1", adam({ lr: 0.1, b1: 1 }), /beta parameter at index 0: 1/],
  ["adam: negative b2", adam({ lr: 0.1, b2: -0.1 }), /beta parameter at index 1: -0.1/],
  ["adam: negative eps", adam({ lr: 0.1, eps: -1 }), /epsilon value: -1/],
  ["adam: NaN lr", adam({ lr: NaN }), /learning rate: NaN/],
  ["adamw: negative weight decay", adamw({ lr: 0.1, weightDecay: -0.01 }), /weight_decay value: -0.01/],
  ["adamw: NaN b1", adamw({ lr: 0.1, b1: NaN }), /beta parameter at index 0: NaN/],
  ["lamb: b1 > 1", lamb({ lr: 0.1, b1: 1.5 }), /beta parameter at index 0: 1.5/],
  ["lamb: infinite lr", lamb({ lr: Infinity }), /learning rate: Infinity/],
  ["larsOptax: zero trust coefficient", larsOptax({ lr: 1, trustCoefficient: 0 }), /trust coefficient: 0/],
  ["larsOptax: negative eps", larsOptax({ lr: 1, eps: -1 }), /eps: -1/],
  ["larsOptax: negative momentum", larsOptax({ lr: 1, momentum: -1 }), /momentum value: -1/],
  ["larsPaper: negative trust coefficient", larsPaper({ lr: 1, trustCoefficient: -1 }), /trust coefficient: -1/],
  ["larsPaper: NaN weight decay", larsPaper({ lr: 1, weightDecay: NaN }), /weight_decay value: NaN/],
  ["scaleByUpdateTrustRatio: infinite eps", scaleByUpdateTrustRatio({ eps: Infinity }), /eps: Infinity/],
];

describe("invalid options", () => {
  for (const [what, opt, message] of invalid)
    it(`${what}: an InvalidOption Left at init and at update`, () => {
      const init = opt.init(params);
      expect(E.isLeft(init) && init.left).toMatchObject({ kind: "InvalidOption", message: expect.stringMatching(message) });
      const step = opt.update(grads, [] as never, params);
      expect(E.isLeft(step) && step.left).toMatchObject({ kind: "InvalidOption", message: expect.stringMatching(message) });
    });
});

describe("non-finite values, missing params, foreign states, mismatched trees", () => {
  const withNaN = { fc: { weight: leaf([0.5, NaN, -0.3]), bias: leaf([0.2, -0.1]) } };

  it("lamb: a NaN gradient is a NonFinite Left naming the leaf and the step, and the state handed in is untouched", () => {
    const opt = lamb({ lr: 0.01 });
    const s0 = right(opt.init(params));
    const [, s1] = right(opt.update(grads, s0, params));
    const before = bitsOf(s1);
    const step = opt.update(withNaN, s1, params);
    expect(E.isLeft(step) && step.left).toMatchObject({ kind: "NonFinite", path: "fc.weight", step: 1 });
    expect(E.isLeft(step) && step.left.message).toMatch(/update fc.weight contains NaN at step 1/);
    expect(bitsOf(s1)).toBe(before);
  });

  it("larsOptax: an infinite parameter is a NonFinite Left naming the parameter", () => {
    const opt = larsOptax({ lr: 1 });
    const bad = { fc: { weight: leaf([1, Infinity, 3]), bias: leaf([0, 0]) } };
    const step = opt.update(grads, right(opt.init(bad)), bad);
    expect(E.isLeft(step) && step.left.message).toMatch(/parameter fc.weight contains ±Inf at step 0/);
  });

  it("scaleByUpdateTrustRatio without params is a MissingParams Left", () => {
    const t = scaleByUpdateTrustRatio();
    const step = t.update(grads, right(t.init(params)));
    expect(E.isLeft(step) && step.left.kind).toBe("MissingParams");
  });

  it("adam given sgd's state is a StateMismatch Left", () => {
    const step = adam({ lr: 0.1 }).update(grads, right(sgd({ lr: 0.1, momentum: 0.9 }).init(params)), params);
    expect(E.isLeft(step) && step.left.kind).toBe("StateMismatch");
  });

  it("adam's moments made for another tree are a StateMismatch Left naming the path", () => {
    const other = { fc: { weight: leaf([1, 2]), bias: leaf([0, 0]) } };
    const step = adam({ lr: 0.1 }).update(grads, right(adam({ lr: 0.1 }).init(other)), params);
    expect(E.isLeft(step) && step.left).toMatchObject({ kind: "StateMismatch", path: "fc.weight" });
  });

  it("lamb with params of another structure is a StructureMismatch Left", () => {
    const opt = lamb({ lr: 0.01 });
    const step = opt.update(grads, right(opt.init(params)), { fc: { weight: leaf([1, 2, 3]) } });
    expect(E.isLeft(step) && step.left.kind).toBe("StructureMismatch");
  });
});

const optimizers: Record<string, () => GradientTransformation<any>> = {
  sgd: () => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-3 }),
  adam: () => adam({ lr: 0.01, weightDecay: 0.01 }),
  adamw: () => adamw({ lr: 0.01 }),
  lamb: () => lamb({ lr: 0.01, weightDecay: 0.01 }),
  larsOptax: () => larsOptax({ lr: 0.5, weightDecay: 1e-3, nesterov: true }),
  larsPaper: () => larsPaper({ lr: 0.5, weightDecay: 1e-3 }),
};

test.prop([treeCase(3), fc.constantFrom(...Object.keys(optimizers)), fc.constantFrom("float32" as const, "float64" as const)], { numRuns: 60 })(
  "no optimizer changes its inputs, and the states it returns are frozen",
  (c, name, dt) => {
    const opt = optimizers[name]!();
    let p = paramsOf(c, dt);
    let s = right(opt.init(p));
    for (let t = 0; t < 3; t++) {
      const g = gradsOf(c, t, dt);
      const before = [bitsOf(p), bitsOf(g), bitsOf(s)];
      const [u, next] = right(opt.update(g, s, p));
      expect([bitsOf(p), bitsOf(g), bitsOf(s)]).toEqual(before);
      expect(Object.isFrozen(next) && (next as unknown[]).every((m) => Object.isFrozen(m))).toBe(true);
      [p, s] = [right(applyUpdates(p, u)), next];
    }
  },
);

describe("fusion", () => {
  const members: Record<string, () => GradientTransformation<any>[]> = {
    sgd: () => [addWeightDecay(1e-3), traceMomentum({ momentum: 0.9, dampening: 0.1 }), scaleByLr(0.1)],
    adam: () => [addWeightDecay(0.01), scaleByAdam({}), scaleByLr(0.01)],
    adamw: () => [scaleByAdam({}), addWeightDecay(0.01), scaleByLr(0.01)],
    larsPaper: () => [addWeightDecay(1e-3), scaleByTrustRatio({ weightDecay: 1e-3, trustCoefficient: 0.001 }), scaleByLr(0.5), traceMomentum({ momentum: 0.9 })],
  };

  it("sgd, adam, adamw and larsPaper fuse; lamb and larsOptax (a trust ratio of the update) run member by member", () => {
    for (const name of Object.keys(optimizers)) expect([name, optimizers[name]!().fusable !== undefined]).toEqual([name, name in members]);
  });

  test.prop([treeCase(3), fc.constantFrom(...Object.keys(members)), fc.constantFrom("float32" as const, "float64" as const)], { numRuns: 60 })(
    "each fused chain gives the bits of the same members run one after another",
    (c, name, dt) => {
      const fused = chain(...members[name]!());
      const unfused = chainUnfused(...members[name]!());
      let p = paramsOf(c, dt);
      let [sf, su] = [right(fused.init(p)), right(unfused.init(p))];
      for (let t = 0; t < 3; t++) {
        const [uf, nf] = right(fused.update(gradsOf(c, t, dt), sf, p));
        const [uu, nu] = right(unfused.update(gradsOf(c, t, dt), su, p));
        expect(bitsOf(uf)).toBe(bitsOf(uu));
        expect(bitsOf(nf)).toBe(bitsOf(nu));
        [p, sf, su] = [right(applyUpdates(p, uf)), nf, nu];
      }
    },
  );
});
