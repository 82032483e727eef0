/**
 * Recordings of the compose optimizers replayed without the program that ran them: seek and verify rebuild the
 * optimizer from the recorded spec (and a keyframe's state) and give the recorded states bit for bit; what
 * cannot be rebuilt is a Left naming it.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import {
  adam,
  applyUpdates,
  asGradient,
  chain,
  clipByGlobalNorm,
  cosineDecay,
  describedSchedule,
  encodeState,
  identity,
  injectHyperparams,
  lamb,
  lars,
  larsOptax,
  linearWarmup,
  masked,
  multiSteps,
  muon,
  openRecording,
  readRecording,
  rebuildOptimizer,
  scaleByLr,
  scheduleFreeAdamw,
  seek,
  setHyperparam,
  sgd,
  skipNonFinite,
  specOf,
  verify,
  type Dtype,
  type GradientTransformation,
  type InjectHyperparamsState,
  type Recording,
  type Tree,
} from "larch";
import { recordRun } from "./recordRun.js";
import { gradAt, nanAt, realParams } from "./runs.js";

const dir = mkdtempSync(join(tmpdir(), "larch-rebuild-"));

const open = (path: string): Recording => {
  const rec = readRecording(path);
  if (E.isLeft(rec)) throw new Error(rec.left.message);
  return rec.right;
};

/** The checkpoint bytes of a point, as a string to compare. */
const bytesOf = (point: unknown): string => E.match((e: { message: string }) => `not encodable: ${e.message}`, (b: Uint8Array) => Buffer.from(b).toString("base64"))(encodeState(point));

const N = 14;

const cases: [string, () => GradientTransformation<any>, ((params: Tree, t: number) => Tree)?][] = [
  ["adam", () => adam({ lr: linearWarmup({ steps: 3 }, cosineDecay({ init: 1e-2, decaySteps: 10 })), weightDecay: 1e-3 })],
  ["lamb", () => lamb({ lr: 1e-2, weightDecay: 0.01 })],
  ["skipNonFinite(sgd)", () => skipNonFinite(sgd({ lr: 0.1, momentum: 0.9, nesterov: true })), nanAt(3, 8)],
  ["injectHyperparams(lars, h)", () => injectHyperparams(lars, { lr: 0.1, momentum: 0.9, weightDecay: 5e-4 })],
  ["injectHyperparams(custom build)", () => injectHyperparams((h) => adam({ ...h, b2: 0.99 }), { lr: 1e-2, weightDecay: 1e-4 })],
  ["multiSteps(adam, 3)", () => multiSteps(adam({ lr: 1e-2 }), 3)],
  ["chain(clip, asGradient(larsOptax))", () => chain(clipByGlobalNorm(1), asGradient(larsOptax({ lr: 0.5, weightDecay: 1e-4 })))],
  ["masked by a function", () => chain(masked(adam({ lr: 1e-2 }), (path) => !path.endsWith("bias")), scaleByLr(0.5))],
  ["muon", () => muon({ lr: 2e-2, weightDecay: 0.01 })],
  ["scheduleFreeAdamw (warm-up)", () => scheduleFreeAdamw({ lr: 1e-2, warmupSteps: 4, weightDecay: 0.01 })],
];
const dtypes: Dtype[] = ["float32", "float64"];

describe.each(dtypes)("a recording in %s, replayed with the optimizer rebuilt from its spec", (dtype) => {
  describe.each(cases)("%s", (name, make, grad = gradAt) => {
    const path = join(dir, `${name.replace(/\W+/g, "_")}-${dtype}.larch`);
    const points = recordRun(path, make(), realParams(dtype), N, { keyframeEvery: 5, recordGrads: true }, grad);
    const rec = open(path);

    it("seek gives the exact state of every step, keyframe or not", () => {
      expect(rec.branches.get(0)!.keyframeSteps).toEqual([0, 5, 10, 14]);
      for (let t = 0; t <= N; t++) {
        const at = seek(rec, t);
        if (E.isLeft(at)) throw new Error(`step ${t}: ${at.left.message}`);
        expect(bytesOf(at.right), `step ${t}`).toBe(bytesOf(points[t]));
      }
    });

    it("verify replays every step and keyframe bit for bit", () => {
      const report = verify(rec);
      if (E.isLeft(report)) throw new Error(report.left.message);
      expect(report.right.divergence).toBe(null);
      expect(report.right.branches[0]).toMatchObject({ stepsReplayed: N, keyframesCompared: 4, note: null });
    });
  });
});

describe("skipNonFinite in a recording", () => {
  it("skipped the steps with NaN gradients (so the replay went through its skipping branch)", () => {
    const points = recordRun(join(dir, "skips.larch"), skipNonFinite(sgd({ lr: 0.1 })), realParams("float32"), 10, { keyframeEvery: 4, recordGrads: true }, nanAt(3, 8));
    expect(points[10]!.state).toMatchObject({ skipped: 2 });
    const at9 = seek(open(join(dir, "skips.larch")), 9);
    expect(E.isRight(at9) && bytesOf(at9.right)).toBe(bytesOf(points[9]));
  });
});

/** Records n steps of an injectHyperparams optimizer, setting lr to `lr2` before step `at`. */
const recordWithChange = (path: string, opt: GradientTransformation<InjectHyperparamsState<{ lr: number; momentum: number }>>, at: number, lr2: number, n: number) => {
  const params0 = realParams("float64");
  const rec = openRecording(path, opt, params0, { keyframeEvery: 5, recordGrads: true });
  if (E.isLeft(rec)) throw new Error(rec.left.message);
  let state = E.getOrElseW(() => null)(opt.init(params0))!;
  let params = params0;
  const points: { params: Tree; state: unknown }[] = [];
  for (let t = 0; t < n; t++) {
    if (t === at) state = E.getOrElseW(() => state)(setHyperparam(state, "lr", lr2));
    points.push({ params, state });
    const step = rec.right.step(gradAt(params, t), state, params);
    if (E.isLeft(step)) throw new Error(step.left.message);
    params = E.getOrElseW(() => params)(applyUpdates(params, step.right[0]));
    state = step.right[1];
  }
  points.push({ params, state });
  const closed = rec.right.close();
  if (E.isLeft(closed)) throw new Error(closed.left.message);
  return { rec: open(path), points };
};

describe("injectHyperparams with a hyper-parameter changed mid-run (setHyperparam)", () => {
  it("built from a library factory: seek rebuilds it for the changed lr the keyframe holds", () => {
    const { rec, points } = recordWithChange(join(dir, "inject-lars.larch"), injectHyperparams(lars, { lr: 0.1, momentum: 0.9 }), 7, 0.02, 12);
    expect(rec.branches.get(0)!.keyframeSteps).toEqual([0, 5, 7, 10, 12]); // the changed state was keyframed
    for (let t = 0; t <= 12; t++) expect(bytesOf(E.getOrElseW(() => null)(seek(rec, t))), `step ${t}`).toBe(bytesOf(points[t]));
  });

  it("built by a custom function: steps before the change are rebuilt, after it a Left says to pass the optimizer", () => {
    const opt = injectHyperparams((h: { lr: number; momentum: number }) => lars(h), { lr: 0.1, momentum: 0.9 });
    const { rec, points } = recordWithChange(join(dir, "inject-custom.larch"), opt, 7, 0.02, 12);
    for (let t = 0; t < 7; t++) expect(bytesOf(E.getOrElseW(() => null)(seek(rec, t))), `step ${t}`).toBe(bytesOf(points[t]));
    const after = seek(rec, 9);
    expect(E.isLeft(after) && after.left.message).toMatch(/cannot rebuild injectHyperparams at hyper-parameters \{"lr":0.02,"momentum":0.9\}.*pass the optimizer/);
    expect(bytesOf(E.getOrElseW(() => null)(seek(rec, 9, { optimizer: opt })))).toBe(bytesOf(points[9]));
  });
});

describe("what cannot be rebuilt", () => {
  const halving = describedSchedule((t) => 0.1 * 0.5 ** Math.floor(t / 2), { schedule: "halving", every: 2 });
  const mine: GradientTransformation<any> = { ...identity(), name: "myScale" };

  it.each([
    ["a custom transformation, inside a chain", chain(mine, scaleByLr(0.1)), /cannot rebuild "myScale" \(not one of the library's transformations\); pass the optimizer/],
    ["a described custom schedule, inside adam", adam({ lr: halving }), /cannot rebuild the learning rate \{"schedule":"halving","every":2\} \(a custom schedule\); pass the optimizer/],
    ["a bare function as lr, inside skipNonFinite", skipNonFinite(sgd({ lr: (t: number) => 1 / (t + 1) })), /cannot rebuild the learning rate \{"schedule":"custom"\} \(a custom schedule\); pass the optimizer/],
    ["a partition without its state", masked(lamb({ lr: 1e-3 }), (path) => path.endsWith("weight")), /cannot rebuild a partition without its state/],
  ] as const)("%s: a Left naming it", (_, opt, message) => {
    const r = rebuildOptimizer(JSON.parse(JSON.stringify(specOf(opt))));
    expect(E.isLeft(r) && r.left).toMatchObject({ kind: "InvalidOption", message: expect.stringMatching(message) });
  });

  it("seek and verify of such a recording return that Left; with the optimizer passed they replay", () => {
    const opt = adam({ lr: halving });
    const path = join(dir, "custom-schedule.larch");
    const points = recordRun(path, opt, realParams("float32"), 6, { keyframeEvery: 4, recordGrads: true });
    const rec = open(path);
    for (const r of [seek(rec, 3), verify(rec)]) expect(E.isLeft(r) && r.left.message).toMatch(/cannot rebuild the learning rate \{"schedule":"halving"/);
    expect(bytesOf(E.getOrElseW(() => null)(seek(rec, 3, { optimizer: opt })))).toBe(bytesOf(points[3]));
    const report = verify(rec, { 0: opt });
    expect(E.isRight(report) && report.right.divergence).toBe(null);
  });
});
