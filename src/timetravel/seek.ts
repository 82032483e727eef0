/**
 * Seeking: the exact `{ params, state }` at any recorded step, from the nearest keyframe at or before it and the
 * recorded gradients after it.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "../core/caught.js";
import { applyUpdates } from "../core/apply.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { rebuildOptimizer } from "./rebuildOptimizer.js";
import { optionsArg, recordingArg, stepArg, transformationArg } from "./timeTravelArgs.js";
import type { BranchInfo, Recording } from "./recordingReader.js";

/** Params and optimizer state before a step (after the steps before it). */
export interface RunPoint {
  readonly params: Tree;
  readonly state: unknown;
}

/** Options of {@link seek}. */
export interface SeekOptions {
  /** The branch to seek in (default 0, the main run). */
  readonly branch?: number;
  /** The optimizer the branch ran with; rebuilt from its recorded spec when omitted ({@link rebuildOptimizer}). */
  readonly optimizer?: GradientTransformation<any>;
}

/** The branch, or a Left listing the branches. */
export const branchOf = (rec: Recording, branch: number): E.Either<OptimizerError, BranchInfo> => {
  const info = rec.branches.get(branch);
  return info
    ? E.right(info)
    : E.left(optimizerError("InvalidOption", `${rec.path} has no branch ${branch}; its branches are ${[...rec.branches.keys()].join(", ")}`));
};

/** The branch's optimizer: the given one, or rebuilt from its spec and the state it starts from. */
export const optimizerFor = (
  info: BranchInfo,
  state: unknown,
  given?: GradientTransformation<any>,
): E.Either<OptimizerError, GradientTransformation<any>> => (given ? E.right(given) : rebuildOptimizer(info.optimizer, state));

/**
 * One replayed step: (u, s′) = opt.update(g, s, p), p′ = p + u. The recorder assumed the caller applied u this way.
 */
export const replayStep = (
  opt: GradientTransformation<any>,
  point: RunPoint,
  grads: Tree,
): E.Either<OptimizerError, { readonly next: RunPoint; readonly updates: Tree }> => {
  const stepped = opt.update(grads, point.state, point.params);
  if (E.isLeft(stepped)) return stepped;
  const params = applyUpdates(point.params, stepped.right[0]);
  if (E.isLeft(params)) return params;
  return E.right({ next: { params: params.right, state: stepped.right[1] }, updates: stepped.right[0] });
};

/**
 * { p_t, s_t }: the params and state before step t of a branch. With k the last keyframe of the branch at or
 * before t, it is the keyframe when k = t, else the keyframe replayed through steps k … t−1 with their recorded
 * gradients: (u_i, s_{i+1}) = opt.update(g_i, s_i, p_i), p_{i+1} = p_i + u_i. Steps before a fork are sought in
 * the branch it forked from. Without recorded gradients, a step between keyframes is a Left that says so.
 * Step t may be the branch's end (the state after its last step).
 * @example
 * const at50 = seek(recording, 50); // Either<OptimizerError, { params, state }>
 */
export const seek = (rec: Recording, step: number, options?: SeekOptions): E.Either<OptimizerError, RunPoint> => {
  try {
    return seekChecked(rec, step, options);
  } catch (e) {
    return threw("seek", e); // options or a recording a program forged: a getter or a Proxy trap that throws
  }
};

const seekChecked = (rec: Recording, step: number, options?: SeekOptions): E.Either<OptimizerError, RunPoint> => {
  const recording = recordingArg(rec, "seek");
  if (E.isLeft(recording)) return recording;
  const at = stepArg(step, "seek");
  if (E.isLeft(at)) return at;
  const o = optionsArg<SeekOptions>(options, "seek");
  if (E.isLeft(o)) return o;
  if (o.right.optimizer !== undefined) {
    const given = transformationArg(o.right.optimizer, "seek");
    if (E.isLeft(given)) return given;
  }
  const branch = o.right.branch ?? 0;
  if (typeof branch !== "number") return E.left(optimizerError("InvalidOption", `seek: the branch must be a number, got ${typeof branch}`));
  return seekIn(rec, step, { ...o.right, branch });
};

const seekIn = (rec: Recording, step: number, options: SeekOptions): E.Either<OptimizerError, RunPoint> => {
  const info = branchOf(rec, options.branch ?? 0);
  if (E.isLeft(info)) return info;
  const b = info.right;
  if (!Number.isSafeInteger(step) || step < 0 || step > b.endStep)
    return E.left(optimizerError("InvalidOption", `step ${step} is not in ${rec.path} (branch ${b.branch} has steps 0 to ${b.endStep})`, { step }));
  if (b.parent !== null && step < b.forkStep) return seekIn(rec, step, { branch: b.parent });
  const k = [...b.keyframeSteps].reverse().find((s) => s <= step);
  if (k === undefined) return E.left(optimizerError("DecodeError", `branch ${b.branch} of ${rec.path} has no keyframe at or before step ${step}`, { step }));
  const start = rec.keyframe(b.branch, k);
  if (E.isLeft(start) || k === step) return start;
  const missing = [...Array(step - k).keys()].map((i) => k + i).find((s) => !b.gradSteps.has(s));
  if (missing !== undefined) {
    const after = b.keyframeSteps.find((s) => s > step);
    return E.left(
      optimizerError(
        "InvalidOption",
        `step ${step} lies between keyframes (${k}${after !== undefined ? ` and ${after}` : ""}) and ${rec.path} ` +
          `${b.recordGrads ? `lacks the gradient of step ${missing}` : "was recorded without gradients (recordGrads: false)"}, ` +
          `so it cannot be replayed; seek to a keyframe step (${b.keyframeSteps.join(", ")})`,
        { step },
      ),
    );
  }
  const opt = optimizerFor(b, start.right.state, options.optimizer);
  if (E.isLeft(opt)) return opt;
  let point: RunPoint = start.right;
  for (let s = k; s < step; s++) {
    const g = rec.grads(b.branch, s);
    if (E.isLeft(g)) return g;
    const next = replayStep(opt.right, point, g.right);
    if (E.isLeft(next)) return next;
    point = next.right.next;
  }
  return E.right(point);
};
