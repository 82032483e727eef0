import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { checkStateShape, decodeState, decodeStateFor, encodeState } from "../../src/timetravel/index.js";
import type { State } from "../../src/timetravel/stateValue.js";
import { anyState } from "./stateArbitraries.js";

const f32 = (...shape: number[]) => ndarray(new Float32Array(shape.reduce((a, b) => a * b, 1)), shape);
const f64 = (...shape: number[]) => ndarray(new Float64Array(shape.reduce((a, b) => a * b, 1)), shape);
const momentum = (w: State): State => [{ kind: "traceMomentum", count: 2, trace: { fc: { weight: w } } }, { kind: "scaleByLr", lr: 0.1 }];

const leftOf = (e: unknown, a: unknown) => {
  const result = checkStateShape(e, a);
  if (E.isRight(result)) throw new Error("expected a mismatch");
  return result.left;
};

describe("checkStateShape", () => {
  it("accepts any state against itself and against its decoded checkpoint", () => {
    fc.assert(
      fc.property(anyState(), (state) => {
        expect(E.isRight(checkStateShape(state, state))).toBe(true);
        const bytes = encodeState(state);
        fc.pre(E.isRight(bytes));
        const decoded = decodeState((bytes as E.Right<Uint8Array>).right);
        expect(E.isRight(decoded) && E.isRight(checkStateShape(state, decoded.right.state))).toBe(true);
      }),
      { numRuns: 100 },
    );
  });

  it("accepts different values of the same form", () => {
    const other: State = [{ kind: "traceMomentum", count: 9, trace: { fc: { weight: ndarray(new Float32Array([1, 2, 3, 4, 5, 6]), [2, 3]) } } }, { kind: "scaleByLr", lr: 0.5 }];
    expect(E.isRight(checkStateShape(momentum(f32(2, 3)), other))).toBe(true);
  });

  it("names the path of a leaf of another shape or dtype", () => {
    const shape = leftOf(momentum(f32(2, 3)), momentum(f32(3, 2)));
    expect(shape).toMatchObject({ kind: "ShapeMismatch", path: "[0].trace.fc.weight" });
    expect(shape.message).toMatch(/\[3, 2\].*\[2, 3\]/);
    expect(leftOf(momentum(f32(2, 3)), momentum(f64(2, 3)))).toMatchObject({ kind: "DtypeMismatch", path: "[0].trace.fc.weight" });
  });

  it("says when a state belongs to another transform or another tree", () => {
    const lars: State = [{ kind: "scaleByLars", trace: { fc: { weight: f32(2, 3) } } }, { kind: "scaleByLr", lr: 0.1 }];
    expect(leftOf(momentum(f32(2, 3)), lars).message).toMatch(/"scaleByLars" transform where a "traceMomentum"/);
    const otherTree: State = [{ kind: "traceMomentum", count: 2, trace: { conv: { weight: f32(2, 3) } } }, { kind: "scaleByLr", lr: 0.1 }];
    const err = leftOf(momentum(f32(2, 3)), otherTree);
    expect(err).toMatchObject({ kind: "StructureMismatch", path: "[0].trace" });
    expect(err.message).toMatch(/missing keys "fc".*unexpected keys "conv"/);
  });

  it("refuses invalid leaves and values that are not State data instead of throwing", () => {
    expect(leftOf({ w: ndarray(new Int32Array(2), [2]) }, { w: ndarray(new Int32Array(2), [2]) }).message).toMatch(/Float32Array or Float64Array/);
    expect(leftOf({ f: () => 0 }, { f: () => 0 }).path).toBe("f");
    const cyclic: Record<string, unknown> = {};
    cyclic["self"] = cyclic;
    expect(leftOf(cyclic, cyclic).message).toMatch(/cycle/);
  });

  it("refuses other node kinds and array lengths", () => {
    expect(leftOf({ a: 1 }, { a: "1" }).message).toMatch(/expected a number, found a string/);
    expect(leftOf({ a: null }, { a: 0 }).path).toBe("a");
    expect(leftOf([1, 2], [1]).message).toMatch(/1 elements, expected 2/);
    expect(leftOf({ w: f32(1) }, { w: [0] }).message).toMatch(/expected a leaf, found an array/);
  });
});

describe("decodeStateFor", () => {
  const bytesOf = (state: State): Uint8Array => {
    const bytes = encodeState(state);
    if (E.isLeft(bytes)) throw new Error(bytes.left.message);
    return bytes.right;
  };

  it("decodes a checkpoint of the expected form", () => {
    const result = decodeStateFor(bytesOf(momentum(f32(2, 3))), momentum(f32(2, 3)));
    expect(E.isRight(result)).toBe(true);
  });

  it("refuses a checkpoint of another tree or optimizer, naming where", () => {
    expect(decodeStateFor(bytesOf(momentum(f32(2, 3))), momentum(f32(4)))).toMatchObject({ _tag: "Left", left: { kind: "ShapeMismatch", path: "[0].trace.fc.weight" } });
    expect(decodeStateFor(bytesOf(momentum(f32(2, 3))), [{ kind: "identity" }])).toMatchObject({ _tag: "Left", left: { kind: "StructureMismatch" } });
  });

  it("passes decoding errors through", () => {
    const bytes = bytesOf(momentum(f32(2, 3)));
    expect(decodeStateFor(bytes.subarray(0, 20), momentum(f32(2, 3)))).toMatchObject({ _tag: "Left", left: { kind: "DecodeError" } });
  });
});
