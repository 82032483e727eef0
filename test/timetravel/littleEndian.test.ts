import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { hostIsLittleEndian, littleEndianBytes, valuesFromLittleEndian } from "../../src/timetravel/littleEndian.js";

/** Little-endian bytes written value by value through DataView: the reference. */
const referenceBytes = (values: Float32Array | Float64Array): Uint8Array => {
  const width = values.BYTES_PER_ELEMENT;
  const out = new Uint8Array(values.length * width);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => (width === 4 ? view.setFloat32(i * width, v, true) : view.setFloat64(i * width, v, true)));
  return out;
};

/** `values` as a big-endian host would hold them in memory. */
const asBigEndianHost = (values: Float32Array | Float64Array): Float32Array | Float64Array => {
  const width = values.BYTES_PER_ELEMENT;
  const bytes = referenceBytes(values);
  for (let g = 0; g < bytes.length; g += width) bytes.subarray(g, g + width).reverse();
  return width === 4 ? new Float32Array(bytes.buffer) : new Float64Array(bytes.buffer);
};

describe("little-endian bytes", () => {
  it("on this host equal the DataView little-endian encoding, both ways", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true })), fc.boolean(), (xs, single) => {
        const values = single ? Float32Array.from(xs) : Float64Array.from(xs);
        expect(littleEndianBytes(values)).toEqual(referenceBytes(values));
        expect(valuesFromLittleEndian(referenceBytes(values), single ? "float32" : "float64")).toEqual(values);
      }),
    );
    expect(hostIsLittleEndian).toBe(true);
  });

  it("on a big-endian host are produced by reversing each value's bytes", () => {
    fc.assert(
      fc.property(fc.array(fc.double({ noNaN: true })), fc.boolean(), (xs, single) => {
        const values = single ? Float32Array.from(xs) : Float64Array.from(xs);
        const hostMemory = asBigEndianHost(values);
        expect(littleEndianBytes(hostMemory, false)).toEqual(referenceBytes(values));
        const back = valuesFromLittleEndian(referenceBytes(values), single ? "float32" : "float64", false);
        expect(new Uint8Array(back.buffer)).toEqual(new Uint8Array(hostMemory.buffer));
      }),
    );
  });
});
