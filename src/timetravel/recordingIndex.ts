/**
 * Indexing a `*.larch` recording: one pass over its frames builds an index by branch, step and type, checking
 * each frame's CRC-32 (one frame in memory at a time); the reader then reads frames by offset.
 * @module
 */
import { fstatSync, readSync } from "node:fs";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { frameIntact, headIntact } from "./recordingFrame.js";
import {
  FRAME,
  FRAME_TAIL_BYTES,
  LAYOUT_V2,
  STEP_PREFIX_BYTES,
  frameName,
  layoutOfMagic,
  type BranchHeader,
  type FrameLayout,
  type RecordingHeader,
  type RunSettings,
} from "./recordingLayout.js";
import { isPlainRecord, type Json } from "./stateValue.js";

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

/** Options of reading a recording. */
export interface ReadOptions {
  /** Accept a recording whose last frame was cut short (a crashed run): index the intact frames before it. */
  readonly allowTruncated?: boolean;
  /**
   * Check the CRC-32 of keyframe and gradient frames when they are read (by seek, verify, ...) rather than all at
   * open, so that opening a long recording of a large model reads only its small frames. Default false.
   */
  readonly deferTensorChecks?: boolean;
}

/** The frames of one branch by step. */
export interface BranchFrames {
  readonly stats: ReadonlyMap<number, FrameRef>;
  readonly keyframes: ReadonlyMap<number, FrameRef>;
  readonly grads: ReadonlyMap<number, FrameRef>;
}

/** The part of a file a reader could not read: from `at` to the end, holding `steps` more steps (stats frames). */
export interface UnreadTail {
  /** byte offset where reading stopped (the start of the cut-short frame) */
  readonly at: number;
  /** bytes from there to the end of the file */
  readonly bytes: number;
  /** whole steps found in those bytes (intact stats frames, and the step whose stats frame is cut short) */
  readonly steps: number;
}

/** What one pass over a recording finds. */
export interface RecordingIndex {
  readonly header: RecordingHeader;
  readonly layout: FrameLayout;
  readonly branches: ReadonlyMap<number, BranchInfo>;
  readonly frames: ReadonlyMap<number, BranchFrames>;
  readonly fileBytes: number;
  readonly truncatedAt: number | null;
  readonly unread: UnreadTail | null;
}

/** The error of a file that is not an intact recording, saying what is wrong and where. */
export const corrupt = (path: string, what: string): OptimizerError =>
  optimizerError("DecodeError", `${path} is not an intact larch recording: ${what}`);

/** Reads `length` bytes at `offset` (fewer only at the end of the file). */
export const readAt = (fd: number, offset: number, length: number): Uint8Array => {
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

/** The arithmetic a header or branch frame names, when it names one (a string); nothing for an earlier larch's. */
const arithmeticOf = (settings: RunSettings): { arithmetic?: string } =>
  typeof settings.arithmetic === "string" ? { arithmetic: settings.arithmetic } : {};

const isSettings = (x: Record<string, unknown>): boolean =>
  isPlainRecord(x["optimizer"]) &&
  Number.isSafeInteger(x["keyframeEvery"]) &&
  (x["keyframeEvery"] as number) >= 1 &&
  typeof x["recordGrads"] === "boolean";

const checkHeader = (x: unknown, layout: FrameLayout): string | undefined => {
  if (!isPlainRecord(x)) return "its header frame is not a JSON object";
  if (x["format"] !== layout.format)
    return typeof x["format"] === "string" && /^larch-recording\/\d+$/.test(x["format"])
      ? `its header says format "${x["format"]}" but its frames are laid out as "${layout.format}"`
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

/** Whether the bytes at `offset` begin a whole, intact frame of `layout` within `size` bytes (its head is `head`). */
const intactFrameAt = (fd: number, offset: number, head: Uint8Array, size: number, layout: FrameLayout): { readonly type: number; readonly length: number } | undefined => {
  const view = new DataView(head.buffer, head.byteOffset, layout.headBytes);
  const type = view.getUint32(0, true);
  const length = view.getUint32(4, true);
  if (type < FRAME.header || type > FRAME.end || offset + layout.headBytes + length + FRAME_TAIL_BYTES > size || !headIntact(head.subarray(0, layout.headBytes), layout)) return undefined;
  return frameIntact(readAt(fd, offset, layout.headBytes + length + FRAME_TAIL_BYTES)) ? { type, length } : undefined;
};

/**
 * The whole frames after a break at `from` (a frame that could not be read): the first intact frame after it,
 * found byte by byte (reading the file a megabyte at a time), then the frames back to back from there. Counts
 * their stats frames (steps). A crash leaves no whole frame after a cut one, so finding one means the break is
 * damage, not a cut.
 */
const framesAfter = (fd: number, from: number, size: number, layout: FrameLayout): { readonly first: number | null; readonly steps: number } => {
  const CHUNK = 1 << 20;
  const last = size - layout.headBytes - FRAME_TAIL_BYTES; // the last offset a frame could start at
  for (let base = from + 1; base <= last; base += CHUNK) {
    const window = readAt(fd, base, Math.min(CHUNK, last - base + 1) + layout.headBytes - 1);
    const count = Math.min(CHUNK, last - base + 1);
    for (let i = 0; i < count; i++) {
      // a type is 1..6 in a 32-bit little-endian word: a cheap filter before the checks
      if (window[i]! < FRAME.header || window[i]! > FRAME.end || window[i + 1] !== 0 || window[i + 2] !== 0 || window[i + 3] !== 0) continue;
      const frame = intactFrameAt(fd, base + i, window.subarray(i, i + layout.headBytes), size, layout);
      if (frame === undefined) continue;
      // found one: the rest follow back to back
      let steps = 0;
      let at = base + i;
      for (let f: typeof frame | undefined = frame; f !== undefined; ) {
        if (f.type === FRAME.stats) steps++;
        at += layout.headBytes + f.length + FRAME_TAIL_BYTES;
        f = at <= last ? intactFrameAt(fd, at, readAt(fd, at, layout.headBytes), size, layout) : undefined;
      }
      return { first: base + i, steps };
    }
  }
  return { first: null, steps: 0 };
};

/**
 * The index of the recording open as `fd`, or a Left saying what is wrong — not a recording, a newer format, a
 * frame whose CRC-32 does not match (a flipped bit), a frame head whose own CRC-32 does not match (a damaged type
 * or length, told apart from a cut), a frame cut short at the end (a crashed run; see
 * {@link ReadOptions.allowTruncated}), a step frame of an unknown branch, a duplicate or missing step.
 */
export const indexFrames = (path: string, fd: number, options: ReadOptions): E.Either<OptimizerError, RecordingIndex> => {
  const size = fstatSync(fd).size;
  const magic = new TextDecoder().decode(readAt(fd, 0, LAYOUT_V2.magic.length));
  const layout = layoutOfMagic(magic);
  if (layout === undefined)
    return E.left(
      corrupt(path, /^larchr/.test(magic) ? `it begins with "${magic}", a recording format this larch does not know (a newer larch may read it)` : `it does not begin with "${LAYOUT_V2.magic}"`),
    );
  const overhead = layout.headBytes + FRAME_TAIL_BYTES;
  let header: RecordingHeader | undefined;
  const branches = new Map<number, MutableBranch>();
  let offset = layout.magic.length;
  let truncatedAt: number | null = null;
  let unread: UnreadTail | null = null;
  for (let index = 0; offset < size; index++) {
    const head = readAt(fd, offset, layout.headBytes);
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
    const whole = head.length === layout.headBytes;
    const type = whole ? view.getUint32(0, true) : 0;
    const length = whole ? view.getUint32(4, true) : 0;
    if (whole && !headIntact(head, layout)) {
      const after = framesAfter(fd, offset, size, layout);
      return E.left(
        corrupt(
          path,
          `the head of frame ${index} (at byte ${offset}) fails its CRC-32 check: its type or length is damaged (the file is corrupted there, not cut short)` +
            `${after.first !== null ? `; ${after.steps} more steps follow from byte ${after.first} and cannot be read past it` : ""}`,
        ),
      );
    }
    if (!whole || offset + overhead + length > size) {
      // the frame runs past the end: a cut (a crash), unless whole frames follow (then its length is damaged)
      const after = framesAfter(fd, offset, size, layout);
      const described = whole ? `, a ${frameName(type)} frame of ${length} bytes` : "";
      if (after.first !== null)
        return E.left(
          corrupt(
            path,
            `frame ${index} (at byte ${offset}${described}) runs past the end of the file, yet whole frames follow from byte ${after.first}: ` +
              `its length is damaged (the file is corrupted there, not cut short); ${after.steps} more steps follow and cannot be read past it`,
          ),
        );
      const cutStep = whole && type === FRAME.stats ? 1 : 0;
      if (options.allowTruncated && header !== undefined) {
        truncatedAt = offset;
        unread = { at: offset, bytes: size - offset, steps: cutStep };
        break;
      }
      return E.left(
        corrupt(
          path,
          `it ends inside frame ${index} (at byte ${offset} of ${size}${described}): ` +
            `the run that wrote it probably stopped while writing; the ${index} frames before are intact (read them with allowTruncated / --allow-truncated)`,
        ),
      );
    }
    // a deferred frame's CRC-32 is checked when the frame is read; only its (branch, step) prefix is read now
    const deferred = options.deferTensorChecks === true && (type === FRAME.keyframe || type === FRAME.grads) && length >= STEP_PREFIX_BYTES;
    const frame = readAt(fd, offset, deferred ? layout.headBytes + STEP_PREFIX_BYTES : overhead + length);
    if (!deferred && !frameIntact(frame))
      return E.left(corrupt(path, `frame ${index} (at byte ${offset}, type ${frameName(type)}) fails its CRC-32 check: the file is corrupted there`));
    const payload = frame.subarray(layout.headBytes, layout.headBytes + (deferred ? STEP_PREFIX_BYTES : length));
    const ref: FrameRef = { type, offset, payloadLength: length };
    if (index === 0) {
      if (type !== FRAME.header) return E.left(corrupt(path, `its first frame is a ${frameName(type)} frame, not the header`));
      const parsed = parseJsonPayload(payload);
      const problem = checkHeader(parsed, layout);
      if (problem !== undefined) return E.left(corrupt(path, problem));
      header = parsed as RecordingHeader;
      branches.set(0, {
        info: { branch: 0, parent: null, forkStep: 0, ...arithmeticOf(header), optimizer: header.optimizer, keyframeEvery: header.keyframeEvery, recordGrads: header.recordGrads, meta: header.meta ?? null },
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
        info: { branch: bh.branch, parent: bh.parent, forkStep: bh.forkStep, ...arithmeticOf(bh), optimizer: bh.optimizer, keyframeEvery: bh.keyframeEvery, recordGrads: bh.recordGrads, meta: bh.meta ?? null },
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
    offset += overhead + length;
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
  return E.right({ header, layout, branches: infos, frames: branches, fileBytes: size, truncatedAt, unread });
};

