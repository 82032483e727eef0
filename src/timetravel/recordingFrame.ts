/**
 * Framing of a recording: each record is type, length, payload and a CRC-32 (layout in recordingLayout.ts).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { crc32Finish, crc32Start, crc32Update } from "./crc32.js";
import { FRAME_HEAD_BYTES, FRAME_OVERHEAD, STEP_PREFIX_BYTES } from "./recordingLayout.js";

/** Largest payload a frame can hold (its length field has 32 bits). */
export const MAX_PAYLOAD = 0xffffffff;

/** The bytes of one frame: type, n, payload, CRC-32(type ‖ n ‖ payload). */
export const encodeFrame = (type: number, payload: Uint8Array): E.Either<OptimizerError, Uint8Array> => {
  if (payload.length > MAX_PAYLOAD)
    return E.left(optimizerError("InvalidTree", `a recording frame holds at most 4 GiB; this one needs ${payload.length} bytes`));
  const out = new Uint8Array(FRAME_OVERHEAD + payload.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, type, true);
  view.setUint32(4, payload.length, true);
  out.set(payload, FRAME_HEAD_BYTES);
  const end = FRAME_HEAD_BYTES + payload.length;
  view.setUint32(end, crc32Finish(crc32Update(crc32Start(), out.subarray(0, end))), true);
  return E.right(out);
};

/** True when the CRC-32 stored at the end of `frame` (a whole frame's bytes) matches its other bytes. */
export const frameIntact = (frame: Uint8Array): boolean => {
  const end = frame.length - 4;
  const stored = new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(end, true);
  return crc32Finish(crc32Update(crc32Start(), frame.subarray(0, end))) === stored;
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

/** The JSON payload of a header or branch frame. */
export const jsonPayload = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
