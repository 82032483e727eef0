/**
 * The byte layout of a `*.larch` recording, shared by its writer and its reader.
 *
 * ```
 * [8 bytes]  the magic "larchrc2" (format 2; "larchrec" is format 1)
 * frames, back to back, each:
 *   [4]  type, unsigned 32-bit little-endian (FRAME below)
 *   [4]  n, the payload length in bytes, unsigned 32-bit little-endian
 *   [4]  CRC-32 (zlib's) of the type and length bytes (format 2 only)
 *   [n]  the payload
 *   [4]  CRC-32 of every byte of the frame before it (type, length, head CRC, payload)
 * ```
 *
 * The first frame is the header (UTF-8 JSON, {@link RecordingHeader}). Step frames (stats, keyframe, gradients,
 * end) begin with two unsigned 32-bit little-endian numbers, the branch id and the step, then their body.
 * A branch frame (UTF-8 JSON, {@link BranchHeader}) opens every branch but the main one (id 0).
 * The file is only ever appended to (a write that fails is cut back to the last whole frame), so a crash can only
 * cut its last frame short. The head's own CRC (format 2) tells a damaged length, which would send the reader past
 * the end of the file, from such a cut.
 * @module
 */
import type { Dtype } from "../core/leaf.js";
import type { HyperRecord } from "../core/transform.js";
import type { Json } from "./stateValue.js";

/** The first 8 bytes of every recording this code writes (format 2). */
export const RECORDING_MAGIC = "larchrc2";

/** The format's name and the version this code writes (it reads format 1 too). */
export const RECORDING_FORMAT = "larch-recording/2";

/** How the frames of one format version are laid out. */
export interface FrameLayout {
  readonly magic: string;
  readonly format: string;
  /** bytes before the payload: type and length, and (format 2) their CRC-32 */
  readonly headBytes: number;
  readonly headChecked: boolean;
}

/** Format 2: each frame's head carries a CRC-32 of its own. */
export const LAYOUT_V2: FrameLayout = Object.freeze({ magic: RECORDING_MAGIC, format: RECORDING_FORMAT, headBytes: 12, headChecked: true });
/** Format 1 (larch 0.1 before frame heads had their own check): still read, and appended to by a fork. */
export const LAYOUT_V1: FrameLayout = Object.freeze({ magic: "larchrec", format: "larch-recording/1", headBytes: 8, headChecked: false });

/** The layout a file's first 8 bytes announce, if any. */
export const layoutOfMagic = (magic: string): FrameLayout | undefined => [LAYOUT_V2, LAYOUT_V1].find((l) => l.magic === magic);

/** Bytes of the CRC-32 after a frame's payload. */
export const FRAME_TAIL_BYTES = 4;

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

/**
 * The arithmetic a run's float32 steps were computed in, as its header or branch frame names it: float32 arithmetic,
 * every operation rounded to float32 (this larch). A recording or branch without the field was written by a larch
 * that computed float32 leaves in float64 between roundings at each transformation's output: it replays within
 * float32 rounding, not bit for bit (see `verify`).
 */
export const ARITHMETIC = "float32-per-operation";

/** What a recording (or a branch of it) was run with. */
export interface RunSettings {
  /** {@link ARITHMETIC} in what this larch writes; absent in recordings of an earlier one. */
  readonly arithmetic?: string;
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

/** Bytes of a frame around its payload in the format this code writes (head and CRC-32). */
export const FRAME_OVERHEAD = LAYOUT_V2.headBytes + FRAME_TAIL_BYTES;
