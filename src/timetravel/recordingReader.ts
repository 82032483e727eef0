/**
 * Reading a `*.larch` recording: index it ({@link indexFrames}), then read keyframes, gradients and stats by offset,
 * each frame checked again against its CRC-32 when read.
 * @module
 */
import { closeSync, openSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { Tree } from "../core/tree.js";
import { decodeState } from "./decodeState.js";
import { frameIntact } from "./recordingFrame.js";
import { corrupt, indexFrames, readAt, type BranchInfo, type FrameRef, type ReadOptions, type RecordingIndex, type UnreadTail } from "./recordingIndex.js";
import { FRAME_TAIL_BYTES, STEP_PREFIX_BYTES, frameName, type RecordingHeader } from "./recordingLayout.js";
import { isPlainRecord } from "./stateValue.js";
import { decodeStats, type RecordedStep } from "./statsFrame.js";

export type { BranchInfo, FrameRef, ReadOptions, UnreadTail } from "./recordingIndex.js";

/** An indexed recording. Reading frames goes back to the file. */
export interface Recording {
  readonly path: string;
  readonly header: RecordingHeader;
  readonly branches: ReadonlyMap<number, BranchInfo>;
  readonly fileBytes: number;
  /** Set when the file ends inside a frame and `allowTruncated` was given: where the intact part ends. */
  readonly truncatedAt: number | null;
  /** With truncatedAt: what could not be read (bytes from there to the end, and the steps they hold). */
  readonly unread: UnreadTail | null;
  /** The `{ params, state }` keyframe of `branch` at `step`. */
  keyframe(branch: number, step: number): E.Either<OptimizerError, { readonly params: Tree; readonly state: unknown }>;
  /** The gradient recorded at `step` of `branch`. */
  grads(branch: number, step: number): E.Either<OptimizerError, Tree>;
  /** Every recorded step of `branch` and of the branches it forked from, in step order. */
  steps(branch?: number): E.Either<OptimizerError, readonly RecordedStep[]>;
}

/**
 * Opens and indexes the recording at `path`: Right with its header, branches and readers, or a Left saying what
 * is wrong — not a recording, a newer format, a frame whose CRC-32 does not match (a flipped bit), a frame cut
 * short at the end (a crashed run; see {@link ReadOptions.allowTruncated}), a step frame of an unknown branch,
 * a duplicate or missing step. Never throws.
 * @example
 * const rec = readRecording("out/run.larch"); // Either<OptimizerError, Recording>
 */
export const readRecording = (path: string, options?: ReadOptions): E.Either<OptimizerError, Recording> => {
  if (typeof path !== "string" || path === "")
    return E.left(optimizerError("InvalidOption", `readRecording needs a file path, got ${path === "" ? "an empty string" : path === null ? "null" : typeof path}`));
  const o = options ?? {};
  if (typeof o !== "object" || o === null) return E.left(optimizerError("InvalidOption", `readRecording: the options must be an object, got ${o === null ? "null" : typeof o}`));
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `cannot open the recording ${path}: ${e instanceof Error ? e.message : String(e)}`));
  }
  try {
    return E.map((index: RecordingIndex) => recordingOf(path, index))(indexFrames(path, fd, o));
  } catch (e) {
    return E.left(optimizerError("DecodeError", `cannot read the recording ${path}: ${e instanceof Error ? e.message : String(e)}`));
  } finally {
    closeSync(fd);
  }
};

const recordingOf = (path: string, { header, layout, branches, frames, fileBytes, truncatedAt, unread }: RecordingIndex): Recording => {
  const overhead = layout.headBytes + FRAME_TAIL_BYTES;
  /**
   * Calls `visit` with the body (after branch and step) of each frame of `refs` in turn, each checked again against
   * its CRC-32, reading through one file descriptor; stops at the first Left.
   */
  const eachBody = (refs: readonly FrameRef[], visit: (body: Uint8Array, i: number) => E.Either<OptimizerError, void>): E.Either<OptimizerError, void> => {
    try {
      const fd = openSync(path, "r");
      try {
        for (let i = 0; i < refs.length; i++) {
          const ref = refs[i]!;
          const frame = readAt(fd, ref.offset, overhead + ref.payloadLength);
          if (frame.length !== overhead + ref.payloadLength || !frameIntact(frame))
            return E.left(corrupt(path, `the ${frameName(ref.type)} frame at byte ${ref.offset} fails its CRC-32 check (the file is corrupted there, or changed since it was opened)`));
          const done = visit(frame.subarray(layout.headBytes + STEP_PREFIX_BYTES, layout.headBytes + ref.payloadLength), i);
          if (E.isLeft(done)) return done;
        }
        return E.right(undefined);
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      return E.left(optimizerError("DecodeError", `cannot read the recording ${path}: ${e instanceof Error ? e.message : String(e)}`));
    }
  };
  const body = (ref: FrameRef): E.Either<OptimizerError, Uint8Array> => {
    let out: Uint8Array = new Uint8Array(0);
    return E.map(() => out)(eachBody([ref], (b) => E.right(void (out = b))));
  };
  const find = (kind: "keyframes" | "grads", branch: number, step: number): E.Either<OptimizerError, FrameRef> => {
    const ref = frames.get(branch)?.[kind].get(step);
    return ref
      ? E.right(ref)
      : E.left(optimizerError("InvalidOption", `${path} has no ${kind === "keyframes" ? "keyframe" : "gradient"} for step ${step} of branch ${branch}`, { step }));
  };
  const checkpoint = (kind: "keyframes" | "grads", branch: number, step: number): E.Either<OptimizerError, unknown> => {
    const ref = find(kind, branch, step);
    if (E.isLeft(ref)) return ref;
    const bytes = body(ref.right);
    if (E.isLeft(bytes)) return bytes;
    const decoded = decodeState(bytes.right);
    if (E.isLeft(decoded))
      return E.left(optimizerError("DecodeError", `the ${kind === "keyframes" ? "keyframe" : "gradient"} of step ${step} (branch ${branch}) in ${path}: ${decoded.left.message}`, { step }));
    return E.right(decoded.right.state);
  };
  const steps = (branch = 0): E.Either<OptimizerError, readonly RecordedStep[]> => {
    const info = branches.get(branch);
    if (info === undefined) return E.left(optimizerError("InvalidOption", `${path} has no branch ${branch} (it has ${[...branches.keys()].join(", ")})`));
    const inherited = info.parent === null ? E.right([] as readonly RecordedStep[]) : steps(info.parent);
    if (E.isLeft(inherited)) return inherited;
    const out = inherited.right.filter((s) => s.step < info.forkStep);
    const stats = frames.get(branch)!.stats;
    const refs = Array.from({ length: info.endStep - info.forkStep }, (_, i) => stats.get(info.forkStep + i)!);
    const read = eachBody(refs, (bytes, i) => E.map((step: RecordedStep) => void out.push(step))(decodeStats(info.forkStep + i, bytes, header.leaves.length)));
    return E.map(() => out)(read);
  };
  return Object.freeze({
    path,
    header,
    branches,
    fileBytes,
    truncatedAt,
    unread,
    keyframe: (branch: number, step: number) =>
      E.chain((state: unknown) =>
        isPlainRecord(state) && "params" in state && "state" in state
          ? E.right(state as { readonly params: Tree; readonly state: unknown })
          : E.left(optimizerError("DecodeError", `the keyframe of step ${step} (branch ${branch}) in ${path} is not a { params, state } record`, { step })),
      )(checkpoint("keyframes", branch, step)),
    grads: (branch: number, step: number) => checkpoint("grads", branch, step) as E.Either<OptimizerError, Tree>,
    steps,
  });
};
