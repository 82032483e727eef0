/**
 * Forking: continue a recorded run from one of its steps with another optimizer (another lr, momentum, ...) as a
 * new branch of the same recording, which shares the prefix before the fork.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "../core/caught.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { GradientTransformation } from "../core/transform.js";
import { checkStateShape } from "./checkStateShape.js";
import { openFrameWriter } from "./frameWriter.js";
import { keyframeBytes, metaJson, recordingOptions, runSettings, stepRecorder, type Recorder, type RecordingOptions } from "./recorder.js";
import { jsonPayloadOf, stepPayload } from "./recordingFrame.js";
import { FRAME, LAYOUT_V1, LAYOUT_V2, type BranchHeader } from "./recordingLayout.js";
import { optionsArg, recordingArg, stepArg, transformationArg } from "./timeTravelArgs.js";
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
  options?: ForkOptions,
): E.Either<OptimizerError, { readonly recorder: Recorder<S>; readonly start: RunPoint & { readonly state: S } }> => {
  try {
    return forkChecked(rec, step, optimizer, options);
  } catch (e) {
    return threw("fork", e); // options or a recording a program forged: a getter or a Proxy trap that throws
  }
};

const forkChecked = <S>(
  rec: Recording,
  step: number,
  optimizer: GradientTransformation<S>,
  options?: ForkOptions,
): E.Either<OptimizerError, { readonly recorder: Recorder<S>; readonly start: RunPoint & { readonly state: S } }> => {
  const recording = recordingArg(rec, "fork");
  if (E.isLeft(recording)) return recording;
  const at = stepArg(step, "fork");
  if (E.isLeft(at)) return at;
  const opt = transformationArg<S>(optimizer, "fork");
  if (E.isLeft(opt)) return opt;
  const o = optionsArg<ForkOptions>(options, "fork");
  if (E.isLeft(o)) return o;
  const from = o.right.from ?? 0;
  if (o.right.parentOptimizer !== undefined) {
    const given = transformationArg(o.right.parentOptimizer, "fork", "parentOptimizer");
    if (E.isLeft(given)) return given;
  }
  if (rec.truncatedAt !== null)
    return E.left(optimizerError("InvalidOption", `${rec.path} ends in a cut-short frame; it cannot be appended to (copy its intact part first)`));
  const parent = rec.branches.get(from);
  if (parent === undefined) return E.left(optimizerError("InvalidOption", `${rec.path} has no branch ${String(from)} to fork from`));
  const start = seek(rec, step, { branch: parent.branch, ...(o.right.parentOptimizer ? { optimizer: o.right.parentOptimizer } : {}) });
  if (E.isLeft(start)) return start;
  const expected = optimizer.init(start.right.params);
  if (E.isLeft(expected)) return expected;
  const fits = checkStateShape(expected.right, start.right.state);
  if (E.isLeft(fits))
    return E.left(optimizerError("StateMismatch", `the new optimizer cannot continue from step ${step}: ${fits.left.message}`, { step }));
  const settingsOf = recordingOptions(o.right, parent);
  if (E.isLeft(settingsOf)) return settingsOf;
  const meta = metaJson(o.right.meta);
  if (E.isLeft(meta)) return meta;
  const settings = runSettings(optimizer, settingsOf.right);
  const branch = Math.max(...rec.branches.keys()) + 1;
  const header: BranchHeader = { branch, parent: parent.branch, forkStep: step, ...settings, meta: meta.right };
  const keyframe = keyframeBytes(start.right, step, branch, settings);
  if (E.isLeft(keyframe)) return keyframe;
  const payload = jsonPayloadOf(header);
  if (E.isLeft(payload)) return payload;
  // the branch is appended in the file's own format (a format-1 recording gets format-1 frames)
  const writer = openFrameWriter(rec.path, "append", rec.header.format === LAYOUT_V1.format ? LAYOUT_V1 : LAYOUT_V2);
  if (E.isLeft(writer)) return writer;
  const wrote = writer.right.append([
    [FRAME.branch, payload.right],
    [FRAME.keyframe, stepPayload(branch, step, keyframe.right)],
  ]);
  if (E.isLeft(wrote)) {
    writer.right.close();
    return wrote;
  }
  const state = start.right.state as S;
  const paths = rec.header.leaves.map((l) => l.path);
  return E.right({
    recorder: stepRecorder(writer.right, rec.path, optimizer, settings, paths, branch, step, { state }),
    start: { params: start.right.params, state },
  });
};
