/**
 * CRC-32 (the IEEE 802.3 / zlib / PNG checksum): reflected polynomial 0xEDB88320, initial value and final
 * XOR 0xFFFFFFFF. It detects every single-bit error, every burst of up to 32 bits and every odd number
 * of flipped bits. Computed "slicing by 8": eight 256-entry tables let one step consume 8 bytes.
 * @module
 */
import { hostIsLittleEndian } from "./littleEndian.js";

const POLYNOMIAL = 0xedb88320;

/**
 * tables[0][b] is the CRC register after shifting byte b through it (b·x^32 mod P, reflected);
 * tables[k][b] = (tables[k−1][b] >>> 8) ^ tables[0][tables[k−1][b] & 0xff] is the same for b followed by k zero bytes.
 */
const tables: readonly Int32Array[] = (() => {
  const t = Array.from({ length: 8 }, () => new Int32Array(256));
  const t0 = t[0]!;
  for (let b = 0; b < 256; b++) {
    let r = b;
    for (let bit = 0; bit < 8; bit++) r = r & 1 ? (r >>> 1) ^ POLYNOMIAL : r >>> 1;
    t0[b] = r;
  }
  for (let k = 1; k < 8; k++) {
    const prev = t[k - 1]!;
    const cur = t[k]!;
    for (let b = 0; b < 256; b++) cur[b] = (prev[b]! >>> 8) ^ t0[prev[b]! & 0xff]!;
  }
  return t;
})();

/** The register state of a CRC in progress; start from {@link crc32Start}, end with {@link crc32Finish}. */
export type Crc32Register = number;

/** The register before any byte: 0xFFFFFFFF. */
export const crc32Start = (): Crc32Register => 0xffffffff | 0;

/** One table lookup per byte: r ← (r >>> 8) ^ T0[(r ^ b) & 0xff] for each byte b of bytes[from, to). */
const bytewise = (r: number, bytes: Uint8Array, from: number, to: number): number => {
  const t0 = tables[0]!;
  for (let i = from; i < to; i++) r = (r >>> 8) ^ t0[(r ^ bytes[i]!) & 0xff]!;
  return r;
};

/**
 * Feeds `bytes` into the register. Per byte b: r ← (r >>> 8) ^ T0[(r ^ b) & 0xff]. Eight bytes at a time,
 * with lo, hi the two little-endian 32-bit words of those bytes and x = r ^ lo:
 * r ← T7[x₀] ^ T6[x₁] ^ T5[x₂] ^ T4[x₃] ^ T3[hi₀] ^ T2[hi₁] ^ T1[hi₂] ^ T0[hi₃] (x_k, hi_k their k-th bytes).
 * On a little-endian host the words are read through an Int32Array view of the 4-aligned middle.
 */
export const crc32Update = (register: Crc32Register, bytes: Uint8Array): Crc32Register => {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  const n = bytes.length;
  if (!hostIsLittleEndian || n < 16) return bytewise(register | 0, bytes, 0, n);
  const head = (4 - (bytes.byteOffset & 3)) & 3; // bytes before the first 4-aligned address
  let r = bytewise(register | 0, bytes, 0, head);
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + head, (n - head) >> 3 << 1);
  for (let i = 0; i < words.length; i += 2) {
    const lo = r ^ words[i]!;
    const hi = words[i + 1]!;
    r =
      t7[lo & 0xff]! ^
      t6[(lo >>> 8) & 0xff]! ^
      t5[(lo >>> 16) & 0xff]! ^
      t4[lo >>> 24]! ^
      t3[hi & 0xff]! ^
      t2[(hi >>> 8) & 0xff]! ^
      t1[(hi >>> 16) & 0xff]! ^
      t0[hi >>> 24]!;
  }
  return bytewise(r, bytes, head + words.length * 4, n);
};

/** The checksum of a finished register: r ^ 0xFFFFFFFF, as an unsigned 32-bit number. */
export const crc32Finish = (register: Crc32Register): number => (register ^ 0xffffffff) >>> 0;

/** CRC-32 of some byte ranges taken in order, as if concatenated. */
export const crc32 = (...parts: readonly Uint8Array[]): number =>
  crc32Finish(parts.reduce(crc32Update, crc32Start()));
