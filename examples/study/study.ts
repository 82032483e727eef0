/**
 * The large-batch study: the example's MLP trained with each recipe at each batch size, for the same number of
 * epochs, from the same seeded weights and the same seeded epoch shuffles, on the example's split.
 * @module
 */
import { larchOptimizer } from "larch/tfjs";
import type { MnistSplit } from "../mnist/dataset.js";
import { buildMlp } from "../mnist/model.js";
import { type EpochReport, fitMnist, stepsPerEpoch } from "../mnist/train.js";
import { type Recipe, warmupStepsFor } from "./recipes.js";

/** The batch sizes of the study. */
export const BATCH_SIZES: readonly number[] = [128, 512, 2048, 8000];

/** One run: an optimizer at a batch size. */
export interface StudyRun {
  readonly optimizer: Recipe["name"];
  readonly batchSize: number;
  readonly lr: number;
  readonly warmupSteps: number;
  readonly steps: number;
  /** Held-out accuracy after the last epoch. */
  readonly heldOutAccuracy: number;
  /** Held-out accuracy after every epoch. */
  readonly accuracyByEpoch: readonly number[];
  readonly finalLoss: number;
  readonly seconds: number;
}

/** The whole study as `out/study.json` holds it. */
export interface Study {
  readonly title: string;
  readonly dataset: string;
  readonly model: string;
  readonly epochs: number;
  readonly seeds: { readonly split: number; readonly init: number; readonly shuffle: number };
  readonly backend: string;
  readonly schedule: string;
  readonly recipes: readonly { readonly name: string; readonly tuning: string; readonly fixed: Recipe["fixed"] }[];
  readonly runs: readonly StudyRun[];
}

/** Where a study is, for its progress bar: `done` of `total` epochs over all runs, and the run under way. */
export interface StudyProgress {
  readonly done: number;
  readonly total: number;
  readonly optimizer: string;
  readonly batchSize: number;
  readonly epoch: number;
  readonly epochs: number;
  readonly lastAccuracy?: number;
}

/** Settings of {@link runStudy}. */
export interface StudySettings {
  readonly split: MnistSplit;
  readonly recipes: readonly Recipe[];
  readonly batchSizes: readonly number[];
  readonly epochs: number;
  readonly hidden: number;
  readonly initSeed: number;
  readonly shuffleSeed: number;
  readonly onProgress?: (p: StudyProgress) => void;
}

/** Trains one recipe at one batch size through `larchOptimizer`; the model and optimizer are disposed after. */
export const runOne = async (s: StudySettings, recipe: Recipe, batchSize: number, onEpoch?: (r: EpochReport) => void): Promise<StudyRun> => {
  const steps = s.epochs * stepsPerEpoch(s.split.train.n, batchSize);
  const lr = recipe.lrAt(batchSize);
  const model = buildMlp(s.initSeed, s.hidden);
  const optimizer = larchOptimizer(recipe.build(lr, steps));
  const started = performance.now();
  const reports = await fitMnist(model, optimizer, s.split.train, s.split.heldOut, { epochs: s.epochs, batchSize, shuffleSeed: s.shuffleSeed }, onEpoch);
  const seconds = (performance.now() - started) / 1000;
  model.dispose();
  optimizer.dispose();
  const last = reports[reports.length - 1];
  return {
    optimizer: recipe.name,
    batchSize,
    lr,
    warmupSteps: warmupStepsFor(steps),
    steps,
    heldOutAccuracy: last?.heldOutAccuracy ?? NaN,
    accuracyByEpoch: reports.map((r) => r.heldOutAccuracy),
    finalLoss: last?.loss ?? NaN,
    seconds,
  };
};

/** Runs every recipe at every batch size, in that order, reporting progress after each epoch. */
export const runStudy = async (s: StudySettings): Promise<StudyRun[]> => {
  const total = s.recipes.length * s.batchSizes.length * s.epochs;
  let done = 0;
  const runs: StudyRun[] = [];
  for (const recipe of s.recipes)
    for (const batchSize of s.batchSizes) {
      s.onProgress?.({ done, total, optimizer: recipe.name, batchSize, epoch: 0, epochs: s.epochs });
      runs.push(
        await runOne(s, recipe, batchSize, (r) => {
          done++;
          s.onProgress?.({ done, total, optimizer: recipe.name, batchSize, epoch: r.epoch, epochs: s.epochs, lastAccuracy: r.heldOutAccuracy });
        }),
      );
    }
  return runs;
};
