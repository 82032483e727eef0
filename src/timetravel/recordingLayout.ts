/**
 * The byte layout of a `*.larch` recording, shared by its writer and its reader.
 *
 * ```
 * [8 bytes]  the magic "larchrec"
 * frames, back to back, each:
 *   [4]  type, unsigned 32-bit little-endian (FRAME below)
 *   [4]  n, the payload length in bytes, unsigned 32-bit little-endian
 *   [n]  the payload
 *   [4]  CRC-32 (zlib's) of the type, length and payload bytes, unsigned 32-bit little-endian
 * ```
 *
 * The first frame is the header (UTF-8 JSON, {@link RecordingHeader}). Step frames (stats, keyframe, gradients,
 * end) begin with two unsigned 32-bit little-endian numbers, the branch id and the step, then their body.
 * A branch frame (UTF-8 JSON, {@link BranchHeader}) opens every branch but the main one (id 0).
 * The file is only ever appended to, so a crash can only cut its last frame short.
 * @module
 */
import type { Dtype } from "../core/leaf.js";
import type { HyperRecord } from "../core/transform.js";
import type { Json } from "./stateValue.js";

/** The first 8 bytes of every recording. */
export const RECORDING_MAGIC = "larchrec";

/** The format's name and the version this code writes and reads. */
export const RECORDING_FORMAT = "larch-recording/1";

/** Bytes of a frame around its payload: type and length before it, CRC-32 after it. */
export const FRAME_HEAD_BYTES = 8;
export const FRAME_TAIL_BYTES = 4;
export const FRAME_OVERHEAD = FRAME_HEAD_BYTES + FRAME_TAIL_BYTES;

/** Bytes of the (branch, step) prefix of a step frame's payload. */
export const STEP_PREFIX_BYTES = 8;

/** Frame types. */
export const FRAME = {
  /** JSON {@link RecordingHeader}; the first frame. */
  header: 1,
  /** Binary per-step numbers (see statsFrame.ts). */
  stats: 2,
  /** A checkpoint (encodeState) of `{ params, state }` before the step: what the step starts from. */
  keyframe: 3,
  /** A checkpoint (encodeState) of the step's gradient tree. */
  grads: 4,
  /** JSON {@link BranchHeader}: a fork. */
  branch: 5,
  /** Empty body: the branch was closed cleanly after this many steps (its step field). */
  end: 6,
} as const;

/** A frame type's name, for messages. */
export const frameName = (type: number): string =>
  Object.entries(FRAME).find(([, t]) => t === type)?.[0] ?? `unknown (${type})`;

/** One parameter leaf, as the header lists it. */
export interface RecordedLeaf {
  readonly path: string;
  readonly shape: readonly number[];
  readonly dtype: Dtype;
}

/** What a recording (or a branch of it) was run with. */
export interface RunSettings {
  /** The optimizer's spec: its name and hyper-parameters (nested for chains and partitions). */
  readonly optimizer: HyperRecord;
  /** A keyframe is written at every step that is a multiple of this, and where a branch starts or ends. */
  readonly keyframeEvery: number;
  /** Whether each step's gradient is recorded (what seeking between keyframes and verifying need). */
  readonly recordGrads: boolean;
}

/** The header frame. */
export interface RecordingHeader extends RunSettings {
  readonly format: string;
  /** The params' leaves, in leaf order: the order of the per-leaf numbers of every stats frame. */
  readonly leaves: readonly RecordedLeaf[];
  /** The caller's free-form description of the run (title, dataset, seed, ...). */
  readonly meta: Json;
}

/** A branch frame: branch `branch` continues branch `parent` from step `forkStep` with other settings. */
export interface BranchHeader extends RunSettings {
  readonly branch: number;
  readonly parent: number;
  readonly forkStep: number;
  readonly meta: Json;
}
