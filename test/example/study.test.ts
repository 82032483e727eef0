/** `npm run study`'s pieces: the tuning rules, a tiny study end to end (cpu), its page and its progress bar. */
import * as tf from "@tensorflow/tfjs";
import { beforeAll, describe, expect, it } from "vitest";
import { type MnistSplit, mnistSplit, takeDigits } from "../../examples/mnist/dataset.js";
import { accuracyAxis, chartSvg, studyPage, tableHtml } from "../../examples/study/page.js";
import { formatDuration, progressBar } from "../../examples/study/progress.js";
import { adamwRecipe, larsRecipe, scheduleFor, sgdRecipe, warmupStepsFor } from "../../examples/study/recipes.js";
import { type Study, type StudyRun, runStudy } from "../../examples/study/study.js";

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe("the study's tuning rules", () => {
  it("scale sgd's lr linearly, lars's and adamw's by the square root of the batch size", () => {
    expect([128, 512, 8000].map(sgdRecipe(0.05, 128).lrAt)).toEqual([0.05, 0.2, 3.125]);
    expect(adamwRecipe(1e-3, 128).lrAt(512)).toBeCloseTo(2e-3, 15);
    expect([1024, 4096].map(larsRecipe(0.02, 1024).lrAt)).toEqual([0.02, 0.04]);
  });

  it("warm up over a tenth of the steps (at least one), peak at the recipe's lr, end at 0", () => {
    expect([1, 10, 40, 625].map(warmupStepsFor)).toEqual([1, 1, 4, 63]);
    const s = scheduleFor(0.2, 40);
    expect([s(0), s(2), s(4), s(40)]).toEqual([0, 0.1, 0.2, 0]);
  });
});

describe("a tiny study", () => {
  let split: MnistSplit;
  let runs: StudyRun[];
  const seen: number[] = [];

  beforeAll(async () => {
    await tf.setBackend("cpu");
    const full = mnistSplit();
    split = { ...full, train: takeDigits(full.train, range(256)), heldOut: takeDigits(full.heldOut, range(200)) };
    const settings = {
      split,
      recipes: [larsRecipe(0.02, 64), sgdRecipe(0.05, 64), adamwRecipe(1e-3, 64)],
      batchSizes: [128, 256],
      epochs: 2,
      hidden: 8,
      initSeed: 1,
      shuffleSeed: 2,
    };
    runs = await runStudy({ ...settings, onProgress: (p) => seen.push(p.done) });
  }, 60_000);

  it("runs every optimizer at every batch size for the same epochs, reporting progress to the end", () => {
    expect(runs.map((r) => `${r.optimizer}@${r.batchSize}`)).toEqual(["lars@128", "lars@256", "sgd@128", "sgd@256", "adamw@128", "adamw@256"]);
    for (const r of runs) {
      expect(r.accuracyByEpoch).toHaveLength(2);
      expect(r.steps).toBe(2 * Math.ceil(256 / r.batchSize));
      expect(r.heldOutAccuracy).toBeGreaterThanOrEqual(0);
      expect(r.heldOutAccuracy).toBeLessThanOrEqual(1);
    }
    expect(runs.find((r) => r.optimizer === "sgd" && r.batchSize === 256)!.lr).toBeCloseTo(0.2, 15);
    expect(seen[seen.length - 1]).toBe(12);
    expect(seen.every((d, i) => i === 0 || d >= seen[i - 1]!)).toBe(true);
  });
});

const run = (optimizer: StudyRun["optimizer"], batchSize: number, heldOutAccuracy: number): StudyRun => ({
  optimizer,
  batchSize,
  lr: 0.1,
  warmupSteps: 1,
  steps: 10,
  heldOutAccuracy,
  accuracyByEpoch: [heldOutAccuracy],
  finalLoss: 0.1,
  seconds: 3,
});

const study: Study = {
  title: "a <study>",
  dataset: "d",
  model: "m",
  epochs: 1,
  seeds: { split: 1, init: 2, shuffle: 3 },
  backend: "cpu",
  schedule: "s",
  recipes: [
    { name: "lars", tuning: "lr 0.05 & no scaling", fixed: {} },
    { name: "sgd", tuning: "linear", fixed: {} },
  ],
  runs: [run("lars", 128, 0.97), run("lars", 8000, 0.95), run("sgd", 8000, 0.6), run("sgd", 128, 0.96)],
};

describe("the study's page", () => {
  it("draws one line per optimizer through its runs in batch order, on an axis covering every accuracy", () => {
    const svg = chartSvg(study);
    expect(svg.match(/<polyline/g)).toHaveLength(2);
    expect(svg.match(/<circle/g)).toHaveLength(4);
    const sgdLine = svg.match(/<polyline[^>]*points="([^"]*)"/g)![1]!;
    const xs = sgdLine.replace(/.*points="/, "").replace(/"$/, "").split(" ").map((p) => Number(p.split(",")[0]));
    expect(xs[0]).toBeLessThan(xs[1]!);
    expect(accuracyAxis([0.6, 0.97])).toEqual({ lo: 50, hi: 100, step: 10 });
    expect(accuracyAxis([0.93, 0.958])).toEqual({ lo: 92, hi: 97, step: 1 });
    expect(accuracyAxis([0.951, 0.953])).toEqual({ lo: 94.6, hi: 95.8, step: 0.2 });
    expect(accuracyAxis([])).toEqual({ lo: 0, hi: 100, step: 20 });
  });

  it("tabulates every run by batch size and optimizer, and escapes text", () => {
    const table = tableHtml(study);
    expect(table.match(/<tr>/g)).toHaveLength(3);
    expect(table).toContain("97.00 %");
    expect(table).toContain("60.00 %");
    const page = studyPage(study);
    expect(page).toContain("a &#60;study&#62;");
    expect(page).toContain("lr 0.05 &#38; no scaling");
    expect(page).not.toContain("<script");
  });
});

describe("the progress bar", () => {
  it("fills in proportion, shows the counts and an estimate of the time left", () => {
    expect(progressBar(0, 10, "x", 0, 10)).toBe("[----------]   0%  0/10 epochs  x");
    expect(progressBar(5, 10, "x", 30, 10)).toBe("[#####-----]  50%  5/10 epochs  x  eta 30s");
    expect(progressBar(10, 10, "x", 100, 10)).toBe("[##########] 100%  10/10 epochs  x  eta 0s");
    expect([42, 125, 3720, -1].map(formatDuration)).toEqual(["42s", "2m05s", "1h02m", "?"]);
  });
});
