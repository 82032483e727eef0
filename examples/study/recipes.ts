/**
 * The study's three optimizers, each with the tuning rule it is given at every batch size B: a peak learning
 * rate α(B), reached by a linear warm-up over the first {@link WARMUP_FRACTION} of the T steps and then decayed
 * polynomially (power 2) to 0; weight decay on the kernels only (biases excluded by name, as in the example).
 * @module
 */
import { type GradientTransformation, adamw, sgd } from "larch";
import { decayUnlessBias, larsOptimizer, warmupThenDecay } from "../mnist/optimizer.js";

/** Share of a run's steps spent warming up (at least one step). */
export const WARMUP_FRACTION = 0.1;
/** Power of the polynomial decay after the warm-up. */
export const DECAY_POWER = 2;

/** An optimizer's tuning rule, as the study records it. */
export interface Recipe {
  readonly name: "lars" | "sgd" | "adamw";
  /** The rule in words, for the page and the JSON. */
  readonly tuning: string;
  /** The hyper-parameters that do not depend on the batch size. */
  readonly fixed: { readonly [key: string]: number | boolean };
  /** Peak learning rate α(B) at batch size B. */
  readonly lrAt: (batchSize: number) => number;
  /** The optimizer for a run of `totalSteps` steps at peak lr α: its schedule is {@link scheduleFor}. */
  readonly build: (lr: number, totalSteps: number) => GradientTransformation<unknown>;
}

/** Warm-up steps of a T-step run: max(1, round(WARMUP_FRACTION · T)). */
export const warmupStepsFor = (totalSteps: number): number => Math.max(1, Math.round(WARMUP_FRACTION * totalSteps));

/** The schedule every run follows: warm-up to α over {@link warmupStepsFor} steps, then polynomial decay to 0. */
export const scheduleFor = (lr: number, totalSteps: number) =>
  warmupThenDecay({ lr, warmupSteps: warmupStepsFor(totalSteps), power: DECAY_POWER }, totalSteps);

/**
 * LARS (the seed's) as in the example — `lars` on the kernels, `sgd` with momentum on the biases — with the
 * square-root scaling rule α(B) = α₀ · √(B / B₀).
 */
export const larsRecipe = (lr0: number, batch0: number, momentum = 0.9, weightDecay = 5e-4): Recipe => ({
  name: "lars",
  tuning: `lr ${lr0} × √(B/${batch0}) (square-root scaling), momentum ${momentum}, weight decay ${weightDecay} on kernels; biases: sgd, same lr and momentum, no trust ratio`,
  fixed: { lr0, batch0, momentum, weightDecay },
  lrAt: (batchSize) => lr0 * Math.sqrt(batchSize / batch0),
  build: (peak, steps) =>
    larsOptimizer({ lr: peak, warmupSteps: warmupStepsFor(steps), power: DECAY_POWER, momentum, weightDecay }, steps).optimizer,
});

/** SGD with momentum and the linear scaling rule (Goyal et al. 2017): α(B) = α₀ · B / B₀, with warm-up. */
export const sgdRecipe = (lr0: number, batch0: number, momentum = 0.9, weightDecay = 5e-4): Recipe => ({
  name: "sgd",
  tuning: `lr ${lr0} × B/${batch0} (linear scaling), momentum ${momentum}, weight decay ${weightDecay} on kernels`,
  fixed: { lr0, batch0, momentum, weightDecay },
  lrAt: (batchSize) => (lr0 * batchSize) / batch0,
  build: (peak, steps) => {
    const common = { lr: scheduleFor(peak, steps), momentum };
    return decayUnlessBias(sgd({ ...common, weightDecay }), sgd({ ...common, weightDecay: 0 }));
  },
});

/** AdamW with the square-root scaling rule: α(B) = α₀ · √(B / B₀); decoupled weight decay on kernels. */
export const adamwRecipe = (lr0: number, batch0: number, weightDecay = 0.01): Recipe => ({
  name: "adamw",
  tuning: `lr ${lr0} × √(B/${batch0}) (square-root scaling), β₁ 0.9, β₂ 0.999, ε 1e-8, decoupled weight decay ${weightDecay} on kernels`,
  fixed: { lr0, batch0, weightDecay, b1: 0.9, b2: 0.999, eps: 1e-8 },
  lrAt: (batchSize) => lr0 * Math.sqrt(batchSize / batch0),
  build: (peak, steps) => {
    const lr = scheduleFor(peak, steps);
    return decayUnlessBias(adamw({ lr, weightDecay }), adamw({ lr, weightDecay: 0 }));
  },
});
