/**
 * Framing of a recording: each record is type, length, (format 2) the head's CRC-32, payload and a CRC-32 of it all
 * (layout in recordingLayout.ts).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { crc32Finish, crc32Start, crc32Update } from "./crc32.js";
import { jsonText } from "./jsonText.js";
import type { Json } from "./stateValue.js";
import { FRAME_TAIL_BYTES, LAYOUT_V2, STEP_PREFIX_BYTES, type FrameLayout } from "./recordingLayout.js";

/** Largest payload a frame can hold (its length field has 32 bits). */
export const MAX_PAYLOAD = 0xffffffff;

const crcOf = (bytes: Uint8Array): number => crc32Finish(crc32Update(crc32Start(), bytes));

/** The bytes of one frame in `layout`: type, n, (format 2) CRC-32(type ‖ n), payload, CRC-32 of all before it. */
export const encodeFrame = (type: number, payload: Uint8Array, layout: FrameLayout = LAYOUT_V2): E.Either<OptimizerError, Uint8Array> => {
  if (payload.length > MAX_PAYLOAD)
    return E.left(optimizerError("InvalidTree", `a recording frame holds at most 4 GiB; this one needs ${payload.length} bytes`));
  const out = new Uint8Array(layout.headBytes + payload.length + FRAME_TAIL_BYTES);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, payload.length, true);
  if (layout.headChecked) view.setUint32(8, crcOf(out.subarray(0, 8)), true);
  out.set(payload, layout.headBytes);
  const end = layout.headBytes + payload.length;
  view.setUint32(end, crcOf(out.subarray(0, end)), true);
  return E.right(out);
};

/** True when a frame head (its first `layout.headBytes` bytes) is intact: always in format 1, which has no check. */
export const headIntact = (head: Uint8Array, layout: FrameLayout): boolean =>
  !layout.headChecked || (head.length >= 12 && crcOf(head.subarray(0, 8)) === new DataView(head.buffer, head.byteOffset, 12).getUint32(8, true));

/** True when the CRC-32 stored at the end of `frame` (a whole frame's bytes) matches its other bytes. */
export const frameIntact = (frame: Uint8Array): boolean => {
  if (frame.length < FRAME_TAIL_BYTES) return false;
  const end = frame.length - FRAME_TAIL_BYTES;
  const stored = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(end, true);
  return crcOf(frame.subarray(0, end)) === stored;
};

/** A step frame's payload: branch and step (unsigned 32-bit little-endian), then the body. */
export const stepPayload = (branch: number, step: number, body: Uint8Array): Uint8Array => {
  const out = new Uint8Array(STEP_PREFIX_BYTES + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, branch, true);
  view.setUint32(4, step, true);
  out.set(body, STEP_PREFIX_BYTES);
  return out;
};

/**
 * The JSON payload of a header or branch frame (the text `JSON.stringify` gives), or a Left when the optimizer's
 * spec cannot be JSON. The spec (a few levels, made by the library) goes through `JSON.stringify` first, which
 * drops what JSON has no room for; the rest is plain JSON and the caller's meta may nest to any depth, so the
 * whole is written by {@link jsonText}.
 */
export const jsonPayloadOf = (value: { readonly optimizer: unknown; readonly meta: Json }): E.Either<OptimizerError, Uint8Array> => {
  try {
    const plain = { ...value, optimizer: JSON.parse(JSON.stringify(value.optimizer)) as Json };
    return E.right(new TextEncoder().encode(jsonText(plain as Json)));
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `the recording's settings are not JSON: ${e instanceof Error ? e.message : String(e)}`));
  }
};
