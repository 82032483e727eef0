/**
 * Raw little-endian bytes of float arrays, in both directions, without a decimal round trip: the bytes are
 * the IEEE-754 encodings themselves. On a little-endian host (every platform Node ships for but s390x)
 * this is a view or a memcpy; on a big-endian host each value's bytes are reversed.
 * @module
 */
import type { Dtype, FloatArray } from "../core/leaf.js";
import { bytesPerValue } from "./stateValue.js";

/** True when this machine stores numbers least-significant byte first. */
export const hostIsLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Reverses each consecutive group of `width` bytes of `bytes` in place. */
const reverseGroups = (bytes: Uint8Array, width: number): Uint8Array => {
  for (let g = 0; g < bytes.length; g += width)
    for (let i = g, j = g + width - 1; i < j; i++, j--) {
      const t = bytes[i]!;
      bytes[i] = bytes[j]!;
      bytes[j] = t;
    }
  return bytes;
};

/**
 * The little-endian bytes of `values`: a view of their storage on a little-endian host (no copy; treat
 * it as read-only), a byte-reversed copy otherwise.
 */
export const littleEndianBytes = (values: FloatArray, littleHost: boolean = hostIsLittleEndian): Uint8Array => {
  const view = new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return littleHost ? view : reverseGroups(view.slice(), values.BYTES_PER_ELEMENT);
};

/**
 * A fresh array of `dtype` holding the values whose little-endian bytes are `bytes` (whose length must be
 * a multiple of the value size). One copy into new, aligned storage, so `bytes` may sit at any offset.
 */
export const valuesFromLittleEndian = (
  bytes: Uint8Array,
  dtype: Dtype,
  littleHost: boolean = hostIsLittleEndian,
): FloatArray => {
  // a fresh ArrayBuffer: aligned, and not shared with the caller's bytes (not bytes.slice(): on a Node
  // Buffer, slice is a view into the same memory)
  const copy = new Uint8Array(bytes);
  if (!littleHost) reverseGroups(copy, bytesPerValue(dtype));
  return dtype === "float32"
    ? new Float32Array(copy.buffer, 0, copy.length / 4)
    : new Float64Array(copy.buffer, 0, copy.length / 8);
};
