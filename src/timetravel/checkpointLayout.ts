/**
 * The byte layout of a larch state checkpoint, shared by the encoder and the decoder.
 *
 * A checkpoint is a valid safetensors file:
 *
 * ```
 * [8 bytes]  N, the header length, unsigned 64-bit little-endian
 * [N bytes]  the header: UTF-8 JSON, padded with spaces so that 8 + N is a multiple of 8
 *            {"__metadata__":{"larch.crc32":"<8 lowercase hex digits>",
 *                             "larch.format":"larch-state/1",
 *                             "larch.structure":"<JSON of the state's non-tensor structure>",
 *                             "larch.meta":"<JSON of the caller's meta>"},        (only when given)
 *             "<leaf path>":{"dtype":"F64"|"F32","shape":[...],"data_offsets":[begin,end]}, ...}
 * [rest]     the tensors' raw little-endian IEEE-754 bytes, back to back, float64 leaves first (so every
 *            float64 tensor starts at a multiple of 8 from the start of the file), then float32 leaves,
 *            each group in leaf order; offsets count from the first byte after the header.
 * ```
 *
 * The checksum is CRC-32 over every byte of the file except its own 8 hex digits (the bytes before them,
 * then the bytes after them), written as lowercase hex; it always sits at byte {@link CHECKSUM_AT}.
 * @module
 */
import type { Dtype } from "../core/leaf.js";

/** The format's name; the version follows a slash. */
export const FORMAT_NAME = "larch-state";

/** The version this code writes, and the newest it reads. */
export const FORMAT_VERSION = 1;

/** Metadata keys (safetensors keeps `__metadata__` as a string → string map). */
export const KEY_CHECKSUM = "larch.crc32";
export const KEY_FORMAT = "larch.format";
export const KEY_STRUCTURE = "larch.structure";
export const KEY_META = "larch.meta";

/** The safetensors header key for free-form string metadata; no tensor may take this name. */
export const METADATA_KEY = "__metadata__";

/** The header's fixed opening, up to the checksum's first hex digit. */
export const HEADER_OPENING = `{"${METADATA_KEY}":{"${KEY_CHECKSUM}":"`;

/** Byte position of the checksum's 8 hex digits in the file (8 length bytes, then the opening, all ASCII). */
export const CHECKSUM_AT = 8 + HEADER_OPENING.length;

/** Number of hex digits of the checksum. */
export const CHECKSUM_DIGITS = 8;

/** The 8-byte size field and the alignment of the data section. */
export const LENGTH_FIELD_BYTES = 8;
export const DATA_ALIGNMENT = 8;

/** safetensors dtype names of the two leaf storage types. */
export const SAFETENSORS_DTYPE: Readonly<Record<Dtype, string>> = { float64: "F64", float32: "F32" };

/** The leaf storage type of a safetensors dtype name, if larch supports it. */
export const dtypeOfSafetensors = (name: string): Dtype | undefined =>
  name === "F64" ? "float64" : name === "F32" ? "float32" : undefined;

/** The checksum as written in the header: 8 lowercase hex digits. */
export const checksumDigits = (crc: number): string => (crc >>> 0).toString(16).padStart(CHECKSUM_DIGITS, "0");
