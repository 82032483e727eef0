import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import zlib from "node:zlib";
import { describe, expect, it } from "vitest";
import { sealChecksum } from "../../src/timetravel/checkpointChecksum.js";
import { decodeState, encodeState } from "../../src/timetravel/index.js";
import type { State } from "../../src/timetravel/stateValue.js";
import { anyState } from "./stateArbitraries.js";
import { firstDifference } from "./sameState.js";

/** A small state with every kind of node: record, array, -0, NaN, Inf, string, boolean, null, f32 and f64 leaves. */
const smallState: State = [
  { kind: "traceMomentum", count: 3, trace: { b: ndarray(new Float64Array([0.5, -0]), [2]), w: ndarray(new Float32Array([1, 2, 3, 4]), [2, 2]) } },
  { kind: "x", nan: NaN, inf: -Infinity, s: "é", on: true, none: null, scalar: ndarray(new Float64Array([7]), []) },
];

const encoded = (state: State = smallState, meta?: { step: number }): Uint8Array => {
  const bytes = encodeState(state, meta);
  if (E.isLeft(bytes)) throw new Error(bytes.left.message);
  return bytes.right;
};

/** The decode error message, failing the test if decoding succeeded. */
const refusal = (bytes: Uint8Array): string => {
  const result = decodeState(bytes);
  if (E.isRight(result)) throw new Error("decoded although it should have been refused");
  expect(result.left.kind).toBe("DecodeError");
  return result.left.message;
};

/** A checkpoint with the given header object and data section, laid out and checksummed like a real one. */
const crafted = (header: object, data: Uint8Array = new Uint8Array(0)): Uint8Array => {
  let text = new TextEncoder().encode(JSON.stringify(header));
  const padded = new Uint8Array(text.length + ((8 - (text.length % 8)) % 8)).fill(0x20);
  padded.set(text);
  text = padded;
  const out = new Uint8Array(8 + text.length + data.length);
  new DataView(out.buffer).setUint32(0, text.length, true);
  out.set(text, 8);
  out.set(data, 8 + text.length);
  return sealChecksum(out);
};

/** The header object of an encoded checkpoint. */
const headerOf = (bytes: Uint8Array): Record<string, Record<string, unknown>> => {
  const n = new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true);
  return JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
};
const dataOf = (bytes: Uint8Array): Uint8Array => bytes.subarray(8 + new DataView(bytes.buffer, bytes.byteOffset).getUint32(0, true));

describe("the checksum", () => {
  it("is zlib's CRC-32 of every byte but its own 8 hex digits at byte 40", () => {
    fc.assert(
      fc.property(anyState(), (state) => {
        const result = encodeState(state);
        fc.pre(E.isRight(result));
        const bytes = (result as E.Right<Uint8Array>).right;
        const digits = new TextDecoder().decode(bytes.subarray(40, 48));
        const rest = new Uint8Array(bytes.length - 8);
        rest.set(bytes.subarray(0, 40));
        rest.set(bytes.subarray(48), 40);
        expect(digits).toBe(zlib.crc32(rest).toString(16).padStart(8, "0"));
        expect(headerOf(bytes)["__metadata__"]!["larch.crc32"]).toBe(digits);
      }),
      { numRuns: 50 },
    );
  });
});

describe("decodeState refuses damaged checkpoints", () => {
  it("refuses every single-bit flip of a small checkpoint (exhaustive)", () => {
    const bytes = encoded(smallState, { step: 3 });
    expect(bytes.length).toBeGreaterThan(400);
    let refused = 0;
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const flipped = bytes.slice();
      flipped[bit >> 3]! ^= 1 << (bit & 7);
      if (E.isLeft(decodeState(flipped))) refused++;
    }
    expect(refused).toBe(bytes.length * 8);
  });

  it("refuses a flipped bit anywhere in checkpoints of random states (property)", () => {
    fc.assert(
      fc.property(anyState(), fc.nat(), fc.integer({ min: 0, max: 7 }), (state, at, bit) => {
        const result = encodeState(state);
        fc.pre(E.isRight(result)); // the generator may produce clashing leaf paths
        const bytes = (result as E.Right<Uint8Array>).right;
        bytes[at % bytes.length]! ^= 1 << bit;
        refusal(bytes);
      }),
    );
  });

  it("refuses every truncation and says so", () => {
    const bytes = encoded(smallState, { step: 3 });
    for (let length = 0; length < bytes.length; length++) refusal(bytes.subarray(0, length));
    expect(refusal(bytes.subarray(0, 5))).toMatch(/truncated/);
    expect(refusal(bytes.subarray(0, 40))).toMatch(/truncated/);
    expect(refusal(bytes.subarray(0, bytes.length - 3))).toMatch(/truncated/);
  });

  it("refuses trailing bytes", () => {
    const bytes = encoded();
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    expect(refusal(longer)).toMatch(/extra bytes/);
  });

  it("decodes a checkpoint that sits at an odd offset of a larger buffer", () => {
    const bytes = encoded();
    const buffer = new Uint8Array(bytes.length + 3);
    buffer.set(bytes, 3);
    expect(E.isRight(decodeState(buffer.subarray(3)))).toBe(true);
  });

  it("decodes a Node Buffer (as readFileSync returns), also one inside a shared pool", () => {
    const bytes = encoded();
    const pooled = Buffer.concat([Buffer.from("xyz"), Buffer.from(bytes)]).subarray(3);
    for (const input of [Buffer.from(bytes), pooled]) {
      const back = decodeState(input);
      expect(E.isRight(back) && firstDifference(smallState, back.right.state)).toBeUndefined();
      input.fill(0); // the decoded leaves share no memory with the input
      expect(E.isRight(back) && firstDifference(smallState, back.right.state)).toBeUndefined();
    }
  });

  it("refuses a newer format version with a message that says to upgrade", () => {
    const header = headerOf(encoded());
    header["__metadata__"]!["larch.format"] = "larch-state/2";
    expect(refusal(crafted(header, dataOf(encoded())))).toMatch(/version 2.*upgrade larch/);
  });

  it("refuses other formats and plain safetensors files", () => {
    const header = headerOf(encoded());
    header["__metadata__"]!["larch.format"] = "other/1";
    expect(refusal(crafted(header, dataOf(encoded())))).toMatch(/other\/1/);
    expect(refusal(crafted({ w: { dtype: "F32", shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)))).toMatch(/not a larch/);
  });

  it("refuses malformed JSON even with a valid checksum", () => {
    const bytes = encoded();
    const n = new DataView(bytes.buffer).getUint32(0, true);
    bytes[8 + n - 1] = "{".charCodeAt(0); // the last padding byte or closing brace
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(() => JSON.parse(text)).toThrow();
    expect(refusal(sealChecksum(bytes))).toMatch(/not a JSON object/);
  });

  describe("with a valid checksum but an inconsistent tensor table", () => {
    const base = () => ({ header: headerOf(encoded()), data: dataOf(encoded()) });
    const w = "[0].trace.w";

    it("refuses offsets out of range", () => {
      const { header, data } = base();
      header[w]!["data_offsets"] = [data.length - 8, data.length + 8];
      expect(refusal(crafted(header, data))).toMatch(/outside/);
    });

    it("refuses overlapping tensors", () => {
      const { header, data } = base();
      const b = header["[0].trace.b"]!["data_offsets"] as number[];
      header["[1].scalar"]!["data_offsets"] = [b[1]! - 8, b[1]!];
      expect(refusal(crafted(header, data))).toMatch(/overlaps|belong to no tensor/);
    });

    it("refuses a dtype that does not fit the byte length, and unsupported dtypes", () => {
      const { header, data } = base();
      header[w]!["dtype"] = "F64";
      expect(refusal(crafted(header, data))).toMatch(/need 32/);
      header[w]!["dtype"] = "I32";
      expect(refusal(crafted(header, data))).toMatch(/"I32"/);
    });

    it("refuses a shape that does not fit the byte length", () => {
      const { header, data } = base();
      header[w]!["shape"] = [2, 3];
      expect(refusal(crafted(header, data))).toMatch(/need 24/);
    });

    it("refuses a structure that disagrees with the tensors", () => {
      const { header, data } = base();
      const structure = header["__metadata__"]!["larch.structure"] as string;
      header["__metadata__"]!["larch.structure"] = structure.replace('"[1].scalar"', '"[1].other"');
      expect(refusal(crafted(header, data))).toMatch(/\[1\]\.scalar/);
      header["__metadata__"]!["larch.structure"] = structure.replace('{"number":"NaN"}', '{"number":"nan"}');
      expect(refusal(crafted(header, data))).toMatch(/unknown number/);
      header["__metadata__"]!["larch.structure"] = structure.slice(0, -1);
      expect(refusal(crafted(header, data))).toMatch(/not JSON/);
    });

    it("refuses a tensor the structure does not use", () => {
      const { header, data } = base();
      const longer = new Uint8Array(data.length + 8);
      longer.set(data);
      header["extra"] = { dtype: "F64", shape: [], data_offsets: [data.length, data.length + 8] };
      expect(refusal(crafted(header, longer))).toMatch(/extra.*not in the state/);
    });
  });

  it("never throws on headers mutated at random and resealed with a valid checksum", () => {
    const bytes = encoded(smallState, { step: 3 });
    const n = new DataView(bytes.buffer).getUint32(0, true);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 48, max: 8 + n - 1 }), fc.integer({ min: 0x20, max: 0x7e })), { minLength: 1, maxLength: 4 }),
        (edits) => {
          const mutated = bytes.slice();
          for (const [at, byte] of edits) mutated[at] = byte;
          const result = decodeState(sealChecksum(mutated));
          // a resealed file is "written by someone": it may decode, but only to a consistent state
          if (E.isRight(result)) expect(encodeState(result.right.state, result.right.meta)._tag).toBe("Right");
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("reads structures nested 10⁴ deep and refuses a bad node at the bottom by its path, without overflowing the stack", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    const back = decodeState(encoded(deep as State));
    let inner = E.isRight(back) ? back.right.state : undefined;
    for (let i = 0; i < 10_000; i++) inner = (inner as readonly State[])[0];
    expect(inner).toBe(1);
    const header = headerOf(encoded({ kind: "k" }));
    header["__metadata__"]!["larch.structure"] = "[".repeat(10_000) + '{"bogus":1}' + "]".repeat(10_000);
    expect(refusal(crafted(header))).toMatch(/\[0\]\[0\]: an unknown node kind "bogus"/);
  });

  it("never throws on random bytes", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => E.isLeft(decodeState(bytes))));
    expect(E.isLeft(decodeState("not bytes" as unknown as Uint8Array))).toBe(true);
  });
});
