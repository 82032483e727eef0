/**
 * Forking: continue a recorded run from one of its steps with another optimizer (another lr, momentum, ...) as a
 * new branch of the same recording, which shares the prefix before the fork.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";
import { checkStateShape } from "./checkStateShape.js";
import { openFrameWriter } from "./frameWriter.js";
import { keyframeBytes, metaJson, runSettings, stepRecorder, type Recorder, type RecordingOptions } from "./recorder.js";
import { jsonPayload, stepPayload } from "./recordingFrame.js";
import { FRAME, type BranchHeader } from "./recordingLayout.js";
import type { Recording } from "./recordingReader.js";
import { seek, type RunPoint } from "./seek.js";

/** Options of {@link fork}. */
export interface ForkOptions extends Partial<RecordingOptions> {
  /** The branch to fork from (default 0). */
  readonly from?: number;
  /** The optimizer that branch ran with, to seek the fork point (rebuilt from its spec when omitted). */
  readonly parentOptimizer?: GradientTransformation<any>;
}

/**
 * Appends a branch to the recording: a branch frame (id, parent, fork step t, the new optimizer's spec, K,
 * recordGrads) and a keyframe of { p_t, s_t } sought in the parent; returns that point and a recorder of the new
 * branch from step t on. The state must have the form the new optimizer expects (same transformations and tree).
 * K and recordGrads default to the parent's.
 * @example
 * const f = fork(recording, 40, lars({ lr: 0.05, momentum: 0.8 }));
 * // then: f.right.recorder.step(grads, f.right.start.state, f.right.start.params), ...
 */
export const fork = <S>(
  rec: Recording,
  step: number,
  optimizer: GradientTransformation<S>,
  options: ForkOptions = {},
): E.Either<OptimizerError, { readonly recorder: Recorder<S>; readonly start: RunPoint & { readonly state: S } }> => {
  if (rec.truncatedAt !== null)
    return E.left(optimizerError("InvalidOption", `${rec.path} ends in a cut-short frame; it cannot be appended to (copy its intact part first)`));
  const parent = rec.branches.get(options.from ?? 0);
  if (parent === undefined) return E.left(optimizerError("InvalidOption", `${rec.path} has no branch ${options.from ?? 0} to fork from`));
  const start = seek(rec, step, { branch: parent.branch, ...(options.parentOptimizer ? { optimizer: options.parentOptimizer } : {}) });
  if (E.isLeft(start)) return start;
  const expected = optimizer.init(start.right.params);
  if (E.isLeft(expected)) return expected;
  const fits = checkStateShape(expected.right, start.right.state);
  if (E.isLeft(fits))
    return E.left(optimizerError("StateMismatch", `the new optimizer cannot continue from step ${step}: ${fits.left.message}`, { step }));
  const meta = metaJson(options.meta);
  if (E.isLeft(meta)) return meta;
  const settings = runSettings(optimizer, { keyframeEvery: options.keyframeEvery ?? parent.keyframeEvery, recordGrads: options.recordGrads ?? parent.recordGrads });
  const branch = Math.max(...rec.branches.keys()) + 1;
  const header: BranchHeader = { branch, parent: parent.branch, forkStep: step, ...settings, meta: meta.right };
  const keyframe = keyframeBytes(start.right, step, branch, settings);
  if (E.isLeft(keyframe)) return keyframe;
  const writer = openFrameWriter(rec.path, "append");
  if (E.isLeft(writer)) return writer;
  const wrote = [writer.right.append(FRAME.branch, jsonPayload(header)), writer.right.append(FRAME.keyframe, stepPayload(branch, step, keyframe.right))];
  for (const w of wrote)
    if (E.isLeft(w)) {
      writer.right.close();
      return w;
    }
  const state = start.right.state as S;
  const paths = rec.header.leaves.map((l) => l.path);
  return E.right({
    recorder: stepRecorder(writer.right, rec.path, optimizer, settings, paths, branch, step, { state }),
    start: { params: start.right.params, state },
  });
};
