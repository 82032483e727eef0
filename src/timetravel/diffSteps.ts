/**
 * Diffs inside a recording: the whole `{ params, state }` at two steps (of one branch or two), or one leaf's
 * params and optimizer buffers at two steps.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "../core/caught.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { diffStates, type StateDiff } from "./diffStates.js";
import type { Recording } from "./recordingReader.js";
import { seek } from "./seek.js";
import { recordingArg } from "./timeTravelArgs.js";

/** A step of a branch (default 0). */
export interface StepRef {
  readonly step: number;
  readonly branch?: number;
}

/**
 * The params leaf a path inside `{ params, state }` belongs to: the longest leaf path it ends with
 * (`params.fc.weight`, `state[1].trace.fc.weight` and `state[2].ratios.fc.weight` belong to `fc.weight`).
 */
const ownerOf = (path: string, leaves: readonly string[]): string | undefined => {
  let owner: string | undefined;
  for (const leaf of leaves)
    if ((path === `params.${leaf}` || path.endsWith(`.${leaf}`) || (leaf === "" && path === "params")) && (owner === undefined || leaf.length > owner.length))
      owner = leaf;
  return owner;
};

/**
 * How `{ p, s }` at step b differs from that at step a ({@link diffStates}: per leaf the max absolute and relative
 * difference, the norm change and the first differing index; the scalars that differ). Given `leaf`, only the
 * entries of that params leaf are kept: its params and its optimizer buffers (momentum, ...).
 * @example
 * const d = diffSteps(recording, { step: 10 }, { step: 20 }, "fc.weight");
 */
export const diffSteps = (rec: Recording, a: StepRef, b: StepRef, leaf?: string): E.Either<OptimizerError, StateDiff> => {
  try {
    const recording = recordingArg(rec, "diffSteps");
    if (E.isLeft(recording)) return recording;
    for (const [what, ref] of [["first", a], ["second", b]] as const)
      if (typeof ref !== "object" || ref === null)
        return E.left(optimizerError("InvalidOption", `diffSteps: the ${what} step must be { step, branch? }, not ${showValue(ref)}`));
    if (leaf !== undefined && typeof leaf !== "string")
      return E.left(optimizerError("InvalidOption", `diffSteps: the leaf must be a path (a string), not ${showValue(leaf)}`));
    return diffStepsChecked(rec, a, b, leaf);
  } catch (e) {
    return threw("diffSteps", e); // step records a program forged: a getter or a Proxy trap that throws
  }
};

const diffStepsChecked = (rec: Recording, a: StepRef, b: StepRef, leaf?: string): E.Either<OptimizerError, StateDiff> => {
  const x = seek(rec, a.step, { branch: a.branch ?? 0 });
  if (E.isLeft(x)) return x;
  const y = seek(rec, b.step, { branch: b.branch ?? 0 });
  if (E.isLeft(y)) return y;
  const diff = diffStates(x.right, y.right);
  if (E.isLeft(diff) || leaf === undefined) return diff;
  if (!rec.header.leaves.some((l) => l.path === leaf))
    return E.left(optimizerError("InvalidOption", `${rec.path} has no leaf "${leaf}"; its leaves are ${rec.header.leaves.map((l) => l.path).join(", ")}`));
  const paths = rec.header.leaves.map((l) => l.path);
  const leaves = diff.right.leaves.filter((l) => ownerOf(l.path, paths) === leaf);
  const scalars = diff.right.scalars.filter((s) => ownerOf(s.path, paths) === leaf);
  return E.right(Object.freeze({ leaves, scalars, identical: scalars.length === 0 && leaves.every((l) => l.differing === 0) }));
};
