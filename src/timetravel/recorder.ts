/**
 * Recording a run: the explicit, impure edge around a pure optimizer. Transforms know nothing of it; the
 * recorder calls `optimizer.update` and appends what the step did to a `*.larch` file.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { applyUpdates } from "../core/apply.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { dtypeOf } from "../core/leaf.js";
import { specOf, type GradientTransformation, type Step } from "../core/transform.js";
import { flatten, type Tree } from "../core/tree.js";
import { encodeState } from "./encodeState.js";
import { isDonated, reusedError } from "../core/donation.js";
import { metaToJson } from "./checkpointMeta.js";
import { nodeIo, openFrameWriter, type FrameWriter, type WriterIo } from "./frameWriter.js";
import { jsonPayloadOf, stepPayload } from "./recordingFrame.js";
import { optionsArg, transformationArg } from "./timeTravelArgs.js";
import { ARITHMETIC, FRAME, LAYOUT_V2, type RecordingHeader, type RunSettings } from "./recordingLayout.js";
import { encodeStats } from "./statsFrame.js";
import { stepStats } from "./stepStats.js";
import type { Json } from "./stateValue.js";

/** Options of {@link openRecording}. */
export interface RecordingOptions {
  /** K ≥ 1: a full keyframe `{ params, state }` is written before every step t with t mod K = 0 (default 20). */
  readonly keyframeEvery: number;
  /**
   * Record each step's gradient (as large as the params): needed to seek between keyframes and to verify
   * (default true).
   */
  readonly recordGrads: boolean;
  /** Free-form JSON describing the run (title, dataset, seed, ...); no timestamps, so runs stay byte-identical. */
  readonly meta?: unknown;
}

/** What a step may add to the record besides what the optimizer computes. */
export interface StepExtras {
  readonly loss?: number;
  readonly accuracy?: number;
}

/** What a closed recording holds. */
export interface RecordingSummary {
  readonly path: string;
  readonly branch: number;
  /** Steps of this branch are [firstStep, endStep). */
  readonly firstStep: number;
  readonly endStep: number;
}

/** A recording being written. Not pure: each call appends to the file. */
export interface Recorder<S = unknown> {
  readonly path: string;
  readonly branch: number;
  /** The step the next call to `step` records (counted from 0 over the whole run). */
  nextStep(): number;
  /**
   * One optimizer step, recorded: (u, s′) = optimizer.update(g, s, p), then the frames of step t are appended
   * (a keyframe of { p, s } when t mod K = 0 or the state is not the one the last step returned, the gradient
   * when recorded, the stats). The caller applies u (p ← p + u, {@link applyUpdates}) as usual. A Left from the
   * optimizer writes nothing and keeps t, so the batch can be dropped and the step retried.
   */
  step(grads: Tree, state: S, params: Tree, extras?: StepExtras): E.Either<OptimizerError, Step<S>>;
  /** Writes the final keyframe (the params and state after the last step) and an end frame, and closes the file. */
  close(): E.Either<OptimizerError, RecordingSummary>;
}

/** The defaults of {@link RecordingOptions}: a keyframe every 20 steps, gradients recorded (so any step can be sought). */
export const RECORDING_DEFAULTS = Object.freeze({ keyframeEvery: 20, recordGrads: true });

const checkSettings = (o: RecordingOptions): E.Either<OptimizerError, void> =>
  typeof o.keyframeEvery === "number" && Number.isSafeInteger(o.keyframeEvery) && o.keyframeEvery >= 1 && o.keyframeEvery < 2 ** 32
    ? typeof o.recordGrads === "boolean"
      ? E.right(undefined)
      : E.left(optimizerError("InvalidOption", `recordGrads must be true or false, got ${typeof o.recordGrads}`))
    : E.left(optimizerError("InvalidOption", `keyframeEvery must be a whole number >= 1, got ${typeof o.keyframeEvery === "number" ? String(o.keyframeEvery) : typeof o.keyframeEvery}`));

/** The options with their defaults, checked. */
export const recordingOptions = (given: Partial<RecordingOptions>, defaults: Omit<RecordingOptions, "meta"> = RECORDING_DEFAULTS): E.Either<OptimizerError, RecordingOptions> => {
  const o = { ...given, keyframeEvery: given.keyframeEvery ?? defaults.keyframeEvery, recordGrads: given.recordGrads ?? defaults.recordGrads };
  return E.map(() => o)(checkSettings(o));
};

/** The JSON meta, or a Left saying where it is not JSON. */
export const metaJson = (meta: unknown): E.Either<OptimizerError, Json> =>
  meta === undefined ? E.right(null) : E.map((text: string) => JSON.parse(text) as Json)(metaToJson(meta));

/** The settings of a run of `optimizer` with options `o`, as frames record them. */
export const runSettings = (optimizer: GradientTransformation<any>, o: RecordingOptions): RunSettings => ({
  arithmetic: ARITHMETIC,
  optimizer: specOf(optimizer),
  keyframeEvery: o.keyframeEvery,
  recordGrads: o.recordGrads,
});

/**
 * A keyframe: the checkpoint of `{ params, state }` before step `step`, with meta `{ step, branch, optimizer }`
 * so that a keyframe cut out of the file still says what it is.
 */
export const keyframeBytes = (point: { readonly params: Tree; readonly state: unknown }, step: number, branch: number, settings: RunSettings): E.Either<OptimizerError, Uint8Array> =>
  encodeState(point, { step, branch, optimizer: JSON.parse(JSON.stringify(settings.optimizer)) as Json });

/**
 * The recorder of branch `branch` from step `start` on, writing through `writer`. `keyframed` is the step
 * whose keyframe is already written (a fork writes the one it starts from), if any.
 */
export const stepRecorder = <S>(
  writer: FrameWriter,
  path: string,
  optimizer: GradientTransformation<S>,
  settings: RunSettings,
  paths: readonly string[],
  branch: number,
  start: number,
  keyframed?: { readonly state: S },
): Recorder<S> => {
  let t = start;
  let lastState: S | undefined = keyframed?.state;
  let lastKeyframe = keyframed ? start : -1;
  let last: { params: Tree; updates: Tree } | undefined;
  let closed = false;

  const keyframeFrame = (step: number, params: Tree, state: unknown): E.Either<OptimizerError, readonly [number, Uint8Array]> =>
    E.map((bytes: Uint8Array) => [FRAME.keyframe, stepPayload(branch, step, bytes)] as const)(keyframeBytes({ params, state }, step, branch, settings));

  return {
    path,
    branch,
    nextStep: () => t,
    step: (grads, state, params, extras = {}) => {
      if (closed) return E.left(optimizerError("InvalidOption", `the recording ${path} is closed; open a new one or fork it`));
      if (t >= 2 ** 32 - 1) return E.left(optimizerError("InvalidOption", "a recording holds at most 2^32 - 1 steps"));
      // a donated state, params or gradient may hold the next step's values: refused before the optimizer reads them
      // (a custom transformation's update may not check), so nothing of it reaches the file
      for (const [what, tree] of [["state", state], ["params", params], ["gradient", grads]] as const)
        if (isDonated(tree)) return E.left({ ...reusedError(what), step: t });
      const stepped = optimizer.update(grads, state, params);
      if (E.isLeft(stepped)) return E.left({ ...stepped.left, step: stepped.left.step ?? t });
      const [updates, next] = stepped.right;
      const stats = stepStats(params, grads, updates, next);
      if (E.isLeft(stats)) return stats;
      const body = encodeStats(paths, stats.right, extras);
      if (E.isLeft(body)) return body;
      // the step's frames are appended together: a failed write leaves the file at the step before, t unchanged
      const frames: (readonly [number, Uint8Array])[] = [];
      const keyframed = lastKeyframe !== t && (t % settings.keyframeEvery === 0 || state !== lastState);
      if (keyframed) {
        const frame = keyframeFrame(t, params, state);
        if (E.isLeft(frame)) return frame;
        frames.push(frame.right);
      }
      if (settings.recordGrads) {
        const g = encodeState(grads);
        if (E.isLeft(g)) return g;
        frames.push([FRAME.grads, stepPayload(branch, t, g.right)]);
      }
      frames.push([FRAME.stats, stepPayload(branch, t, body.right)]);
      const written = writer.append(frames);
      if (E.isLeft(written)) return E.left({ ...written.left, step: t });
      if (keyframed) lastKeyframe = t;
      last = { params, updates };
      lastState = next;
      t++;
      return stepped;
    },
    close: () => {
      if (closed) return E.left(optimizerError("InvalidOption", `the recording ${path} is already closed`));
      closed = true;
      const frames: (readonly [number, Uint8Array])[] = [];
      if (last !== undefined && lastKeyframe !== t) {
        const params = applyUpdates(last.params, last.updates); // p_T = p_{T−1} + u_{T−1}
        const frame = E.isLeft(params) ? params : keyframeFrame(t, params.right, lastState);
        if (E.isLeft(frame)) {
          writer.close();
          return frame;
        }
        frames.push(frame.right);
      }
      frames.push([FRAME.end, stepPayload(branch, t, new Uint8Array(0))]);
      const ended = writer.append(frames);
      const shut = writer.close();
      if (E.isLeft(ended)) return ended;
      if (E.isLeft(shut)) return shut;
      return E.right(Object.freeze({ path, branch, firstStep: start, endStep: t }));
    },
  };
};

/**
 * Starts recording a run of `optimizer` on params shaped like `params0` into the file `path` (created or
 * replaced): writes the magic and the header frame (format, optimizer spec, K, recordGrads, the leaves' paths,
 * shapes and dtypes, `meta`). Every later step costs one stats frame of 16 + 8 + 8·(3 + 5L) bytes for L leaves,
 * plus a gradient checkpoint when `recordGrads`, plus a `{ params, state }` checkpoint every K steps. Options
 * default to {@link RECORDING_DEFAULTS}. While the recorder is open, the file is locked: a second recorder (or
 * fork) of it is refused. A write that fails (a full disk) is a Left, and the file is cut back to the step before.
 * @example
 * const rec = openRecording("out/run.larch", opt, params, { keyframeEvery: 20, recordGrads: true });
 * // each step: const [u, s] = rec.step(grads, state, params, { loss }); params = applyUpdates(params, u)
 */
export const openRecording = <S>(
  path: string,
  optimizer: GradientTransformation<S>,
  params0: Tree,
  options?: Partial<RecordingOptions>,
): E.Either<OptimizerError, Recorder<S>> => openRecordingWith(nodeIo, path, optimizer, params0, options);

/** {@link openRecording} writing through `io` (tests pass one whose writes fail). */
export const openRecordingWith = <S>(
  io: WriterIo,
  path: unknown,
  optimizer: unknown,
  params0: unknown,
  options?: unknown,
): E.Either<OptimizerError, Recorder<S>> => {
  if (typeof path !== "string" || path === "")
    return E.left(optimizerError("InvalidOption", `openRecording needs a file path, got ${path === "" ? "an empty string" : path === null ? "null" : typeof path}`));
  const opt = transformationArg<S>(optimizer, "openRecording");
  if (E.isLeft(opt)) return opt;
  const given = optionsArg<RecordingOptions>(options, "openRecording");
  if (E.isLeft(given)) return given;
  const o = recordingOptions(given.right);
  if (E.isLeft(o)) return o;
  const flat = flatten(params0 as Tree);
  if (E.isLeft(flat)) return flat;
  const meta = metaJson(o.right.meta);
  if (E.isLeft(meta)) return meta;
  const settings = runSettings(opt.right, o.right);
  const header: RecordingHeader = {
    format: LAYOUT_V2.format,
    ...settings,
    leaves: flat.right.paths.map((p, i) => ({ path: p, shape: [...flat.right.leaves[i]!.shape], dtype: dtypeOf(flat.right.leaves[i]!) })),
    meta: meta.right,
  };
  const payload = jsonPayloadOf(header);
  if (E.isLeft(payload)) return payload;
  const writer = openFrameWriter(path, "create", LAYOUT_V2, io);
  if (E.isLeft(writer)) return writer;
  const written = writer.right.append([[FRAME.header, payload.right]]);
  if (E.isLeft(written)) {
    writer.right.close();
    return written;
  }
  return E.right(stepRecorder(writer.right, path, opt.right, settings, flat.right.paths, 0, 0));
};
