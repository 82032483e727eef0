/**
 * Seek, replay and fork on the fixture runs of ../shared/fixtures/lars-reference.json (PyTorch running the seed's
 * LARS): record each run with its recorded gradients, then every sought step must give the reference's params,
 * and the rebuilt optimizer must replay the recording bit for bit.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import * as E from "fp-ts/lib/Either.js";
import { denseValues, diffStates, fork, lars, partition, polynomialDecay, readRecording, seek, verify, type GradientTransformation, type LabelTree, type Tree } from "larch";
import { at, larsOptions, loadReference, makeLeaf, nest, type RefCase } from "../support/reference.js";
import { recordRun } from "./recordRun.js";

const TOLERANCE = { float32: 1e-4, float64: 1e-12 } as const;

const optimizerFor = (c: RefCase): GradientTransformation<any> => {
  const lr = c.schedule ? polynomialDecay({ init: c.options.lr, power: c.schedule.power, totalSteps: c.schedule.total_steps }) : c.options.lr;
  if (!c.groups) return lars({ ...larsOptions({}, c.options), lr });
  const labelOf = new Map(c.groups.flatMap((g, k) => g.leaves.map((leaf) => [leaf, `group${k}`] as const)));
  const transforms = Object.fromEntries(c.groups.map((g, k) => [`group${k}`, lars({ ...larsOptions(g.options, c.options), lr })]));
  return partition(transforms, nest(Object.fromEntries(Object.keys(c.params).map((n) => [n, labelOf.get(n)!]))) as unknown as LabelTree);
};

const recordedGrads = (c: RefCase) => (_: Tree, step: number): Tree =>
  nest(Object.fromEntries(Object.keys(c.params).map((name) => [name, makeLeaf(c.dtype, c.params[name]!.shape, c.grads![step]![name]!)])));

const cases = loadReference().filter((c) => ["momentum-wd-float64", "poly-schedule", "groups-no-decay-on-bias-bn"].includes(c.name));
const dir = mkdtempSync(join(tmpdir(), "larch-fixture-"));

describe.each(cases.map((c) => [c.name, c] as const))("fixture run %s", (name, c) => {
  const params0 = nest(Object.fromEntries(Object.entries(c.params).map(([n, l]) => [n, makeLeaf(c.dtype, l.shape, l.data)])));
  const path = join(dir, `${name}.larch`);
  recordRun(path, optimizerFor(c), params0, c.steps, { keyframeEvery: 4, recordGrads: true }, recordedGrads(c));
  const rec = E.getOrElseW((e: { message: string }) => {
    throw new Error(e.message);
  })(readRecording(path));

  it("seek(t) gives the reference params after t steps, at every step (optimizer rebuilt from the recorded spec)", () => {
    for (let t = 1; t <= c.steps; t++) {
      const point = seek(rec, t);
      expect(E.isRight(point)).toBe(true);
      if (E.isLeft(point)) return;
      for (const leaf of Object.keys(c.params)) {
        const got = denseValues(at(point.right.params, leaf));
        const want = c.trajectory[t - 1]!.params[leaf]!;
        let worst = 0;
        for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i]! - want[i]!) / Math.max(1, Math.abs(want[i]!)));
        expect(worst, `${leaf} at step ${t}`).toBeLessThan(TOLERANCE[c.dtype]);
      }
    }
  });

  it("replays bit for bit with the rebuilt optimizer (verify)", () => {
    const report = verify(rec);
    expect(E.isRight(report) && report.right).toMatchObject({ divergence: null, branches: [{ stepsReplayed: c.steps }] });
  });

  it("forks with another momentum; before the fork the branch is the reference run", () => {
    const t = Math.floor(c.steps / 2);
    const f = fork(rec, t, lars({ ...larsOptions({}, c.options), momentum: 0.5 }), { meta: { why: "lower momentum" } });
    if (c.groups) {
      // a partition's state does not fit a plain lars: refused, with the reason
      expect(E.isLeft(f) && f.left.message).toMatch(/cannot continue/);
      return;
    }
    expect(E.isRight(f)).toBe(true);
    if (E.isLeft(f)) return;
    const step = f.right.recorder.step(recordedGrads(c)(f.right.start.params, t), f.right.start.state, f.right.start.params);
    expect(E.isRight(step)).toBe(true);
    expect(E.isRight(f.right.recorder.close())).toBe(true);
    const forked = E.getOrElseW(() => null)(readRecording(path));
    expect(forked?.branches.get(1)).toMatchObject({ parent: 0, forkStep: t, endStep: t + 1, meta: { why: "lower momentum" } });
    const same = (s: number) => diffStates(E.getOrElseW(() => null)(seek(forked!, s)), E.getOrElseW(() => null)(seek(forked!, s, { branch: 1 })));
    expect(E.isRight(same(t)) && E.getOrElseW(() => null)(same(t))?.identical).toBe(true);
    expect(E.isRight(same(t + 1)) && E.getOrElseW(() => null)(same(t + 1))?.identical).toBe(false);
  });
});
