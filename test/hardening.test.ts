/**
 * What a plain-JavaScript caller can pass, with no types to guard it (issue 12): missing or mistyped options,
 * things that are not transformations, schedules that return or throw odd values, hostile trees (cycles, deep
 * nesting, throwing getters and Proxy traps, Symbol and non-enumerable keys, "__proto__", keys that spell paths).
 * Every one is a Left naming the problem; nothing is thrown.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import * as larch from "larch";
import {
  adam,
  adamw,
  chain,
  cosineDecay,
  flatten,
  lamb,
  lars,
  larsOptax,
  larsPaper,
  linearWarmup,
  masked,
  multiSteps,
  partition,
  piecewiseConstant,
  polynomialDecay,
  scaleByAdam,
  scaleByLr,
  scaleByTrustRatio,
  sgd,
  skipNonFinite,
  traceMomentum,
  type GradientTransformation,
  type Leaf,
  type OptimizerError,
} from "larch";

const f64 = (xs: number[]) => ndarray(Float64Array.from(xs), [xs.length]) as Leaf;
const params = () => ({ w: f64([1, 2]), b: f64([0.5]) });
const grads = () => ({ w: f64([0.1, -0.2]), b: f64([0.3]) });

const leftOf = <A>(e: E.Either<OptimizerError, A>): OptimizerError => {
  if (E.isRight(e)) throw new Error("expected a Left");
  return e.left;
};

/** init and update both give an InvalidOption Left whose message matches. */
const refuses = (make: () => GradientTransformation<any>, text: RegExp) => {
  let t: GradientTransformation<any> | undefined;
  expect(() => (t = make())).not.toThrow();
  const init = leftOf(t!.init(params()));
  expect(init.kind).toBe("InvalidOption");
  expect(init.message).toMatch(text);
  const update = leftOf(t!.update(grads(), [], params()));
  expect(update.message).toBe(init.message);
};

const optimizers: [string, (o: any) => GradientTransformation<any>][] = [
  ["lars", lars], ["sgd", sgd], ["adam", adam], ["adamw", adamw], ["lamb", lamb], ["larsOptax", larsOptax], ["larsPaper", larsPaper],
];

describe("options as a plain-JavaScript caller passes them", () => {
  for (const [name, make] of optimizers) {
    it(`${name}(), ${name}(null), ${name}({}), ${name}({ momentum: 0.9 }): a Left naming the missing lr`, () => {
      refuses(() => make(undefined), /needs a record of options \{ lr/);
      refuses(() => make(null), /not null/);
      refuses(() => make({}), /missing option lr/);
      refuses(() => make({ momentum: 0.9 }), /missing option lr/);
    });
    it(`${name}: options of the wrong type are refused, not coerced`, () => {
      for (const bad of ["0.1", "", [], false, Symbol("lr"), null, {}])
        refuses(() => make({ lr: bad }), /option lr must be a number or a schedule/);
    });
  }
  it("nesterov must be a boolean, numbers numbers", () => {
    refuses(() => lars({ lr: 0.1, momentum: 0.9, nesterov: "no" as never }), /option nesterov must be a boolean, not "no"/);
    refuses(() => sgd({ lr: 0.1, momentum: 0.9, nesterov: 1 as never }), /option nesterov must be a boolean/);
    refuses(() => adam({ lr: 0.1, b1: "0.5" as never }), /option b1 must be a number, not "0.5"/);
    refuses(() => adamw({ lr: 0.1, eps: [] as never }), /option eps must be a number/);
    refuses(() => scaleByAdam({ b2: false as never }), /option b2 must be a number/);
    refuses(() => traceMomentum({ momentum: Symbol("m") as never }), /option momentum must be a number, not Symbol\(m\)/);
    refuses(() => lars({ lr: 0.1, scaleClip: [0, "1"] as never }), /option scaleClip must be a pair/);
    refuses(() => scaleByTrustRatio(null as never), /scaleByTrustRatio: needs a record/);
  });
  it("a getter that throws, or a Proxy whose traps throw, is a Left naming the option", () => {
    const getter = Object.defineProperty({ lr: 0.1 }, "momentum", { get: () => { throw new Error("no momentum"); }, enumerable: true });
    refuses(() => lars(getter as never), /reading option momentum threw Error: no momentum/);
    const proxy = new Proxy({}, { get: () => { throw Object.create(null); } });
    refuses(() => sgd(proxy as never), /reading option lr threw an object/);
  });
  it("scaleByLr and the schedule factories: a missing or mistyped option is a Left before any step", () => {
    refuses(() => scaleByLr(undefined as never), /scaleByLr: missing option lr/);
    refuses(() => scaleByLr("0.1" as never), /option lr must be a number or a schedule, not "0.1"/);
    refuses(() => scaleByLr(cosineDecay(undefined as never)), /cosineDecay: needs a record of options/);
    refuses(() => scaleByLr(cosineDecay({ init: 0.1 } as never)), /cosineDecay: missing option decaySteps/);
    refuses(() => scaleByLr(polynomialDecay({ init: "1", power: 2, totalSteps: 10 } as never)), /polynomialDecay: option init must be a number/);
    refuses(() => scaleByLr(piecewiseConstant({ values: [0.1, "x"], boundaries: [3] } as never)), /piecewiseConstant: option values must be an array of numbers/);
    refuses(() => scaleByLr(linearWarmup({ steps: 5 }, "0.1" as never)), /linearWarmup: option then must be a number or a schedule/);
    refuses(() => lars({ lr: linearWarmup({ steps: 5 }, cosineDecay({} as never)) }), /linearWarmup: its schedule is refused: cosineDecay: missing option init/);
    expect(cosineDecay({} as never)(3)).toBeNaN();
    expect(() => polynomialDecay({ init: 1, power: 2, totalSteps: 10 })(Symbol() as never)).not.toThrow();
  });
});

describe("option names that no factory declares", () => {
  const lr = 0.1;
  const factories: [string, (o: Record<string, unknown>) => GradientTransformation<unknown>, Record<string, unknown>][] = [
    ["lars", lars as never, { lr, momentum: 0.9 }],
    ["sgd", sgd as never, { lr }],
    ["adam", adam as never, { lr }],
    ["adamw", adamw as never, { lr }],
    ["lamb", lamb as never, { lr }],
    ["larsOptax", larsOptax as never, { lr }],
    ["larsPaper", larsPaper as never, { lr }],
    ["lion", larch.lion as never, { lr }],
    ["adabelief", larch.adabelief as never, { lr }],
    ["nadamw", larch.nadamw as never, { lr }],
    ["radam", larch.radam as never, { lr }],
    ["adan", larch.adan as never, { lr }],
    ["ademamix", larch.ademamix as never, { lr }],
    ["traceMomentum", traceMomentum as never, { momentum: 0.9 }],
    ["scaleByAdam", scaleByAdam as never, {}],
    ["scaleByTrustRatio", scaleByTrustRatio as never, {}],
    ["ema", larch.ema as never, { decay: 0.9 }],
  ];
  for (const [name, make, valid] of factories)
    it(`${name}: a typo (momentun) is an InvalidOption Left naming it and the options ${name} accepts`, () => {
      expect(E.isRight(make(valid).init(params()))).toBe(true);
      const left = leftOf(make({ ...valid, momentun: 0.9 }).init(params()));
      expect(left.kind).toBe("InvalidOption");
      expect(left.message).toMatch(new RegExp(`^${name}: unknown option "momentun" \\(it accepts [a-zA-Z0-9]+(, [a-zA-Z0-9]+)*\\)$`));
    });
  it("schedules too: a refused schedule, which scaleByLr returns at init", () => {
    for (const schedule of [
      cosineDecay({ init: 0.1, decaySteps: 10, alpah: 0.1 } as never),
      polynomialDecay({ init: 0.1, power: 2, totalSteps: 10, ned: 0 } as never),
      larch.warmupCosineDecay({ init: 0, peak: 0.1, warmupSteps: 1, decaySteps: 10, exponant: 2 } as never),
    ])
      expect(leftOf(scaleByLr(schedule).init(params())).message).toMatch(/unknown option "(alpah|ned|exponant)"/);
  });
});

describe("arguments that are not transformations, schedules that return or throw odd values", () => {
  it("chain, partition, masked and the wrappers refuse a non-transformation with a Left", () => {
    refuses(() => chain(traceMomentum({ momentum: 0.9 }), 0.1 as never), /chain: member 1 is 0.1, not a transformation/);
    refuses(() => partition({ a: null as never }, "a"), /the transformation of label "a" is null/);
    refuses(() => partition(undefined as never, "a"), /partition: missing option transforms/);
    refuses(() => masked({ init: 1 } as never, () => true), /the transformation of label "masked" is an object, not a transformation/);
    refuses(() => skipNonFinite(undefined as never), /skipNonFinite: missing option inner/);
    refuses(() => multiSteps(sgd({ lr: 0.1 }), "2" as never), /multiSteps: option k must be a number/);
    refuses(() => larch.asGradient(null as never), /asGradient: option inner must be a transformation/);
    refuses(() => larch.injectHyperparams(lars, null as never), /injectHyperparams: missing option initial|option initial must be/);
    refuses(() => larch.injectHyperparams((() => 1) as never, { lr: 0.1 }), /build returned 1, not a transformation/);
  });
  it("a schedule returning a null-prototype object or an object whose toString throws, or throwing one: a Left naming the step", () => {
    const oddValues = [Object.create(null), { toString: () => { throw new Error("no"); } }, "0.1", 10n];
    for (const odd of oddValues) {
      const opt = sgd({ lr: () => odd });
      const s = opt.init(params());
      expect(E.isRight(s)).toBe(true);
      let step: E.Either<OptimizerError, unknown> | undefined;
      expect(() => (step = opt.update(grads(), (s as E.Right<unknown>).right as never, params()))).not.toThrow();
      expect(leftOf(step!)).toMatchObject({ kind: "InvalidOption", step: 0, message: expect.stringMatching(/Invalid learning rate: .* at step 0/) });
      const thrower = sgd({ lr: () => { throw odd; } });
      const t = leftOf(thrower.update(grads(), (thrower.init(params()) as E.Right<unknown>).right as never, params()));
      expect(t.message).toMatch(/the learning-rate schedule failed at step 0/);
    }
  });
});

describe("hostile trees", () => {
  const w = () => f64([1, 2]);
  it("a cycle is an InvalidTree Left naming where it closes", () => {
    const tree: Record<string, unknown> = { a: { w: w() } };
    (tree.a as Record<string, unknown>).back = tree;
    expect(leftOf(flatten(tree))).toMatchObject({ kind: "InvalidTree", path: "a.back", message: expect.stringMatching(/a cycle/) });
    const arr: unknown[] = [w()];
    arr.push(arr);
    expect(leftOf(flatten(arr))).toMatchObject({ path: "[1]" });
    expect(() => lars({ lr: 0.1 }).init(tree as never)).not.toThrow();
  });
  it("3·10⁴-deep nesting is walked like a flat tree: flatten, unflatten, sameStructure and (10⁴ deep) a donating step, no RangeError", () => {
    const depth = 30_000; // three times what a recursive walk of Node's default stack reaches
    const nest = (leaf: unknown, wrap: (inner: unknown) => unknown, levels = depth) => {
      let t: unknown = leaf;
      for (let i = 0; i < levels; i++) t = wrap(t);
      return t;
    };
    const deep = nest(w(), (inner) => ({ x: inner }));
    const flat = flatten(deep);
    if (E.isLeft(flat)) throw new Error(flat.left.message);
    expect(flat.right.paths).toEqual([Array(depth).fill("x").join(".")]);
    let rebuilt = larch.unflatten(flat.right.def, flat.right.leaves) as unknown;
    for (let i = 0; i < depth; i++) rebuilt = (rebuilt as { x: unknown }).x;
    expect(rebuilt).toBe(flat.right.leaves[0]);
    const short = nest(w(), (inner) => [inner], 10_000);
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    const state = opt.init(short as never);
    if (E.isLeft(state)) throw new Error(state.left.message);
    const step = larch.applyStep(opt, nest(w(), (inner) => [inner], 10_000) as never, state.right, short as never, { donate: true });
    expect(E.isRight(step)).toBe(true);
    expect(larch.isDonated(short)).toBe(true);
    const list = nest(w(), (inner) => [inner], 10_000);
    // a difference 10⁴ levels down is found and named
    const lists = flatten(list);
    const listsAgain = flatten(larch.unflatten(E.isRight(lists) ? lists.right.def : { t: "leaf" }, E.isRight(lists) ? lists.right.leaves : []));
    expect(E.isRight(lists) && E.isRight(listsAgain) && E.isRight(larch.sameStructure(listsAgain.right.def, lists.right.def, ["a", "b"]))).toBe(true);
    const recordInside = flatten(nest({ a: w() } as never, (inner) => [inner], 10_000));
    expect(E.isRight(lists) && E.isRight(recordInside) && leftOf(larch.sameStructure(lists.right.def, recordInside.right.def, ["a", "b"])).path).toBe("[0]".repeat(10_000));
  });
  it("a cycle 10⁴ levels down is still found", () => {
    const root: Record<string, unknown> = {};
    let at = root;
    for (let i = 0; i < 10_000; i++) at = (at["x"] = {}) as Record<string, unknown>;
    at["back"] = root;
    expect(leftOf(flatten(root))).toMatchObject({ kind: "InvalidTree", message: expect.stringMatching(/a cycle/) });
  });
  it("masked: a mask 10⁴ levels deep works, a shared sub-mask is read once and labels every place, a mask inside itself is a Left", () => {
    const decay = (mask: unknown, p: unknown) => {
      const t = masked(larch.addWeightDecay(0.5), mask as never);
      const s = t.init(p as never);
      return E.flatMap((state: unknown) => t.update(p as never, state as never, p as never))(s);
    };
    // u = g + 0.5·p on the masked leaves (here g = p), u = g elsewhere
    let deepMask: unknown = { on: true, off: false };
    let deepParams: unknown = { on: f64([2]), off: f64([2]) };
    for (let i = 0; i < 10_000; i++) [deepMask, deepParams] = [{ x: deepMask }, { x: deepParams }];
    const deep = decay(deepMask, deepParams);
    if (E.isLeft(deep)) throw new Error(deep.left.message);
    let u = deep.right[0] as unknown;
    for (let i = 0; i < 10_000; i++) u = (u as { x: unknown }).x;
    expect([(u as { on: Leaf }).on.data[0], (u as { off: Leaf }).off.data[0]]).toEqual([3, 2]);

    let reads = 0;
    const sub = new Proxy({ w: true, b: false }, { ownKeys: (target) => (reads++, Reflect.ownKeys(target)) });
    const layer = () => ({ w: f64([2]), b: f64([2]) });
    const shared = decay({ l1: sub, l2: sub, l3: [sub, sub] }, { l1: layer(), l2: layer(), l3: [layer(), layer()] });
    if (E.isLeft(shared)) throw new Error(shared.left.message);
    const su = shared.right[0] as { l1: { w: Leaf; b: Leaf }; l2: { w: Leaf; b: Leaf }; l3: { w: Leaf; b: Leaf }[] };
    expect([su.l1, su.l2, ...su.l3].map((l) => [l.w.data[0], l.b.data[0]])).toEqual([[3, 2], [3, 2], [3, 2], [3, 2]]);
    expect(reads).toBe(1);
    // a sub-mask shared 2⁴⁰ ways (each level twice the one below): turned into labels in 40 steps
    let dag: unknown = true;
    for (let i = 0; i < 40; i++) dag = { a: dag, b: [dag] };
    expect(() => masked(sgd({ lr: 0.1 }), dag as never)).not.toThrow();

    const cyclic: Record<string, unknown> = { w: true, inner: { b: false } };
    (cyclic.inner as Record<string, unknown>).back = cyclic;
    const ring: unknown[] = [true];
    ring.push([ring]);
    for (const [mask, path] of [[cyclic, "inner.back"], [ring, "[1][0]"]] as const) {
      const t = masked(sgd({ lr: 0.1 }), mask as never);
      expect(leftOf(t.init(params() as never))).toMatchObject({ kind: "InvalidTree", path, message: expect.stringMatching(/contains itself \(a cycle\)/) });
      expect(leftOf(t.update(grads() as never, {} as never, params() as never)).path).toBe(path);
    }
  });
  it("a getter or a Proxy trap that throws is a Left naming the path", () => {
    const getter = { fc: Object.defineProperty({ b: w() }, "w", { get: () => { throw new Error("gone"); }, enumerable: true }) };
    expect(leftOf(flatten(getter))).toMatchObject({ kind: "InvalidTree", path: "fc.w", message: expect.stringMatching(/reading it threw Error: gone/) });
    // a large record, whose values the walk reads at once when its keys are in order: the same Left, at the same path
    const large = () => {
      const record: Record<string, unknown> = {};
      for (let i = 0; i < 40; i++) record[`k${String(i).padStart(3, "0")}`] = w();
      return record;
    };
    const throwing = Object.defineProperty(large(), "k020", { get: () => { throw new Error("gone"); }, enumerable: true });
    expect(leftOf(flatten({ fc: throwing }))).toMatchObject({ kind: "InvalidTree", path: "fc.k020", message: expect.stringMatching(/reading it threw Error: gone/) });
    const shrinking = large();
    Object.defineProperty(shrinking, "k005", { get: () => (delete shrinking["k030"], w()), enumerable: true, configurable: true });
    expect(leftOf(flatten({ fc: shrinking }))).toMatchObject({ kind: "InvalidTree", path: "fc.k030", message: expect.stringMatching(/is undefined/) });
    const trap = { fc: new Proxy({ w: w() }, { ownKeys: () => { throw Object.create(null); } }) };
    expect(leftOf(flatten(trap))).toMatchObject({ kind: "InvalidTree", path: "fc" });
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    expect(leftOf(flatten({ a: revoked.proxy })).path).toBe("a");
    expect(leftOf(flatten(revoked.proxy)).kind).toBe("InvalidTree");
  });
  it("Symbol and non-enumerable keys are a Left, not dropped", () => {
    expect(leftOf(flatten({ w: w(), [Symbol("s")]: w() })).message).toMatch(/has a Symbol key Symbol\(s\)/);
    const hidden = Object.defineProperty({ b: w() }, "w", { value: w(), enumerable: false });
    expect(leftOf(flatten({ fc: hidden }))).toMatchObject({ path: "fc", message: expect.stringMatching(/non-enumerable key "w"/) });
    // in a record of any size (a record of 1000 leaves was not looked at before)
    const large: Record<string, unknown> = {};
    for (let i = 0; i < 1000; i++) large[`w${i}`] = w();
    expect(E.isRight(flatten(large))).toBe(true);
    Object.defineProperty(large, "hidden", { value: w(), enumerable: false });
    expect(leftOf(flatten({ fc: large }))).toMatchObject({ path: "fc", message: expect.stringMatching(/non-enumerable key "hidden"/) });
  });
  it('an own "__proto__" key (as JSON.parse makes) is kept: not lost, never a leaf', () => {
    const tree = JSON.parse('{"__proto__": {"w": 0}, "b": 0}') as Record<string, unknown>;
    (tree["__proto__"] as Record<string, unknown>).w = w();
    tree.b = w();
    const flat = flatten(tree);
    expect(E.isRight(flat) && flat.right.paths).toEqual(["__proto__.w", "b"]);
    const opt = sgd({ lr: 0.1, momentum: 0.9 });
    const s0 = opt.init(tree as never);
    expect(E.isRight(s0)).toBe(true);
    const step = opt.update(tree as never, (s0 as E.Right<unknown>).right as never, tree as never);
    expect(E.isRight(step)).toBe(true);
    const [u] = (step as E.Right<readonly [unknown, unknown]>).right;
    expect(Object.getPrototypeOf(u)).toBe(Object.prototype);
    expect(Object.keys(u as object)).toEqual(["__proto__", "b"]);
    const again = flatten(u);
    expect(E.isRight(again) && again.right.paths).toEqual(["__proto__.w", "b"]);
    const single = JSON.parse('{"__proto__": 0}') as Record<string, unknown>;
    single["__proto__"] = w();
    const one = flatten(single);
    expect(E.isRight(one) && one.right.paths).toEqual(["__proto__"]);
    const s1 = scaleByTrustRatio().init(single as never);
    expect(E.isRight(s1) && Object.keys((s1.right as { ratios: object }).ratios)).toEqual(["__proto__"]);
  });
  it('keys "a.b" beside a: { b } (or "a[0]" beside a: [x]) never collapse into one path', () => {
    expect(leftOf(flatten({ "a.b": w(), a: { b: w() } }))).toMatchObject({ kind: "InvalidTree", path: "a.b", message: expect.stringMatching(/path of two leaves/) });
    expect(leftOf(flatten({ "a[0]": w(), a: [w()] }))).toMatchObject({ path: "a[0]" });
    expect(leftOf(flatten({ "": { b: w() }, b: w() }))).toMatchObject({ path: "b" });
    expect(leftOf(lars({ lr: 0.1 }).init({ "a.b": w(), a: { b: w() } } as never)).kind).toBe("InvalidTree");
    // a flat record of full paths, as partition hands its groups, stays valid
    const groups = flatten({ "fc.bias": w(), "fc.weight": w() });
    expect(E.isRight(groups) && groups.right.paths).toEqual(["fc.bias", "fc.weight"]);
  });
});
