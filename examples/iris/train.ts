/**
 * The example's training loop: seeded mini-batches over the training set, one optimizer step per batch,
 * written against larch's public optimizer interface only.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { Examples } from "./dataset.js";
import { type MlpParams, accuracy, lossAndGrad } from "./mlp.js";
import { type Random, shuffled } from "../shared/prng.js";
import {
  type GradientTransformation,
  type OptimizerError,
  type Schedule,
  type Tree,
  applyUpdates,
  lars,
  partition,
  polynomialDecay,
} from "larch";

/** The example's hyper-parameters. */
export interface TrainConfig {
  readonly epochs: number;
  readonly batchSize: number;
  /** Peak learning rate, decayed to 0 by lr(t) = lr·(1 − t/T)^power over the T steps of the run. */
  readonly lr: number;
  readonly power: number;
  readonly momentum: number;
  readonly weightDecay: number;
}

/** Number of optimizer steps of a run: epochs · ⌈n / batchSize⌉. */
export const totalSteps = (config: TrainConfig, n: number): number =>
  config.epochs * Math.ceil(n / config.batchSize);

/** Which leaves get weight decay: the weights; biases get none (the usual LARS practice). */
export const decayLabels = { fc1: { weight: "decay", bias: "noDecay" }, fc2: { weight: "decay", bias: "noDecay" } };

/**
 * The example's optimizer: LARS with weight decay on the weights, LARS without it on the biases, both
 * following the same polynomial learning-rate schedule.
 */
export const makeOptimizer = (
  config: TrainConfig,
  steps: number,
): { optimizer: GradientTransformation<unknown>; schedule: Schedule } => {
  const schedule = polynomialDecay({ init: config.lr, power: config.power, totalSteps: steps });
  const common = { lr: schedule, momentum: config.momentum };
  const optimizer = partition(
    {
      decay: lars({ ...common, weightDecay: config.weightDecay }),
      noDecay: lars({ ...common, weightDecay: 0 }),
    },
    decayLabels,
  ) as GradientTransformation<unknown>;
  return { optimizer, schedule };
};

/** What the loop reports after each step. */
export interface StepInfo {
  readonly step: number;
  readonly epoch: number;
  /** Loss and accuracy of the batch, before the step. */
  readonly loss: number;
  readonly accuracy: number;
  readonly lr: number;
  /** Parameters before the step, the batch's gradient, the step's updates and the optimizer state after it. */
  readonly params: MlpParams;
  readonly grads: MlpParams;
  readonly updates: Tree;
  readonly state: unknown;
}

/** What the loop reports after each epoch. */
export interface EpochInfo {
  readonly epoch: number;
  readonly steps: number;
  readonly params: MlpParams;
  /** Mean batch loss of the epoch. */
  readonly loss: number;
}

/** Rows `indices` of `set`. */
export const takeBatch = (set: Examples, indices: readonly number[]): Examples => {
  const x = new Float64Array(indices.length * set.d);
  const y = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    x.set(set.x.subarray(row * set.d, (row + 1) * set.d), i * set.d);
    y[i] = set.y[row] as number;
  });
  return { x, y, n: indices.length, d: set.d };
};

/**
 * Trains `params` on `train` for `config.epochs` epochs: each epoch a seeded shuffle cut into batches;
 * per batch (g, L) = ∇L(p), (u, s) = optimizer.update(g, s, p), p ← p + u.
 * Returns the final parameters and state, or the optimizer's first error.
 */
export const train = (
  train: Examples,
  initial: MlpParams,
  optimizer: GradientTransformation<unknown>,
  schedule: Schedule,
  config: TrainConfig,
  random: Random,
  hooks: {
    onStep?: (info: StepInfo) => void;
    onEpoch?: (info: EpochInfo) => void;
    /** Runs the optimizer step instead of `optimizer.update` (e.g. a recorder's `step`, which also gets loss and accuracy). */
    update?: (grads: MlpParams, state: unknown, params: MlpParams, extras: { loss: number; accuracy: number }) => ReturnType<GradientTransformation<unknown>["update"]>;
  } = {},
): E.Either<OptimizerError, { params: MlpParams; state: unknown; steps: number }> => {
  const init = optimizer.init(initial);
  if (E.isLeft(init)) return init;
  let state = init.right;
  let params = initial;
  let step = 0;
  const rows = Array.from({ length: train.n }, (_, i) => i);
  for (let epoch = 0; epoch < config.epochs; epoch++) {
    const order = shuffled(rows, random);
    let lossSum = 0;
    let batches = 0;
    for (let start = 0; start < order.length; start += config.batchSize) {
      const batch = takeBatch(train, order.slice(start, start + config.batchSize));
      const { loss, grads } = lossAndGrad(params, batch);
      const batchAccuracy = accuracy(params, batch);
      const stepped = hooks.update
        ? hooks.update(grads, state, params, { loss, accuracy: batchAccuracy })
        : optimizer.update(grads, state, params);
      if (E.isLeft(stepped)) return stepped;
      const [updates, next] = stepped.right;
      const applied = applyUpdates(params, updates);
      if (E.isLeft(applied)) return applied;
      hooks.onStep?.({ step, epoch, loss, accuracy: batchAccuracy, lr: schedule(step), params, grads, updates, state: next });
      params = applied.right as unknown as MlpParams;
      state = next;
      lossSum += loss;
      batches++;
      step++;
    }
    hooks.onEpoch?.({ epoch, steps: step, params, loss: lossSum / batches });
  }
  return E.right({ params, state, steps: step });
};
