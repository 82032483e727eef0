/**
 * Schedule-free averaging (Defazio et al. 2024, "The Road Less Scheduled"): the last member of a chain whose
 * earlier members are the base optimizer, as optax's `contrib.schedule_free` wraps one.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { denseValues, allocate, dtypeOf, leafOf } from "../core/leaf.js";
import { aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import { flatten, flattenLike, unflatten, type Tree } from "../core/tree.js";
import { describeValue, scheduleProblem, type Schedule } from "../schedules/schedule.js";
import { learningRateAt } from "./scaleByLr.js";

/** Options of {@link scheduleFree}, named and defaulted as optax's `contrib.schedule_free` (`lr` for `learning_rate`). */
export interface ScheduleFreeOptions {
  /** The base optimizer's learning rate α (or schedule αₜ, read at t + 1 as optax reads it): it weighs the average. */
  readonly lr: number | Schedule;
  /** β₁ of the interpolation y = (1 − β₁)·z + β₁·x, in (0, 1] (default 0.9). */
  readonly b1?: number;
  /** r: step t's weight in the average of the z's is max_{s ≤ t} αₛʳ (default 2). */
  readonly weightLrPower?: number;
}

/**
 * State of {@link scheduleFree}: steps taken (optax's `step_count` is count + 1), β₁, the running maximum of the
 * learning rate, the sum of the averaging weights, and z, the base optimizer's iterate (the params at init).
 */
export interface ScheduleFreeState {
  readonly kind: "scheduleFree";
  readonly count: number;
  readonly z: Tree;
  readonly b1: number;
  readonly maxLr: number;
  readonly weightSum: number;
}

/** c_t = w_t / (W + w_t) as optax computes it: NaN if either is NaN, 0 for 0/0, +∞ kept. */
const averagingWeight = (weight: number, total: number): number =>
  Number.isNaN(weight) || Number.isNaN(total) ? NaN : total === 0 && weight === 0 ? 0 : weight / total;

/**
 * Schedule-free averaging, the last member of a chain whose earlier members give the base step u = Δz (for AdamW:
 * scaleByRms, addWeightDecay, scaleByLr). The params the chain is stepped at are y; per element at step t = 1, 2, …:
 *
 *   αₘ = max(αₘ, α_t),  w = αₘʳ,  W ← W + w,  c = w / W          (α_t = lr(t) for a schedule, optax's step count)
 *   z′ = z + u
 *   x = (y − (1 − β₁)·z) / β₁                                     the average, from y and the old z
 *   x′ = (1 − c)·x + c·z′,   y′ = β₁·x′ + (1 − β₁)·z′
 *   u′ = y′ − y
 *
 * so the params follow y, and {@link scheduleFreeEvalParams} gives x (the point to evaluate at). Needs the params.
 * Elementwise: a chain fuses it with its base. Invalid options are an InvalidOption Left, at init and update; a
 * learning rate that is negative or not finite at some step is a Left naming the step.
 * @example
 * const sfSgd = chain(scaleByLr(1.0), scheduleFree({ lr: 1.0, b1: 0.9 })); // optax's schedule_free(sgd(1.0), 1.0)
 */
export const scheduleFree = (o: ScheduleFreeOptions): GradientTransformation<ScheduleFreeState> => {
  const name = "scheduleFree";
  const read = readOptions(name, o, { lr: required(aNumberOrSchedule), b1: optional(aNumber, 0.9), weightLrPower: optional(aNumber, 2) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { b1, weightLrPower } = read.right;
  const lr = read.right.lr as number | Schedule;
  const hyperparams = { lr: describeValue(lr), b1, weightLrPower };
  const refuse = (message: string) => failing<ScheduleFreeState>(name, hyperparams, optimizerError("InvalidOption", message));
  if (!(b1 > 0 && b1 <= 1)) return refuse(`Invalid b1: ${showValue(b1)} (must be in (0, 1])`);
  if (!Number.isFinite(weightLrPower)) return refuse(`Invalid weightLrPower: ${showValue(weightLrPower)} (must be finite)`);
  const problem = scheduleProblem(lr);
  if (problem !== undefined) return refuse(problem);
  if (typeof lr === "number" && !(Number.isFinite(lr) && lr >= 0)) return refuse(`Invalid learning rate: ${showValue(lr)} (must be finite and >= 0)`);
  return defineElementwise<ScheduleFreeState>({
    name,
    hyperparams,
    state: { kind: "scheduleFree", count: true, trees: { z: "params" }, values: { b1, maxLr: 0, weightSum: 0 } },
    bodies: {
      // z′ = z + u;  y′ − y with x = (y − (1 − β₁)z)/β₁, x′ = (1 − c)x + c·z′, y′ = β₁x′ + (1 − β₁)z′
      average: { z: "z + u", u: "(b1 * (k * ((p - c1 * z) / b1) + ck * z') + c1 * z') - p" },
    },
    step: (count, state) => {
      const { maxLr: lastMax, weightSum: lastSum, b1: stateB1 } = state;
      if (typeof lastMax !== "number" || typeof lastSum !== "number" || stateB1 !== b1)
        return E.left(optimizerError("StateMismatch", `${name}: a state with b1 ${showValue(stateB1)}, maxLr ${showValue(lastMax)}, weightSum ${showValue(lastSum)} is not this transformation's (b1 ${b1})`));
      const alpha = learningRateAt(lr, count + 1); // optax reads the schedule at its step_count, count + 1
      if (E.isLeft(alpha)) return alpha;
      const maxLr = Math.max(lastMax, alpha.right);
      const weight = Math.pow(maxLr, weightLrPower); // w = αₘʳ
      const weightSum = lastSum + weight;
      const ck = averagingWeight(weight, weightSum);
      return E.right({ body: "average", scalars: { b1, c1: 1 - b1, k: 1 - ck, ck }, values: { b1, maxLr, weightSum } });
    },
  });
};

/**
 * The params to evaluate a schedule-free run at (optax's `contrib.schedule_free_eval_params`): x = (y − (1 − β₁)·z) / β₁
 * per element, from the params y and the z and β₁ of the {@link scheduleFree} state inside `state` (the state of
 * {@link scheduleFreeAdamw}, of any chain, partition or wrapper holding one; the first found, depth first). A fresh
 * frozen tree of y's structure, each value rounded once to its leaf's dtype; a state holding none, or params of
 * another tree, is a Left.
 * @example
 * const x = scheduleFreeEvalParams(state, params); // evaluate the model at x, keep training at params
 */
export const scheduleFreeEvalParams = (state: unknown, params: Tree): E.Either<OptimizerError, Tree> => {
  try {
    const found = findScheduleFree(state, 0);
    if (found === undefined) return E.left(optimizerError("StateMismatch", "scheduleFreeEvalParams: the state holds no scheduleFree state"));
    const { z, b1 } = found;
    if (typeof b1 !== "number" || !(b1 > 0 && b1 <= 1)) return E.left(optimizerError("StateMismatch", `scheduleFreeEvalParams: the state's b1 is ${showValue(b1)}`));
    const y = flatten(params);
    if (E.isLeft(y)) return y;
    const zs = flattenLike(y.right, z as Tree, ["params", "the state's z"]);
    if (E.isLeft(zs)) return zs;
    const out = y.right.leaves.map((leaf, k) => {
      const p = denseValues(leaf);
      const zv = denseValues(zs.right.leaves[k]!);
      const x = allocate(dtypeOf(leaf), p.length);
      for (let i = 0; i < p.length; i++) x[i] = (p[i]! - (1 - b1) * zv[i]!) / b1; // x = (y − (1 − β₁)z) / β₁
      return leafOf(x, leaf.shape);
    });
    return E.right(unflatten(y.right.def, out, y.right.paths));
  } catch (e) {
    return E.left(optimizerError("InvalidTree", `scheduleFreeEvalParams: reading its arguments threw ${showValue(e)}`));
  }
};

/** The first record of kind "scheduleFree" in a state, through arrays and records' fields, depth first. */
const findScheduleFree = (state: unknown, depth: number): { z: unknown; b1: unknown } | undefined => {
  if (depth > 64 || typeof state !== "object" || state === null) return undefined;
  const record = state as { readonly kind?: unknown; readonly z?: unknown; readonly b1?: unknown };
  if (!Array.isArray(state) && record.kind === "scheduleFree") return { z: record.z, b1: record.b1 };
  for (const value of Array.isArray(state) ? state : Object.values(state)) {
    if (typeof value !== "object" || value === null || ArrayBuffer.isView((value as { data?: unknown }).data)) continue;
    const inner = findScheduleFree(value, depth + 1);
    if (inner !== undefined) return inner;
  }
  return undefined;
};

registerBuilder("scheduleFree", scheduleFree);
