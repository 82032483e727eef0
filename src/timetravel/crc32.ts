/**
 * CRC-32 (the IEEE 802.3 / zlib / PNG checksum): reflected polynomial 0xEDB88320, initial value and final
 * XOR 0xFFFFFFFF. It detects every single-bit error, every burst of up to 32 bits and every odd number
 * of flipped bits. Computed "slicing by 8": eight 256-entry tables let one step consume 8 bytes.
 * @module
 */

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

/**
 * Feeds `bytes` into the register: for each byte b, r ← (r >>> 8) ^ T0[(r ^ b) & 0xff]; eight bytes at a
 * time r ← T7[x0] ^ T6[x1] ^ … ^ T0[x7] with x = (r ^ next 8 bytes as two little-endian words).
 */
export const crc32Update = (register: Crc32Register, bytes: Uint8Array): Crc32Register => {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = tables as [Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array, Int32Array];
  let r = register | 0;
  const n = bytes.length;
  let i = 0;
  const end8 = n - (n % 8);
  for (; i < end8; i += 8) {
    const lo = r ^ (bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24));
    const hi = bytes[i + 4]! | (bytes[i + 5]! << 8) | (bytes[i + 6]! << 16) | (bytes[i + 7]! << 24);
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
  for (; i < n; i++) r = (r >>> 8) ^ t0[(r ^ bytes[i]!) & 0xff]!;
  return r;
};

/** The checksum of a finished register: r ^ 0xFFFFFFFF, as an unsigned 32-bit number. */
export const crc32Finish = (register: Crc32Register): number => (register ^ 0xffffffff) >>> 0;

/** CRC-32 of some byte ranges taken in order, as if concatenated. */
export const crc32 = (...parts: readonly Uint8Array[]): number =>
  crc32Finish(parts.reduce(crc32Update, crc32Start()));
