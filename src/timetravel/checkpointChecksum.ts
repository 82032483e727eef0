/**
 * The checksum of a checkpoint: CRC-32 over every byte except the checksum's own 8 hex digits.
 * @module
 */
import { CHECKSUM_AT, CHECKSUM_DIGITS, checksumDigits } from "./checkpointLayout.js";
import { crc32Finish, crc32Start, crc32Update } from "./crc32.js";

/** CRC-32 of bytes[0, CHECKSUM_AT) followed by bytes[CHECKSUM_AT + 8, end); needs CHECKSUM_AT + 8 ≤ length. */
export const checkpointChecksum = (bytes: Uint8Array): number =>
  crc32Finish(
    crc32Update(
      crc32Update(crc32Start(), bytes.subarray(0, CHECKSUM_AT)),
      bytes.subarray(CHECKSUM_AT + CHECKSUM_DIGITS),
    ),
  );

/** Writes the checksum of `bytes` into its place, in place; returns `bytes`. */
export const sealChecksum = (bytes: Uint8Array): Uint8Array => {
  const digits = checksumDigits(checkpointChecksum(bytes));
  for (let i = 0; i < CHECKSUM_DIGITS; i++) bytes[CHECKSUM_AT + i] = digits.charCodeAt(i);
  return bytes;
};
