/**
 * The MNIST example's pieces on small runs (cpu backend): seeded weights, biases kept out of weight decay by
 * name, a recorded run that repeats bit for bit and replays bit for bit, and a few steps that learn.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs";
import * as E from "fp-ts/lib/Either.js";
import { beforeAll, describe, expect, it } from "vitest";
import { readRecording, verify } from "larch";
import { reportData } from "../../src/cli/reportFromRecording.js";
import { type MnistSplit, mnistSplit, takeDigits } from "../../examples/mnist/dataset.js";
import { buildMlp } from "../../examples/mnist/model.js";
import { isBias, warmupThenDecay } from "../../examples/mnist/optimizer.js";
import { KEYFRAME_EVERY, recordMnistRun } from "../../examples/mnist/run.js";

const weightsOf = (model: tf.LayersModel) => model.getWeights().map((w) => Array.from(w.dataSync()));

describe("the MNIST example's model and optimizer", () => {
  beforeAll(async () => {
    await tf.setBackend("cpu");
  });

  it("initialises the same weights from the same seed, others from another, biases at 0", () => {
    const [a, b, c] = [buildMlp(7, 8), buildMlp(7, 8), buildMlp(8, 8)];
    expect(weightsOf(a)).toEqual(weightsOf(b));
    expect(weightsOf(a)[0]).not.toEqual(weightsOf(c)[0]);
    expect(weightsOf(a)[1]!.every((v) => v === 0)).toBe(true);
    expect(a.getWeights().map((w) => w.shape)).toEqual([[784, 8], [8], [8, 10], [10]]);
    for (const m of [a, b, c]) m.dispose();
  });

  it("tells biases from kernels by the last part of the path, TF.js's _1 suffixes included", () => {
    for (const p of ["fc1.bias", "fc2.bias", "fc1.bias_1", "bias"]) expect(isBias(p)).toBe(true);
    for (const p of ["fc1.kernel", "fc1.kernel_1", "fc1.biased", "bias.kernel", "fc1.unbias"]) expect(isBias(p)).toBe(false);
  });

  it("warms up linearly, peaks, then decays polynomially to 0", () => {
    const s = warmupThenDecay({ lr: 0.1, warmupSteps: 4, power: 2 }, 12);
    expect([0, 1, 2, 4].map(s)).toEqual([0, 0.025, 0.05, 0.1]);
    expect(s(8)).toBeCloseTo(0.1 * (1 - 4 / 8) ** 2, 12);
    expect(s(12)).toBe(0);
  });
});

describe("a short recorded MNIST run", () => {
  let split: MnistSplit;
  const dir = mkdtempSync(join(tmpdir(), "larch-mnist-"));
  const [a, b] = [join(dir, "a.larch"), join(dir, "b.larch")];
  const short = { epochs: 3, batchSize: 96, hidden: 16, trainSubset: 384 } as const;
  let first: Awaited<ReturnType<typeof recordMnistRun>>;
  let second: Awaited<ReturnType<typeof recordMnistRun>>;

  beforeAll(async () => {
    await tf.setBackend("cpu");
    const full = mnistSplit();
    // a 300-digit held-out set keeps the test quick; the training subset is the split's first 384 digits
    split = { ...full, heldOut: takeDigits(full.heldOut, Array.from({ length: 300 }, (_, i) => i)) };
    first = await recordMnistRun(a, { ...short, split });
    second = await recordMnistRun(b, { ...short, split });
  }, 60_000);

  it("is the same run twice: same weights bit for bit, same recorded steps (up to TF.js's name suffixes)", () => {
    // In one process TF.js names a second model's variables fc1/kernel_1, …, so the two files differ in those
    // names; two `npm run example` processes write the same bytes (each makes one model). Here: the same numbers.
    expect(E.isRight(first) && E.isRight(second)).toBe(true);
    if (E.isLeft(first) || E.isLeft(second)) return;
    expect(second.right.weights).toEqual(first.right.weights);
    const [ra, rb] = [readRecording(a), readRecording(b)];
    expect(E.isRight(ra) && E.isRight(rb)).toBe(true);
    if (E.isLeft(ra) || E.isLeft(rb)) return;
    const [da, db] = [reportData(ra.right), reportData(rb.right)];
    expect(E.isRight(da) && E.isRight(db)).toBe(true);
    if (E.isLeft(da) || E.isLeft(db)) return;
    const unsuffixed = (x: unknown) => JSON.parse(JSON.stringify(x).replace(/(kernel|bias)_\d+/g, "$1"));
    expect(unsuffixed(db.right.steps)).toEqual(unsuffixed(da.right.steps));
  });

  it("holds every step with its loss, keeps weight decay and the trust ratio off the biases, and replays bit for bit", () => {
    const rec = readRecording(a);
    expect(E.isRight(rec) && E.isRight(first)).toBe(true);
    if (E.isLeft(rec) || E.isLeft(first)) return;
    const main = rec.right.branches.get(0)!;
    expect(first.right.steps).toBe(12);
    expect(main.endStep).toBe(12);
    expect(main.keyframeSteps.every((s) => s % KEYFRAME_EVERY === 0 || s === main.endStep)).toBe(true);
    const verified = verify(rec.right);
    expect(E.isRight(verified) && verified.right.divergence).toBe(null);
    const data = reportData(rec.right);
    expect(E.isRight(data)).toBe(true);
    if (E.isLeft(data)) return;
    expect(data.right.steps).toHaveLength(12);
    expect(data.right.steps.every((s) => typeof s.loss === "number" && Number.isFinite(s.loss))).toBe(true);
    expect(data.right.run.optimizer).toBe("partition(decay: lars, noDecay: sgd)");
    expect(data.right.run.hyperparams).toMatchObject({ "decay.weightDecay": 5e-4, "noDecay.weightDecay": 0 });
    expect(data.right.run.hyperparams["noDecay.leaves"]).toMatch(/^fc1\.bias(_\d+)?, fc2\.bias(_\d+)?$/);
    expect(data.right.run.hyperparams["decay.leaves"]).toMatch(/^fc1\.kernel(_\d+)?, fc2\.kernel(_\d+)?$/);
  });

  it("learns: the training loss falls and the held-out accuracy beats chance by far", () => {
    expect(E.isRight(first)).toBe(true);
    if (E.isLeft(first)) return;
    const [e1, , e3] = first.right.reports;
    expect(e3!.loss).toBeLessThan(e1!.loss);
    expect(first.right.heldOutAccuracy).toBeGreaterThan(0.3);
  });
});
