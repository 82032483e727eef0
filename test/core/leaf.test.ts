/** leafOf builds its views with ndarray's constructor directly: it must make exactly what ndarray() makes. */
import fc from "fast-check";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { leafOf, type FloatArray } from "larch";

const shapeArb = fc.array(fc.integer({ min: 0, max: 4 }), { minLength: 0, maxLength: 6 });
const size = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Every index of a shape, in row-major order. */
const indices = (shape: readonly number[]): number[][] =>
  shape.reduce<number[][]>((acc, d) => acc.flatMap((ix) => Array.from({ length: d }, (_, k) => [...ix, k])), [[]]);

describe("leafOf", () => {
  it("makes the view ndarray() makes: prototype, fields, size, and every element", () => {
    fc.assert(
      fc.property(shapeArb, fc.boolean(), (shape, f64) => {
        const n = size(shape);
        const data: FloatArray = f64 ? Float64Array.from({ length: n }, (_, i) => i + 0.5) : Float32Array.from({ length: n }, (_, i) => i + 0.5);
        const mine = leafOf(data, shape);
        const theirs = ndarray(data, [...shape]);
        expect(Object.getPrototypeOf(mine)).toBe(Object.getPrototypeOf(theirs));
        expect(Object.keys(mine)).toEqual(Object.keys(theirs));
        expect(mine.data).toBe(data);
        expect([...mine.shape]).toEqual([...theirs.shape]);
        expect([...mine.stride]).toEqual([...theirs.stride]);
        expect(mine.offset).toBe(theirs.offset);
        expect(mine.size).toBe(theirs.size);
        expect(mine.dtype).toBe(f64 ? "float64" : "float32");
        for (const ix of indices(shape)) expect(mine.get(...ix)).toBe(theirs.get(...ix));
      }),
    );
  });

  it("freezes the view, its shape and its strides, and shares a frozen shape with the leaf made from it", () => {
    const a = leafOf(new Float32Array(6), [2, 3]);
    expect([a, a.shape, a.stride].every((x) => Object.isFrozen(x))).toBe(true);
    const b = leafOf(new Float32Array(6), a.shape);
    expect(b.shape).toBe(a.shape);
    expect(b.stride).toBe(a.stride);
    const userShape = [2, 3];
    const c = leafOf(new Float32Array(6), userShape);
    userShape[0] = 3; // the caller's array is copied, not kept
    expect([...c.shape]).toEqual([2, 3]);
  });
});
