/**
 * The MNIST example's run: the seeded split, the seeded MLP, LARS through `larchOptimizer` with every step
 * recorded into a `.larch` file, trained by `model.fit`. Deterministic: the same call in a fresh process writes the
 * same bytes (in one process TF.js names a second model's variables `fc1/kernel_1`, …, and the names are recorded).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { RecordingSummary } from "larch";
import { larchOptimizer } from "larch/tfjs";
import { type Digits, type MnistSplit, mnistSplit, SPLIT_SEED } from "./dataset.js";
import { buildMlp } from "./model.js";
import { type LarsConfig, larsOptimizer } from "./optimizer.js";
import { type EpochReport, fitMnist, stepsPerEpoch } from "./train.js";

/** Hidden units of the MLP 784 → HIDDEN → 10. */
export const HIDDEN = 256;
/** Seeds of the initial weights and of the epochs' shuffles (the split's is {@link SPLIT_SEED}). */
export const INIT_SEED = 1;
export const SHUFFLE_SEED = 2;
/** Epochs and batch size of the example. */
export const EPOCHS = 12;
export const BATCH_SIZE = 1024;
/** LARS and its schedule's shape: polynomial decay (power 2) to 0 after a linear warm-up of {@link WARMUP_EPOCHS}. */
export const LARS: Omit<LarsConfig, "warmupSteps"> = { lr: 0.03, power: 2, momentum: 0.5, weightDecay: 5e-4 };
export const WARMUP_EPOCHS = 1;

/** The example's LARS settings for a run of `perEpoch` steps an epoch: warm-up over {@link WARMUP_EPOCHS}. */
export const larsConfigFor = (perEpoch: number): LarsConfig => ({ ...LARS, warmupSteps: WARMUP_EPOCHS * perEpoch });
/** A full keyframe every this many steps; the recorded gradients in between let any step be sought exactly. */
export const KEYFRAME_EVERY = 16;

/** What {@link recordMnistRun} may change, for a short run in a test. */
export interface RunOptions {
  readonly epochs?: number;
  readonly batchSize?: number;
  readonly hidden?: number;
  /** Train on the first `trainSubset` digits of the split's training set only. */
  readonly trainSubset?: number;
  readonly split?: MnistSplit;
  readonly onEpoch?: (report: EpochReport) => void;
}

/** The result of a recorded run. */
export interface MnistRun {
  readonly reports: readonly EpochReport[];
  readonly heldOutAccuracy: number;
  readonly steps: number;
  readonly recording: RecordingSummary | undefined;
  /** The trained weights, in the model's order (fc1 kernel, fc1 bias, fc2 kernel, fc2 bias). */
  readonly weights: readonly Float32Array[];
}

const firstDigits = (set: Digits, n: number): Digits =>
  n >= set.n ? set : { x: set.x.subarray(0, n * 784), y: set.y.subarray(0, n), n };

/**
 * Trains the example's MLP with the example's LARS and records the run into `path` (keyframes every
 * {@link KEYFRAME_EVERY} steps, gradients on, the losses from `model.fit`, meta with the settings and no
 * timestamps). The model is disposed at the end.
 */
export const recordMnistRun = async (path: string, options: RunOptions = {}): Promise<E.Either<{ readonly message: string }, MnistRun>> => {
  const epochs = options.epochs ?? EPOCHS;
  const batchSize = options.batchSize ?? BATCH_SIZE;
  const hidden = options.hidden ?? HIDDEN;
  const split = options.split ?? mnistSplit();
  const train = firstDigits(split.train, options.trainSubset ?? split.train.n);
  const perEpoch = stepsPerEpoch(train.n, batchSize);
  const steps = epochs * perEpoch;
  const config = larsConfigFor(perEpoch);
  const { optimizer } = larsOptimizer(config, steps);
  const meta = {
    title: `MNIST · TF.js MLP 784→${hidden}→10 · lars · batch ${batchSize}`,
    dataset: `mnist 1.1.0: ${train.n} train / ${split.heldOut.n} held out (seed ${SPLIT_SEED})`,
    seeds: { split: SPLIT_SEED, init: INIT_SEED, shuffle: SHUFFLE_SEED },
    epochs,
    batchSize,
    hidden,
    ...config,
  };
  const model = buildMlp(INIT_SEED, hidden);
  const tfOptimizer = larchOptimizer(optimizer, { record: { path, keyframeEvery: KEYFRAME_EVERY, recordGrads: true, meta } });
  try {
    const reports = await fitMnist(model, tfOptimizer, train, split.heldOut, { epochs, batchSize, shuffleSeed: SHUFFLE_SEED }, options.onEpoch);
    const closed = tfOptimizer.close();
    if (E.isLeft(closed)) return E.left(closed.left);
    const weights = model.getWeights().map((w) => Float32Array.from(w.dataSync() as Float32Array));
    return E.right({ reports, heldOutAccuracy: reports[reports.length - 1]?.heldOutAccuracy ?? NaN, steps, recording: closed.right, weights });
  } catch (error) {
    return E.left({ message: error instanceof Error ? error.message : String(error) });
  } finally {
    model.dispose();
    tfOptimizer.dispose();
  }
};
