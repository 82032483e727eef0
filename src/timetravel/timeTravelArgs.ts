/**
 * Checks of what a plain-JavaScript caller hands the time-travel functions (a recording, an optimizer, a step,
 * options), each a Left naming the argument, so that none of them throws on a null or a stray value.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Recording } from "./recordingReader.js";

const describe = (x: unknown): string => {
  try {
    return x === null ? "null" : Array.isArray(x) ? "an array" : typeof x;
  } catch {
    return "a revoked Proxy"; // Array.isArray throws for one
  }
};

/** `test(x)`, false when reading x throws (a getter, a Proxy's trap). */
const holds = (test: () => boolean): boolean => {
  try {
    return test();
  } catch {
    return false;
  }
};
const invalid = (message: string): OptimizerError => optimizerError("InvalidOption", message);

/** `x`, when it is a recording readRecording returned. */
export const recordingArg = (x: unknown, fn: string): E.Either<OptimizerError, Recording> =>
  holds(() => typeof x === "object" && x !== null && typeof (x as Recording).keyframe === "function" && typeof (x as Recording).steps === "function" && (x as Recording).branches instanceof Map)
    ? E.right(x as Recording)
    : E.left(invalid(`${fn} needs a recording (from readRecording), got ${describe(x)}`));

/** `x`, when it has the init and update functions and the name of a gradient transformation. */
export const transformationArg = <S>(x: unknown, fn: string, what = "optimizer"): E.Either<OptimizerError, GradientTransformation<S>> =>
  holds(() => typeof x === "object" && x !== null && typeof (x as GradientTransformation).init === "function" && typeof (x as GradientTransformation).update === "function" && typeof (x as GradientTransformation).name === "string")
    ? E.right(x as GradientTransformation<S>)
    : E.left(invalid(`${fn}: the ${what} must be a gradient transformation (such as lars({ lr: 0.1 })), got ${describe(x)}`));

/** The options record, `{}` when undefined; a Left for anything but a plain object. */
export const optionsArg = <O extends object>(x: unknown, fn: string): E.Either<OptimizerError, Partial<O>> =>
  x === undefined
    ? E.right({})
    : holds(() => typeof x === "object" && x !== null && !Array.isArray(x))
      ? E.right(x as Partial<O>)
      : E.left(invalid(`${fn}: the options must be an object, got ${describe(x)}`));

/** A step number: a whole number ≥ 0. */
export const stepArg = (x: unknown, fn: string): E.Either<OptimizerError, number> =>
  typeof x === "number" && Number.isSafeInteger(x) && x >= 0 ? E.right(x) : E.left(invalid(`${fn}: the step must be a whole number >= 0, got ${typeof x === "number" ? String(x) : describe(x)}`));
