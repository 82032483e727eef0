/**
 * Every optimizer the library can build, rebuilt from its spec (through JSON, as a recording keeps it) and its
 * state: the rebuilt one has the same spec and steps bit for bit as the original, from the start and from a
 * state in mid-run (what seek does), in float32 and float64.
 */
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import {
  adafactor,
  adaptiveGradClip,
  adam,
  adabelief,
  adamw,
  adan,
  ademamix,
  addWeightDecay,
  applyEvery,
  applyUpdates,
  asGradient,
  chain,
  chainUnfused,
  clip,
  clipByGlobalNorm,
  constantSchedule,
  cosineDecay,
  ema,
  encodeState,
  exponentialDecay,
  identity,
  injectHyperparams,
  joinSchedules,
  labelByPath,
  lamb,
  lars,
  larsOptax,
  larsPaper,
  linearWarmup,
  lion,
  lookahead,
  masked,
  multiSteps,
  muon,
  nadamw,
  oneCycle,
  partition,
  piecewiseConstant,
  polynomialDecay,
  radam,
  rebuildOptimizer,
  scaleByAdam,
  scaleByLr,
  scaleByMuon,
  scaleByRms,
  scaleByTrustRatio,
  scheduleFree,
  scheduleFreeAdamw,
  scaleByUpdateTrustRatio,
  setHyperparam,
  sgd,
  sgdr,
  skipLargeUpdates,
  skipNonFinite,
  specOf,
  traceMomentum,
  warmupCosineDecay,
  zeroNans,
  type Dtype,
  type GradientTransformation,
  type HyperValue,
  type MaskTree,
  type Tree,
} from "larch";
import { gradAt, larsPartition, nanAt, realParams } from "./runs.js";

type Grad = (params: Tree, t: number) => Tree;
type Point = { params: Tree; state: unknown };

/** n steps of `opt` from `start`, the first at step `from`: every point, `start` first. */
const stepsFrom = (opt: GradientTransformation<any>, start: Point, from: number, n: number, grad: Grad): Point[] => {
  const points = [start];
  for (let t = from; t < from + n; t++) {
    const { params, state } = points[points.length - 1]!;
    const step = opt.update(grad(params, t), state, params);
    if (E.isLeft(step)) throw new Error(`${opt.name} at step ${t}: ${step.left.message}`);
    const next = applyUpdates(params, step.right[0]);
    if (E.isLeft(next)) throw new Error(next.left.message);
    points.push({ params: next.right, state: step.right[1] });
  }
  return points;
};

/** The checkpoint bytes of a point, as a string to compare. */
const bytesOf = (point: unknown): string => E.match((e: { message: string }) => `not encodable: ${e.message}`, (b: Uint8Array) => Buffer.from(b).toString("base64"))(encodeState(point));

/** A spec as a recording keeps it: through JSON. */
const recorded = (opt: GradientTransformation<any>): HyperValue => JSON.parse(JSON.stringify(specOf(opt))) as HyperValue;

const initOf = (opt: GradientTransformation<any>, params: Tree): unknown => {
  const s = opt.init(params);
  if (E.isLeft(s)) throw new Error(s.left.message);
  return s.right;
};

/** A mask of {@link realParams}: the weights and kernels. */
const weightsMask: MaskTree = { scale: false, fc: { weight: true, bias: false }, conv: [{ kernel: true }, { kernel: true, bias: false }] };
const byPath = (params: Tree) => labelByPath(params, (path) => (path.startsWith("conv") ? "conv" : "rest"));

/** One case per optimizer name (and per kind of lr where a schedule can appear), with the gradients it runs on. */
const cases: [string, () => GradientTransformation<any>, Grad?][] = [
  ["identity", () => identity()],
  ["chain", () => chain(clipByGlobalNorm(100), addWeightDecay(1e-3), traceMomentum({ momentum: 0.8, dampening: 0.1 }), scaleByLr(0.05))],
  ["chainUnfused", () => chainUnfused(addWeightDecay(1e-3), traceMomentum({ momentum: 0.9 }), scaleByLr(0.1))],
  ["addWeightDecay", () => addWeightDecay(1e-4)],
  ["traceMomentum", () => traceMomentum({ momentum: 0.9, nesterov: true })],
  ["scaleByTrustRatio", () => scaleByTrustRatio({ weightDecay: 1e-3, scaleClip: [0, 10], trustCoefficient: 0.02 })],
  ["scaleByUpdateTrustRatio", () => scaleByUpdateTrustRatio({ trustCoefficient: 0.01, eps: 1e-6 })],
  ["scaleByAdam", () => scaleByAdam({ b1: 0.8, b2: 0.99, eps: 1e-7 })],
  ["clipByGlobalNorm", () => clipByGlobalNorm(0.3)],
  ["scaleByLr (number)", () => scaleByLr(0.3)],
  ["scaleByLr (constant)", () => scaleByLr(constantSchedule(0.3))],
  ["scaleByLr (polynomialDecay)", () => scaleByLr(polynomialDecay({ init: 0.5, power: 2, totalSteps: 4, end: 0.01 }))],
  ["scaleByLr (cosineDecay)", () => scaleByLr(cosineDecay({ init: 0.1, decaySteps: 4, alpha: 0.1 }))],
  ["scaleByLr (piecewiseConstant)", () => scaleByLr(piecewiseConstant({ values: [0.1, 0.03, 0.01], boundaries: [2, 4] }))],
  ["scaleByLr (linearWarmup to a number)", () => scaleByLr(linearWarmup({ steps: 3, start: 0.01 }, 0.2))],
  ["scaleByLr (linearWarmup to cosineDecay)", () => scaleByLr(linearWarmup({ steps: 2 }, cosineDecay({ init: 0.1, decaySteps: 3 })))],
  ["scaleByLr (linearWarmup to linearWarmup to piecewiseConstant)", () => scaleByLr(linearWarmup({ steps: 1 }, linearWarmup({ steps: 2, start: 0.5 }, piecewiseConstant({ values: [1, 0.1], boundaries: [1] }))))],
  ["scaleByLr (exponentialDecay)", () => scaleByLr(exponentialDecay({ init: 0.1, transitionSteps: 2, decayRate: 0.5, transitionBegin: 1, staircase: true, end: 0.02 }))],
  ["scaleByLr (exponentialDecay, no end)", () => scaleByLr(exponentialDecay({ init: 0.1, transitionSteps: 3, decayRate: 0.7 }))],
  ["scaleByLr (warmupCosineDecay)", () => scaleByLr(warmupCosineDecay({ init: 0, peak: 0.1, warmupSteps: 2, decaySteps: 5, end: 0.01, exponent: 2 }))],
  ["scaleByLr (sgdr)", () => scaleByLr(sgdr([{ init: 0, peak: 0.1, warmupSteps: 1, decaySteps: 3 }, { init: 0.05, peak: 0.05, warmupSteps: 0, decaySteps: 4, end: 0.001 }]))],
  ["scaleByLr (oneCycle, cosine)", () => scaleByLr(oneCycle({ transitionSteps: 5, peak: 0.2 }))],
  ["scaleByLr (oneCycle, linear)", () => scaleByLr(oneCycle({ transitionSteps: 6, peak: 0.2, anneal: "linear", pctStart: 0.2, pctFinal: 0.6, divFactor: 5, finalDivFactor: 20 }))],
  ["scaleByLr (joinSchedules of a constant, cosineDecay and a joinSchedules)", () => scaleByLr(joinSchedules({ schedules: [0.05, cosineDecay({ init: 0.1, decaySteps: 2 }), joinSchedules({ schedules: [constantSchedule(0.02), 0.01], boundaries: [1] })], boundaries: [1, 3] }))],
  ["applyEvery", () => chain(sgd({ lr: 0.1, momentum: 0.9 }), applyEvery(2))],
  ["skipLargeUpdates", () => skipLargeUpdates(adam({ lr: 1e-2 }), 1e6), nanAt(2, 4)],
  ["lookahead", () => lookahead(sgd({ lr: 0.1, momentum: 0.9 }), { syncPeriod: 2, slowStepSize: 0.5 })],
  ["lookahead (reset)", () => lookahead(adam({ lr: 1e-2 }), { syncPeriod: 3, slowStepSize: 0.3, resetState: true })],
  ["partition", () => larsPartition()],
  ["partition (label tree)", () => partition({ masked: adam({ lr: 1e-2 }), unmasked: sgd({ lr: 0.1 }) }, { scale: "unmasked", fc: { weight: "masked", bias: "unmasked" }, conv: [{ kernel: "masked" }, { kernel: "masked", bias: "unmasked" }] })],
  ["masked (tree)", () => masked(addWeightDecay(0.1), weightsMask)],
  ["masked (function)", () => chain(masked(addWeightDecay(0.1), (path) => path.endsWith("kernel")), scaleByLr(0.1))],
  ["skipNonFinite", () => skipNonFinite(sgd({ lr: 0.1, momentum: 0.9 })), nanAt(1, 4)],
  ["multiSteps", () => multiSteps(adam({ lr: 1e-2 }), 3)],
  ["asGradient", () => chain(clipByGlobalNorm(0.5), asGradient(lars({ lr: 0.1, momentum: 0.9, weightDecay: 1e-3 })))],
  ["injectHyperparams (lars)", () => injectHyperparams(lars, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 })],
  ["injectHyperparams (adam)", () => injectHyperparams(adam, { lr: 1e-2, b1: 0.8 })],
  ["injectHyperparams (scaleByAdam)", () => injectHyperparams(scaleByAdam, { b2: 0.9 })],
  ["injectHyperparams (custom build)", () => injectHyperparams((h) => sgd({ ...h, nesterov: true }), { lr: 0.1, momentum: 0.9 })],
  ["injectHyperparams (custom build of a partition)", () => injectHyperparams((h) => masked(adam(h), weightsMask), { lr: 1e-2 })],
  ["sgd", () => sgd({ lr: 0.1, momentum: 0.9, dampening: 0.1, weightDecay: 1e-4 })],
  ["adam", () => adam({ lr: cosineDecay({ init: 1e-2, decaySteps: 5 }), weightDecay: 1e-3 })],
  ["adamw", () => adamw({ lr: 1e-2, b1: 0.85, weightDecay: 0.05 })],
  ["lamb", () => lamb({ lr: linearWarmup({ steps: 2 }, 1e-2), weightDecay: 0.01 })],
  ["lars", () => lars({ lr: polynomialDecay({ init: 0.2, power: 2, totalSteps: 6 }), momentum: 0.9, weightDecay: 5e-4, nesterov: true })],
  ["larsOptax", () => larsOptax({ lr: 1, weightDecay: 1e-4, momentum: 0.9, nesterov: true })],
  ["larsPaper", () => larsPaper({ lr: piecewiseConstant({ values: [2, 1], boundaries: [3] }), momentum: 0.9, weightDecay: 5e-4 })],
  ["ema", () => chain(ema({ decay: 0.9 }), scaleByLr(0.1))],
  ["ema (biased)", () => chain(ema({ decay: 0.5, debias: false }), scaleByLr(0.1))],
  ["zeroNans", () => chain(zeroNans(), adam({ lr: 1e-2 }))],
  ["clip", () => chain(clip(0.05), sgd({ lr: 0.1, momentum: 0.9 }))],
  ["lion", () => lion({ lr: 1e-3, b1: 0.95, weightDecay: 0.1 })],
  ["adabelief", () => adabelief({ lr: cosineDecay({ init: 1e-2, decaySteps: 5 }), nesterov: true })],
  ["nadamw", () => nadamw({ lr: 1e-2, epsRoot: 1e-10, weightDecay: 0.01 })],
  ["radam", () => radam({ lr: 1e-2, b2: 0.99, threshold: 4, nesterov: true })],
  ["adan", () => adan({ lr: 1e-2, weightDecay: 0.02 })],
  ["ademamix", () => ademamix({ lr: 1e-2, b3: 0.999, alpha: 3, weightDecay: 0.01 })],
  ["muon", () => muon({ lr: 1e-2, nsSteps: 3, weightDecay: 0.01, adamWeightDecay: 0.05 })],
  ["muon (a schedule, no nesterov)", () => muon({ lr: cosineDecay({ init: 2e-2, decaySteps: 5 }), nesterov: false })],
  ["scheduleFreeAdamw", () => scheduleFreeAdamw({ lr: 1e-2, b1: 0.8, weightDecay: 0.01, weightLrPower: 1 })],
  ["scheduleFreeAdamw (warm-up)", () => scheduleFreeAdamw({ lr: 1e-2, warmupSteps: 3 })],
  ["scheduleFree after sgd, a schedule", () => chain(traceMomentum({ momentum: 0.5 }), scaleByLr(cosineDecay({ init: 0.1, decaySteps: 5 })), scheduleFree({ lr: cosineDecay({ init: 0.1, decaySteps: 5 }), b1: 0.9 }))],
  ["scaleByRms", () => scaleByRms({ decay: 0.9, eps: 1e-6 })],
  ["adafactor", () => adafactor({ lr: cosineDecay({ init: 1e-2, decaySteps: 5 }), minDimSizeToFactor: 2 })],
  ["adafactor (momentum, weight decay, no parameter scale, no clipping)", () =>
    adafactor({ lr: 5e-2, minDimSizeToFactor: 3, decayRate: 0.7, decayOffset: -2, multiplyByParameterScale: false, clippingThreshold: null, momentum: 0.9, weightDecayRate: 0.01, factored: true })],
  ["adafactor (no learning rate, unfactored)", () => adafactor({ factored: false })],
  ["adaptiveGradClip", () => chain(adaptiveGradClip({ clipping: 0.05, eps: 1e-2 }), sgd({ lr: 0.1, momentum: 0.9 }))],
  ["adaptiveGradClip (last axis)", () => chain(adaptiveGradClip({ clipping: 0.1, axis: -1 }), adam({ lr: 1e-2 }))],
  ["nested wrappers", () => multiSteps(skipNonFinite(partition({ conv: lamb({ lr: 1e-2 }), rest: larsOptax({ lr: 0.5 }) }, byPath)), 2), nanAt(3)],
];

const STEPS = 6;
const dtypes: Dtype[] = ["float32", "float64"];

describe.each(dtypes)("rebuildOptimizer in %s", (dtype) => {
  it.each(cases)("%s: the rebuilt optimizer has the same spec and steps bit for bit", (_, make, grad = gradAt) => {
    const opt = make();
    const params = realParams(dtype);
    const start = { params, state: initOf(opt, params) };
    const rebuilt = rebuildOptimizer(recorded(opt), start.state);
    if (E.isLeft(rebuilt)) throw new Error(rebuilt.left.message);
    expect(specOf(rebuilt.right)).toEqual(recorded(opt));
    const original = stepsFrom(opt, start, 0, STEPS, grad);
    const replayed = stepsFrom(rebuilt.right, { params, state: initOf(rebuilt.right, params) }, 0, STEPS, grad);
    expect(replayed.map(bytesOf)).toEqual(original.map(bytesOf));
    // from a state in mid-run, as seek rebuilds it from a keyframe's
    const mid = original[3]!;
    const fromMid = rebuildOptimizer(recorded(opt), mid.state);
    if (E.isLeft(fromMid)) throw new Error(fromMid.left.message);
    expect(stepsFrom(fromMid.right, mid, 3, STEPS - 3, grad).map(bytesOf)).toEqual(original.slice(3).map(bytesOf));
  });

  it("rebuilds injectHyperparams(lars, h) for hyper-parameters changed in its state", () => {
    const opt = injectHyperparams(lars, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 });
    const params = realParams(dtype);
    const before = stepsFrom(opt, { params, state: initOf(opt, params) }, 0, 2, gradAt).at(-1)!;
    const changed = E.getOrElseW(() => null)(setHyperparam(before.state as never, "lr", 0.02));
    const start = { params: before.params, state: changed };
    const original = stepsFrom(opt, start, 2, 3, gradAt);
    const rebuilt = rebuildOptimizer(recorded(opt), changed);
    if (E.isLeft(rebuilt)) throw new Error(rebuilt.left.message);
    expect(stepsFrom(rebuilt.right, start, 2, 3, gradAt).map(bytesOf)).toEqual(original.map(bytesOf));
    expect((original.at(-1)!.state as { hyperparams: unknown }).hyperparams).toEqual({ lr: 0.02, momentum: 0.9, weightDecay: 5e-4 });
  });
});

describe("rebuildOptimizer knows every library factory an injectHyperparams may name", () => {
  it.each([
    ["lars", lars],
    ["sgd", sgd],
    ["adam", adam],
    ["adamw", adamw],
    ["lamb", lamb],
    ["larsOptax", larsOptax],
    ["larsPaper", larsPaper],
    ["scaleByAdam", scaleByAdam],
    ["scaleByTrustRatio", scaleByTrustRatio],
    ["scaleByUpdateTrustRatio", scaleByUpdateTrustRatio],
    ["traceMomentum", traceMomentum],
    ["lion", lion],
    ["adabelief", adabelief],
    ["nadamw", nadamw],
    ["radam", radam],
    ["adan", adan],
    ["ademamix", ademamix],
    ["muon", muon],
    ["scaleByMuon", scaleByMuon],
    ["scheduleFreeAdamw", scheduleFreeAdamw],
    ["scaleByRms", scaleByRms],
    ["adafactor", adafactor],
  ] as const)("%s", (name, factory) => {
    const opt = injectHyperparams(factory as (h: { momentum: number; lr: number }) => GradientTransformation<any>, { momentum: 0.5, lr: 0.1 });
    expect(opt.hyperparams["build"]).toBe(name);
    const rebuilt = rebuildOptimizer(recorded(opt));
    expect(E.isRight(rebuilt) && specOf(rebuilt.right)).toEqual(recorded(opt));
  });

  it("a closure is a custom build", () => {
    expect(injectHyperparams((h) => lars(h), { lr: 0.1 }).hyperparams["build"]).toBe("custom");
  });
});
