/**
 * The descent step: scaling by minus the learning rate, constant or scheduled.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { aNumberOrSchedule, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import { describeValue, scheduleProblem, type Schedule } from "../schedules/schedule.js";

/**
 * State of {@link scaleByLr}: the step t, counted from 0, at which the schedule is read next, and the learning
 * rate the last step used (NaN before the first), so that checkpoints and recordings show it.
 */
export interface ScaleByLrState {
  readonly kind: "scaleByLr";
  readonly count: number;
  readonly lr: number;
}

const invalidLr = (lr: unknown, step?: number) =>
  optimizerError(
    "InvalidOption",
    `Invalid learning rate: ${showValue(lr)}${step === undefined ? "" : ` at step ${showValue(step)}`} (must be finite and >= 0)`,
    step === undefined ? {} : { step },
  );

/**
 * αₜ: the learning rate `lr` (a number or a schedule) at step t, as {@link scaleByLr} reads it: a schedule that
 * throws, or a value that is negative or not finite, is an InvalidOption Left naming the step.
 * @example
 * learningRateAt(0.1, 7) // Right(0.1); learningRateAt((t) => 0.1 / (t + 1), 1) // Right(0.05)
 */
export const learningRateAt = (lr: number | Schedule, t: number): E.Either<OptimizerError, number> => {
  let alpha: unknown;
  try {
    const problem = scheduleProblem(lr);
    if (problem !== undefined) return E.left(optimizerError("InvalidOption", problem));
    alpha = typeof lr === "number" ? lr : lr(t);
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `the learning-rate schedule failed at step ${showValue(t)}: ${showValue(e)}`, { step: t }));
  }
  // a schedule may return anything: only a number is a rate (no coercion of a string, no toString of an object)
  return typeof alpha === "number" && Number.isFinite(alpha) && alpha >= 0 ? E.right(alpha) : E.left(invalidLr(alpha, t));
};

/**
 * u ← −αₜ·u, where αₜ is `lr` or `lr(t)` for a schedule, t = 0, 1, … counted in the state.
 * A learning rate (or a schedule's value) that is negative or not finite is an InvalidOption Left.
 * @example
 * const descend = scaleByLr(polynomialDecay({ init: 0.5, power: 2, totalSteps: 1000 }));
 */
export const scaleByLr = (rate: number | Schedule): GradientTransformation<ScaleByLrState> => {
  const name = "scaleByLr";
  const o = readOptions(name, { lr: rate }, { lr: required(aNumberOrSchedule) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const lr = o.right.lr as number | Schedule;
  const hyperparams = { lr: describeValue(lr) };
  if (typeof lr === "number" && !(Number.isFinite(lr) && lr >= 0)) return failing(name, hyperparams, invalidLr(lr));
  const problem = scheduleProblem(lr);
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  return defineElementwise<ScaleByLrState>({
    name,
    hyperparams,
    state: { kind: "scaleByLr", count: true, values: { lr: NaN } },
    bodies: { descend: { u: "-alpha * u" } }, // u ← −αₜ·u
    step: (t) => E.map((alpha: number) => ({ body: "descend", scalars: { alpha }, values: { lr: alpha } }))(learningRateAt(lr, t)),
  });
};
