import fc from "fast-check";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { crc32 } from "../../src/timetravel/crc32.js";

describe("crc32", () => {
  it("matches the standard check value: CRC-32 of '123456789' is cbf43926", () => {
    expect(crc32(new TextEncoder().encode("123456789")).toString(16)).toBe("cbf43926");
  });

  it("agrees with zlib's CRC-32 on random bytes at any alignment", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.integer({ min: 0, max: 7 }), (bytes, shift) => {
        const shifted = new Uint8Array(bytes.length + shift);
        shifted.set(bytes, shift);
        expect(crc32(shifted.subarray(shift))).toBe(zlib.crc32(bytes));
      }),
    );
  });

  it("of parts equals that of their concatenation", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), fc.uint8Array({ maxLength: 100 }), (a, b) => {
        const joined = new Uint8Array(a.length + b.length);
        joined.set(a);
        joined.set(b, a.length);
        expect(crc32(a, b)).toBe(crc32(joined));
      }),
    );
  });
});
