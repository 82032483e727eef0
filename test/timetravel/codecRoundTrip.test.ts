import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { decodeState, encodeState } from "../../src/timetravel/index.js";
import type { Leaf } from "../../src/core/leaf.js";
import type { Json, State } from "../../src/timetravel/stateValue.js";
import { anyLeaf, anyState } from "./stateArbitraries.js";
import { containersFrozen, firstDifference } from "./sameState.js";

const roundTrip = (state: State, meta?: Json) => {
  const bytes = encodeState(state, meta);
  if (E.isLeft(bytes)) throw new Error(bytes.left.message);
  const decoded = decodeState(bytes.right);
  if (E.isLeft(decoded)) throw new Error(decoded.left.message);
  return decoded.right;
};

/** Every leaf of a state. */
const leavesOf = (s: State): Leaf[] =>
  typeof s !== "object" || s === null
    ? []
    : "data" in s && "shape" in s
      ? [s as Leaf]
      : Object.values(s).flatMap((v) => leavesOf(v as State));

describe("encodeState / decodeState round trip", () => {
  it("gives back every random state exactly (numbers by Object.is, leaves element by element)", () => {
    fc.assert(
      fc.property(anyState(), (state) => {
        const { state: back, meta } = roundTrip(state);
        expect(firstDifference(state, back)).toBeUndefined();
        expect(meta).toBeUndefined();
        expect(containersFrozen(back)).toBe(true); // records, arrays and leaf views;
      }),
      { numRuns: 300 },
    );
  });

  it("decodes every leaf of any rank 0–4 and any view as a fresh contiguous row-major ndarray", () => {
    fc.assert(
      fc.property(anyLeaf(), (leaf) => {
        const bytes = encodeState(leaf);
        const back = roundTrip(leaf).state as Leaf;
        expect(firstDifference(leaf, back)).toBeUndefined();
        const size = leaf.shape.reduce((a, b) => a * b, 1);
        expect(back.data.length).toBe(size);
        expect(back.offset).toBe(0);
        // row-major strides: stride_k = Π_{j>k} shape_j
        const expected = back.shape.map((_, k) => back.shape.slice(k + 1).reduce((a, b) => a * b, 1));
        expect(back.stride).toEqual(expected);
        expect(E.isRight(bytes) && back.data.buffer !== bytes.right.buffer).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps the raw bits of contiguous leaves, NaN payloads included", () => {
    const f64 = new Float64Array(3);
    new DataView(f64.buffer).setBigUint64(0, 0x7ff4_0000_dead_beefn, true); // a signalling NaN with a payload
    f64[1] = -0;
    f64[2] = 5e-324;
    const f32 = new Float32Array(2);
    new DataView(f32.buffer).setUint32(0, 0x7fc0_1234, true);
    f32[1] = -1.5e-45;
    const back = roundTrip({ a: ndarray(f64, [3]), b: ndarray(f32, [2, 1]) }).state as { a: Leaf; b: Leaf };
    expect(new Uint8Array(back.a.data.buffer)).toEqual(new Uint8Array(f64.buffer));
    expect(new Uint8Array(back.b.data.buffer)).toEqual(new Uint8Array(f32.buffer));
  });

  it("keeps every finite double of the structure exactly (random bit patterns)", () => {
    fc.assert(
      fc.property(fc.array(fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), { maxLength: 20 }), (patterns) => {
        const numbers = patterns.map((p) => {
          const view = new DataView(new ArrayBuffer(8));
          view.setBigUint64(0, p);
          return view.getFloat64(0);
        });
        const back = roundTrip({ kind: "scalars", numbers }).state as { numbers: number[] };
        numbers.forEach((x, i) => expect(Object.is(back.numbers[i], x)).toBe(true));
      }),
      { numRuns: 100 },
    );
  });

  it("keeps the caller's meta and freezes it", () => {
    const meta = { optimizer: "lars", hyperparams: { lr: 0.1, momentum: 0.9, eps: 1e-8 }, step: 12, tags: ["a", null] };
    const { meta: back } = roundTrip({ kind: "k", count: 12 }, meta);
    expect(back).toEqual(meta);
    expect(Object.isFrozen(back) && Object.isFrozen((back as typeof meta).hyperparams)).toBe(true);
  });

  it("takes states typed with interfaces (checked at run time, not by an index-signature type)", () => {
    interface TraceState {
      readonly kind: "trace";
      readonly count: number;
      readonly trace: Leaf;
    }
    const state: TraceState = { kind: "trace", count: 4, trace: ndarray(new Float64Array([1, -0]), [2]) as Leaf };
    expect(firstDifference(state as unknown as State, roundTrip(state as unknown as State).state)).toBeUndefined();
    expect(E.isRight(encodeState(state))).toBe(true);
  });

  it("does not change its input", () => {
    const data = new Float32Array([1, 2, 3, 4]);
    const state = Object.freeze({ kind: "t", trace: ndarray(data, [2, 2]).transpose(1, 0) });
    const before = Array.from(data);
    roundTrip(state);
    expect(Array.from(data)).toEqual(before);
  });

  it("aligns the data section to 8 bytes and puts float64 tensors first", () => {
    fc.assert(
      fc.property(anyState(), (state) => {
        const bytes = encodeState(state);
        if (E.isLeft(bytes)) return;
        const n = new DataView(bytes.right.buffer).getUint32(0, true);
        expect((8 + n) % 8).toBe(0);
        const header = JSON.parse(new TextDecoder().decode(bytes.right.subarray(8, 8 + n))) as Record<string, { dtype: string; data_offsets: number[] }>;
        for (const [name, info] of Object.entries(header))
          if (name !== "__metadata__" && info.dtype === "F64") expect(info.data_offsets[0]! % 8).toBe(0);
      }),
      { numRuns: 100 },
    );
  });

  it("names each tensor by its leaf path", () => {
    const leaf = () => ndarray(new Float32Array(2), [2]);
    const state: State = [{ kind: "a" }, { kind: "trace", trace: { fc: { weight: leaf() }, layers: [{ w: leaf() }] } }];
    const bytes = encodeState(state);
    expect(E.isRight(bytes)).toBe(true);
    if (E.isLeft(bytes)) return;
    const n = new DataView(bytes.right.buffer).getUint32(0, true);
    const names = Object.keys(JSON.parse(new TextDecoder().decode(bytes.right.subarray(8, 8 + n)))).sort();
    expect(names).toEqual(["[1].trace.fc.weight", "[1].trace.layers[0].w", "__metadata__"]);
    expect(leavesOf(roundTrip(state).state)).toHaveLength(2);
  });
});

describe("encodeState refuses what is not a State", () => {
  const refused = (state: unknown, meta?: unknown) => {
    const result = encodeState(state as State, meta as Json);
    expect(E.isLeft(result)).toBe(true);
    return E.isLeft(result) ? result.left : undefined;
  };

  it("names the path of undefined, functions, bigints, class instances and array holes", () => {
    expect(refused({ a: [1, { b: undefined }] })?.path).toBe("a[1].b");
    expect(refused({ f: () => 1 })?.path).toBe("f");
    expect(refused([1n])?.path).toBe("[0]");
    expect(refused({ d: new Date(0) })?.message).toMatch(/Date/);
    // eslint-disable-next-line no-sparse-arrays
    expect(refused({ h: [1, , 3] })?.path).toBe("h[1]");
  });

  it("refuses int32 leaves, views reaching outside their storage, and cycles", () => {
    expect(refused({ w: ndarray(new Int32Array(2), [2]) })?.message).toMatch(/Float32Array or Float64Array/);
    expect(refused({ w: ndarray(new Float32Array(2), [3]) })?.message).toMatch(/outside its storage/);
    const cyclic: Record<string, unknown> = { kind: "c" };
    cyclic["self"] = cyclic;
    expect(refused(cyclic)?.message).toMatch(/cycle/);
  });

  it("refuses two leaves with the same path and a leaf named __metadata__", () => {
    const leaf = () => ndarray(new Float64Array(1), [1]);
    expect(refused({ "a.b": leaf(), a: { b: leaf() } })?.path).toBe("a.b");
    expect(refused({ __metadata__: leaf() })?.path).toBe("__metadata__");
  });

  it("refuses meta that JSON would not give back exactly", () => {
    expect(refused({ kind: "k" }, { lr: NaN })?.message).toMatch(/lr/);
    expect(refused({ kind: "k" }, { x: [-0] })?.message).toMatch(/-0/);
    expect(refused({ kind: "k" }, { x: undefined })?.message).toMatch(/undefined/);
  });
});
