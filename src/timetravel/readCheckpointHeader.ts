/**
 * First stage of decoding: the container. Checks the length field, the larch opening, the checksum and
 * the format version, and parses the JSON header. Later stages trust nothing but the checksum.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { isPlainRecord } from "./stateValue.js";
import { checkpointChecksum } from "./checkpointChecksum.js";
import {
  CHECKSUM_AT,
  CHECKSUM_DIGITS,
  checksumDigits,
  FORMAT_NAME,
  FORMAT_VERSION,
  HEADER_OPENING,
  KEY_FORMAT,
  LENGTH_FIELD_BYTES,
  METADATA_KEY,
} from "./checkpointLayout.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";

/** A checkpoint whose container is intact: its parsed header, string metadata and data section. */
export interface CheckpointContainer {
  /** The JSON header minus `__metadata__`: tensor name → tensor info (still unchecked). */
  readonly tensors: Readonly<Record<string, unknown>>;
  /** The `__metadata__` map (every value a string). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The bytes after the header. */
  readonly data: Uint8Array;
}

const fail = (message: string): E.Either<OptimizerError, never> => E.left(optimizerError("DecodeError", message));

/** The header's JSON value, or undefined when it is not UTF-8 JSON. */
const parseHeaderJson = (header: Uint8Array): unknown => {
  try {
    return JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(header));
  } catch {
    return undefined;
  }
};

/** Total tensor bytes a header claims (the largest end offset), if it can be read at all; for messages. */
const claimedDataLength = (header: Uint8Array): number | undefined => {
  const parsed = parseHeaderJson(header);
  if (!isPlainRecord(parsed)) return undefined;
  let end = 0;
  for (const [name, info] of Object.entries(parsed)) {
    if (name === METADATA_KEY || !isPlainRecord(info) || !Array.isArray(info["data_offsets"])) continue;
    const last: unknown = info["data_offsets"][1];
    if (typeof last === "number") end = Math.max(end, last);
  }
  return end;
};

/** The version of a `larch-state/<v>` format string, or undefined when it is not one. */
const versionOf = (format: string): number | undefined => {
  const match = /^larch-state\/([1-9][0-9]{0,8})$/.exec(format);
  return match === null ? undefined : Number(match[1]);
};

/**
 * The container of a checkpoint, or a Left saying what is wrong: shorter than the length field, a header
 * length beyond the end, not a larch checkpoint, a checksum that does not match (a flipped bit, a
 * truncation or trailing bytes), a header that is not UTF-8 JSON, or another format or a newer version.
 */
export const readCheckpointHeader = (bytes: Uint8Array): E.Either<OptimizerError, CheckpointContainer> => {
  if (!(bytes instanceof Uint8Array)) return fail("a checkpoint must be a Uint8Array");
  if (bytes.length < LENGTH_FIELD_BYTES)
    return fail(`the checkpoint is truncated: ${bytes.length} bytes, fewer than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const low = view.getUint32(0, true);
  const high = view.getUint32(4, true);
  const room = bytes.length - LENGTH_FIELD_BYTES;
  if (high !== 0 || low > room)
    return fail(
      `the header length field says ${high !== 0 ? `${high}·2^32 + ${low}` : low} bytes but only ${room} follow: the checkpoint is truncated or corrupted`,
    );
  const headerEnd = LENGTH_FIELD_BYTES + low;
  const header = bytes.subarray(LENGTH_FIELD_BYTES, headerEnd);

  const openingEnd = CHECKSUM_AT + CHECKSUM_DIGITS;
  const opening = new TextDecoder().decode(bytes.subarray(LENGTH_FIELD_BYTES, CHECKSUM_AT));
  if (headerEnd < openingEnd || opening !== HEADER_OPENING) {
    const parsed = parseHeaderJson(header);
    const metadata = isPlainRecord(parsed) ? parsed[METADATA_KEY] : undefined;
    const format = isPlainRecord(metadata) ? metadata[KEY_FORMAT] : undefined;
    return fail(
      typeof format === "string" && format !== `${FORMAT_NAME}/${FORMAT_VERSION}`
        ? `the checkpoint's format is "${format}"; this larch reads "${FORMAT_NAME}/${FORMAT_VERSION}" (a newer larch may read it)`
        : `not a larch state checkpoint: its header does not begin with ${HEADER_OPENING}<checksum> (corrupted, or another safetensors file)`,
    );
  }

  const stored = new TextDecoder().decode(bytes.subarray(CHECKSUM_AT, openingEnd));
  const computed = checksumDigits(checkpointChecksum(bytes));
  if (!/^[0-9a-f]{8}$/.test(stored) || stored !== computed) {
    const claimed = claimedDataLength(header);
    const held = bytes.length - headerEnd;
    const hint =
      claimed !== undefined && claimed !== held
        ? `; its header describes ${claimed} bytes of tensor data but ${held} follow, so it is probably ${claimed > held ? "truncated" : "followed by extra bytes"}`
        : "";
    return fail(
      `checksum mismatch (stored ${JSON.stringify(stored)}, computed "${computed}"): the checkpoint is corrupted${hint}`,
    );
  }

  const parsed = parseHeaderJson(header);
  if (!isPlainRecord(parsed)) return fail("the checkpoint header is not a JSON object in UTF-8");
  const { [METADATA_KEY]: metadata, ...tensors } = parsed;
  if (!isPlainRecord(metadata) || !Object.values(metadata).every((v) => typeof v === "string"))
    return fail(`the checkpoint's "${METADATA_KEY}" must map strings to strings`);
  const format = metadata[KEY_FORMAT];
  if (typeof format !== "string") return fail(`the checkpoint names no format ("${KEY_FORMAT}" is missing)`);
  const version = versionOf(format);
  if (version === undefined)
    return fail(`the checkpoint's format is "${format}", not "${FORMAT_NAME}/<version>"`);
  if (version > FORMAT_VERSION)
    return fail(
      `the checkpoint was written in format version ${version} (${format}); this larch reads up to version ${FORMAT_VERSION}: upgrade larch to read it`,
    );
  if (version !== FORMAT_VERSION) return fail(`unknown format version ${version} (${format})`);
  return E.right({ tensors, metadata: metadata as Record<string, string>, data: bytes.subarray(headerEnd) });
};
