/**
 * Encodes an optimizer state as a self-checking, safetensors-compatible checkpoint (the layout is
 * described in checkpointLayout.ts and docs/checkpoint-format.md).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import {
  CHECKSUM_DIGITS,
  DATA_ALIGNMENT,
  FORMAT_NAME,
  FORMAT_VERSION,
  HEADER_OPENING,
  KEY_FORMAT,
  KEY_META,
  KEY_STRUCTURE,
  LENGTH_FIELD_BYTES,
  METADATA_KEY,
  SAFETENSORS_DTYPE,
} from "./checkpointLayout.js";
import { sealChecksum } from "./checkpointChecksum.js";
import { metaToJson } from "./checkpointMeta.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "../core/errors.js";
import { flattenState, type PathLeaf } from "./flattenState.js";
import { littleEndianBytes } from "./littleEndian.js";
import { denseValues, dtypeOf, sizeOf } from "../core/leaf.js";
import { jsonText } from "./jsonText.js";
import { bytesPerValue, type Json } from "./stateValue.js";

/** A leaf placed in the data section: bytes [begin, end) counted from the end of the header. */
interface PlacedLeaf extends PathLeaf {
  readonly begin: number;
  readonly end: number;
}

/** Float64 leaves first, then float32 ones (each group in leaf order), back to back from offset 0. */
const placeLeaves = (leaves: readonly PathLeaf[]): readonly PlacedLeaf[] => {
  const ordered = [
    ...leaves.filter((l) => dtypeOf(l.leaf) === "float64"),
    ...leaves.filter((l) => dtypeOf(l.leaf) === "float32"),
  ];
  let at = 0;
  return ordered.map((l) => {
    const begin = at;
    at += sizeOf(l.leaf.shape) * bytesPerValue(dtypeOf(l.leaf));
    return { ...l, begin, end: at };
  });
};

/** The first leaf path used twice (e.g. keys `"a.b"` and `a: {b}`) or reserved by safetensors, if any. */
const clashingPath = (leaves: readonly PathLeaf[]): string | undefined => {
  const seen = new Set<string>([METADATA_KEY]);
  for (const { path } of leaves) {
    if (seen.has(path)) return path;
    seen.add(path);
  }
  return undefined;
};

/**
 * The header text: the opening, a placeholder checksum, the metadata, the tensor table, then spaces so
 * that 8 + (its UTF-8 length) is a multiple of 8 and the data section starts aligned.
 */
const headerBytes = (structureJson: string, metaJson: string | undefined, placed: readonly PlacedLeaf[]): Uint8Array => {
  const metadata =
    HEADER_OPENING +
    "0".repeat(CHECKSUM_DIGITS) +
    `",${JSON.stringify(KEY_FORMAT)}:${JSON.stringify(`${FORMAT_NAME}/${FORMAT_VERSION}`)}` +
    `,${JSON.stringify(KEY_STRUCTURE)}:${JSON.stringify(structureJson)}` +
    (metaJson === undefined ? "" : `,${JSON.stringify(KEY_META)}:${JSON.stringify(metaJson)}`) +
    "}";
  const tensors = placed.map(
    ({ path, leaf, begin, end }) =>
      `,${JSON.stringify(path)}:{"dtype":"${SAFETENSORS_DTYPE[dtypeOf(leaf)]}","shape":${JSON.stringify(leaf.shape)},"data_offsets":[${begin},${end}]}`,
  );
  const text = new TextEncoder().encode(metadata + tensors.join("") + "}");
  const padding = (DATA_ALIGNMENT - ((LENGTH_FIELD_BYTES + text.length) % DATA_ALIGNMENT)) % DATA_ALIGNMENT;
  const padded = new Uint8Array(text.length + padding).fill(0x20); // 0x20 = space
  padded.set(text);
  return padded;
};

/**
 * The checkpoint bytes of `state`, with the caller's `meta` (JSON: optimizer name, hyper-parameters,
 * step, ...) kept in the header.
 *
 * Numbers in the structure are written as JSON's shortest round-trip decimal (exact for every finite
 * double, subnormals included) and -0, NaN, ±Inf by name; leaves as their raw little-endian IEEE-754
 * bytes in row-major order (a strided leaf is gathered first), so decoding gives back every bit
 * (a NaN inside the structure comes back as the canonical NaN; NaN payloads in leaves are kept).
 * The checksum is CRC-32 over every byte but its own digits.
 *
 * Both arguments are checked at run time, so any value may be passed (a state typed with interfaces too):
 * Left (never a throw) when `state` is not State data, two leaves share a path, or `meta` is not exact JSON.
 * @example
 * const bytes = encodeState(state, { optimizer: opt.name, hyperparams: opt.hyperparams, step: 100 }); // Either<OptimizerError, Uint8Array>
 */
export const encodeState = (state: unknown, meta?: unknown): E.Either<OptimizerError, Uint8Array> => {
  try {
    return encodeChecked(state, meta);
  } catch (thrown) {
    // only exhaustion (e.g. no memory for the output) gets here; the public API still never throws
    return E.left(optimizerError("InvalidTree", `the state could not be encoded: ${showValue(thrown)}`));
  }
};

/** {@link encodeState} without the guard against exhaustion. */
const encodeChecked = (state: unknown, meta: unknown): E.Either<OptimizerError, Uint8Array> => {
  const flat = flattenState(state);
  if (E.isLeft(flat)) return flat;
  const { structure, leaves } = flat.right;
  const clash = clashingPath(leaves);
  if (clash !== undefined)
    return E.left(
      optimizerError(
        "InvalidTree",
        `two leaves have the path ${showPath(clash)} (or it is the reserved name "${METADATA_KEY}"); rename a record key so that leaf paths are unique`,
        { path: clash },
      ),
    );
  let metaJson: string | undefined;
  if (meta !== undefined) {
    const json = metaToJson(meta);
    if (E.isLeft(json)) return json;
    metaJson = json.right;
  }

  const placed = placeLeaves(leaves);
  const header = headerBytes(jsonText(structure as Json), metaJson, placed);
  const dataStart = LENGTH_FIELD_BYTES + header.length;
  const dataLength = placed.length === 0 ? 0 : placed[placed.length - 1]!.end;
  const out = new Uint8Array(dataStart + dataLength);

  // N as an unsigned 64-bit little-endian integer (a header is far below 2^32 bytes: high word 0)
  new DataView(out.buffer).setUint32(0, header.length, true);
  out.set(header, LENGTH_FIELD_BYTES);
  for (const { leaf, begin } of placed) out.set(littleEndianBytes(denseValues(leaf)), dataStart + begin);

  // CRC-32 over out[0, CHECKSUM_AT) then out[CHECKSUM_AT + 8, end), written over the placeholder digits
  return E.right(sealChecksum(out));
};
