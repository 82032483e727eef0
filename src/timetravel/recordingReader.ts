/**
 * Reading a `*.larch` recording: one pass over its frames (one frame in memory at a time, each checked against
 * its CRC-32) builds an index by branch, step and type; frames are then read by offset when asked for.
 * @module
 */
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { Tree } from "../core/tree.js";
import { decodeState } from "./decodeState.js";
import { frameIntact } from "./recordingFrame.js";
import {
  FRAME,
  FRAME_HEAD_BYTES,
  FRAME_OVERHEAD,
  RECORDING_FORMAT,
  RECORDING_MAGIC,
  STEP_PREFIX_BYTES,
  frameName,
  type BranchHeader,
  type RecordingHeader,
  type RunSettings,
} from "./recordingLayout.js";
import type { Json } from "./stateValue.js";
import { decodeStats, type RecordedStep } from "./statsFrame.js";
import { isPlainRecord } from "./stateValue.js";

/** Where a frame's payload lies in the file. */
export interface FrameRef {
  readonly type: number;
  /** Byte offset of the frame (its type field). */
  readonly offset: number;
  readonly payloadLength: number;
}

/** One branch of a recording: the main run (id 0) or a fork. */
export interface BranchInfo extends RunSettings {
  readonly branch: number;
  /** The branch it forked from and the step it forked at (null and 0 for the main run). */
  readonly parent: number | null;
  readonly forkStep: number;
  readonly meta: Json;
  /** Its own steps are [forkStep, endStep): each has a stats frame. */
  readonly endStep: number;
  /** Steps with a keyframe of this branch, increasing. */
  readonly keyframeSteps: readonly number[];
  /** Steps with a recorded gradient of this branch. */
  readonly gradSteps: ReadonlySet<number>;
  /** True when the branch's writer closed it (an end frame); false for a run that stopped without closing. */
  readonly complete: boolean;
}

/** Options of {@link readRecording}. */
export interface ReadOptions {
  /** Accept a recording whose last frame was cut short (a crashed run): index the intact frames before it. */
  readonly allowTruncated?: boolean;
}

/** An indexed recording. Reading frames goes back to the file. */
export interface Recording {
  readonly path: string;
  readonly header: RecordingHeader;
  readonly branches: ReadonlyMap<number, BranchInfo>;
  readonly fileBytes: number;
  /** Set when the file ends inside a frame and `allowTruncated` was given: where the intact part ends. */
  readonly truncatedAt: number | null;
  /** The `{ params, state }` keyframe of `branch` at `step`. */
  keyframe(branch: number, step: number): E.Either<OptimizerError, { readonly params: Tree; readonly state: unknown }>;
  /** The gradient recorded at `step` of `branch`. */
  grads(branch: number, step: number): E.Either<OptimizerError, Tree>;
  /** Every recorded step of `branch` and of the branches it forked from, in step order. */
  steps(branch?: number): E.Either<OptimizerError, readonly RecordedStep[]>;
}

const corrupt = (path: string, what: string): OptimizerError =>
  optimizerError("DecodeError", `${path} is not an intact larch recording: ${what}`);

/** Reads `length` bytes at `offset` (fewer only at the end of the file). */
const readAt = (fd: number, offset: number, length: number): Uint8Array => {
  const out = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, out, got, length - got, offset + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? out : out.subarray(0, got);
};

const parseJsonPayload = (bytes: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch {
    return undefined;
  }
};

const isSettings = (x: Record<string, unknown>): boolean =>
  isPlainRecord(x["optimizer"]) &&
  Number.isSafeInteger(x["keyframeEvery"]) &&
  (x["keyframeEvery"] as number) >= 1 &&
  typeof x["recordGrads"] === "boolean";

const checkHeader = (x: unknown): string | undefined => {
  if (!isPlainRecord(x)) return "its header frame is not a JSON object";
  if (x["format"] !== RECORDING_FORMAT)
    return typeof x["format"] === "string" && /^larch-recording\/\d+$/.test(x["format"])
      ? `it is in format "${x["format"]}"; this larch reads "${RECORDING_FORMAT}" (a newer larch may read it)`
      : "its header names no larch-recording format";
  if (!isSettings(x)) return "its header lacks the optimizer, keyframeEvery or recordGrads";
  const leaves = x["leaves"];
  if (
    !Array.isArray(leaves) ||
    !leaves.every(
      (l) =>
        isPlainRecord(l) &&
        typeof l["path"] === "string" &&
        Array.isArray(l["shape"]) &&
        (l["shape"] as unknown[]).every((d) => Number.isSafeInteger(d) && (d as number) >= 0) &&
        (l["dtype"] === "float32" || l["dtype"] === "float64"),
    )
  )
    return "its header's leaf list is malformed";
  return undefined;
};

interface MutableBranch {
  info: Omit<BranchInfo, "endStep" | "keyframeSteps" | "gradSteps" | "complete">;
  stats: Map<number, FrameRef>;
  keyframes: Map<number, FrameRef>;
  grads: Map<number, FrameRef>;
  ended: number | null;
}

/**
 * Opens and indexes the recording at `path`: Right with its header, branches and readers, or a Left saying what
 * is wrong — not a recording, a newer format, a frame whose CRC-32 does not match (a flipped bit), a frame cut
 * short at the end (a crashed run; see {@link ReadOptions.allowTruncated}), a step frame of an unknown branch,
 * a duplicate or missing step. Never throws.
 */
export const readRecording = (path: string, options: ReadOptions = {}): E.Either<OptimizerError, Recording> => {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `cannot open the recording ${path}: ${e instanceof Error ? e.message : String(e)}`));
  }
  try {
    return indexFrames(path, fd, options);
  } catch (e) {
    return E.left(optimizerError("DecodeError", `cannot read the recording ${path}: ${e instanceof Error ? e.message : String(e)}`));
  } finally {
    closeSync(fd);
  }
};

const indexFrames = (path: string, fd: number, options: ReadOptions): E.Either<OptimizerError, Recording> => {
  const size = fstatSync(fd).size;
  const magic = new TextDecoder().decode(readAt(fd, 0, RECORDING_MAGIC.length));
  if (magic !== RECORDING_MAGIC) return E.left(corrupt(path, `it does not begin with "${RECORDING_MAGIC}"`));
  let header: RecordingHeader | undefined;
  const branches = new Map<number, MutableBranch>();
  let offset = RECORDING_MAGIC.length;
  let truncatedAt: number | null = null;
  for (let index = 0; offset < size; index++) {
    const head = readAt(fd, offset, FRAME_HEAD_BYTES);
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const length = head.length === FRAME_HEAD_BYTES ? view.getUint32(4, true) : 0;
    if (head.length < FRAME_HEAD_BYTES || offset + FRAME_OVERHEAD + length > size) {
      if (options.allowTruncated && header !== undefined) {
        truncatedAt = offset;
        break;
      }
      return E.left(
        corrupt(
          path,
          `it ends inside frame ${index} (at byte ${offset} of ${size}${head.length === FRAME_HEAD_BYTES ? `, a ${frameName(view.getUint32(0, true))} frame of ${length} bytes` : ""}): ` +
            `the run that wrote it probably stopped while writing; the ${index} frames before are intact (read them with allowTruncated / --allow-truncated)`,
        ),
      );
    }
    const type = view.getUint32(0, true);
    const frame = readAt(fd, offset, FRAME_OVERHEAD + length);
    if (!frameIntact(frame))
      return E.left(corrupt(path, `frame ${index} (at byte ${offset}, type ${frameName(type)}) fails its CRC-32 check: the file is corrupted there`));
    const payload = frame.subarray(FRAME_HEAD_BYTES, FRAME_HEAD_BYTES + length);
    const ref: FrameRef = { type, offset, payloadLength: length };
    if (index === 0) {
      if (type !== FRAME.header) return E.left(corrupt(path, `its first frame is a ${frameName(type)} frame, not the header`));
      const parsed = parseJsonPayload(payload);
      const problem = checkHeader(parsed);
      if (problem !== undefined) return E.left(corrupt(path, problem));
      header = parsed as RecordingHeader;
      branches.set(0, {
        info: { branch: 0, parent: null, forkStep: 0, optimizer: header.optimizer, keyframeEvery: header.keyframeEvery, recordGrads: header.recordGrads, meta: header.meta ?? null },
        stats: new Map(),
        keyframes: new Map(),
        grads: new Map(),
        ended: null,
      });
    } else if (type === FRAME.branch) {
      const b = parseJsonPayload(payload);
      if (!isPlainRecord(b) || !isSettings(b) || ![b["branch"], b["parent"], b["forkStep"]].every((n) => Number.isSafeInteger(n) && (n as number) >= 0))
        return E.left(corrupt(path, `frame ${index} (at byte ${offset}) is a malformed branch frame`));
      const bh = b as unknown as BranchHeader;
      if (branches.has(bh.branch)) return E.left(corrupt(path, `branch ${bh.branch} is declared twice`));
      if (!branches.has(bh.parent)) return E.left(corrupt(path, `branch ${bh.branch} forks from branch ${bh.parent}, which is not declared before it`));
      branches.set(bh.branch, {
        info: { branch: bh.branch, parent: bh.parent, forkStep: bh.forkStep, optimizer: bh.optimizer, keyframeEvery: bh.keyframeEvery, recordGrads: bh.recordGrads, meta: bh.meta ?? null },
        stats: new Map(),
        keyframes: new Map(),
        grads: new Map(),
        ended: null,
      });
    } else if (type === FRAME.stats || type === FRAME.keyframe || type === FRAME.grads || type === FRAME.end) {
      if (length < STEP_PREFIX_BYTES) return E.left(corrupt(path, `frame ${index} (at byte ${offset}) is too short for a ${frameName(type)} frame`));
      const pv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
      const branchId = pv.getUint32(0, true);
      const step = pv.getUint32(4, true);
      const branch = branches.get(branchId);
      if (branch === undefined) return E.left(corrupt(path, `frame ${index} belongs to branch ${branchId}, which is not declared`));
      if (branch.ended !== null) return E.left(corrupt(path, `frame ${index} follows the end of branch ${branchId}`));
      if (type === FRAME.end) branch.ended = step;
      else {
        const map = type === FRAME.stats ? branch.stats : type === FRAME.keyframe ? branch.keyframes : branch.grads;
        if (map.has(step)) return E.left(corrupt(path, `branch ${branchId} has two ${frameName(type)} frames for step ${step}`));
        if (step < branch.info.forkStep) return E.left(corrupt(path, `branch ${branchId} starts at step ${branch.info.forkStep} but has a ${frameName(type)} frame for step ${step}`));
        map.set(step, ref);
      }
    } else if (type === FRAME.header) return E.left(corrupt(path, `frame ${index} is a second header`));
    else return E.left(corrupt(path, `frame ${index} has unknown type ${type} (written by a newer larch?)`));
    offset += FRAME_OVERHEAD + length;
  }
  if (header === undefined) return E.left(corrupt(path, "it has no header frame"));
  const infos = new Map<number, BranchInfo>();
  for (const [id, b] of branches) {
    const endStep = b.info.forkStep + b.stats.size;
    for (let s = b.info.forkStep; s < endStep; s++)
      if (!b.stats.has(s)) return E.left(corrupt(path, `branch ${id} has no stats frame for step ${s}`));
    if (b.ended !== null && b.ended !== endStep) return E.left(corrupt(path, `branch ${id} ends at step ${b.ended} but has stats up to step ${endStep}`));
    infos.set(id, Object.freeze({
      ...b.info,
      endStep,
      keyframeSteps: Object.freeze([...b.keyframes.keys()].sort((x, y) => x - y)),
      gradSteps: new Set(b.grads.keys()),
      complete: b.ended !== null,
    }));
  }
  return E.right(recordingOf(path, header, branches, infos, size, truncatedAt));
};

const recordingOf = (
  path: string,
  header: RecordingHeader,
  frames: ReadonlyMap<number, MutableBranch>,
  branches: ReadonlyMap<number, BranchInfo>,
  fileBytes: number,
  truncatedAt: number | null,
): Recording => {
  /** The body of a step frame (after branch and step), checked again against its CRC-32. */
  const body = (ref: FrameRef): E.Either<OptimizerError, Uint8Array> => {
    try {
      const fd = openSync(path, "r");
      try {
        const frame = readAt(fd, ref.offset, FRAME_OVERHEAD + ref.payloadLength);
        if (frame.length !== FRAME_OVERHEAD + ref.payloadLength || !frameIntact(frame))
          return E.left(corrupt(path, `the ${frameName(ref.type)} frame at byte ${ref.offset} changed since the recording was opened`));
        return E.right(frame.subarray(FRAME_HEAD_BYTES + STEP_PREFIX_BYTES, FRAME_HEAD_BYTES + ref.payloadLength));
      } finally {
        closeSync(fd);
      }
    } catch (e) {
      return E.left(optimizerError("DecodeError", `cannot read the recording ${path}: ${e instanceof Error ? e.message : String(e)}`));
    }
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
    for (let s = info.forkStep; s < info.endStep; s++) {
      const bytes = body(frames.get(branch)!.stats.get(s)!);
      if (E.isLeft(bytes)) return bytes;
      const decoded = decodeStats(s, bytes.right, header.leaves.length);
      if (E.isLeft(decoded)) return decoded;
      out.push(decoded.right);
    }
    return E.right(out);
  };
  return Object.freeze({
    path,
    header,
    branches,
    fileBytes,
    truncatedAt,
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
