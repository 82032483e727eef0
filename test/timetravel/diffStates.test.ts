import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import { diffStates, type StateDiff } from "../../src/timetravel/index.js";
import type { Leaf } from "../../src/core/leaf.js";
import type { State } from "../../src/timetravel/stateValue.js";
import { anyDouble, anyLeaf, anyState } from "./stateArbitraries.js";
import { indicesOf } from "./sameState.js";

const diffOf = (a: State, b: State): StateDiff => {
  const result = diffStates(a, b);
  if (E.isLeft(result)) throw new Error(result.left.message);
  return result.right;
};

/** A contiguous copy of a leaf (read through its own indexing) with one row-major element replaced. */
const withElement = (leaf: Leaf, flat: number, value: number): Leaf => {
  const Storage = leaf.data instanceof Float32Array ? Float32Array : Float64Array;
  const values = [...indicesOf(leaf.shape)].map((i) => leaf.get(...i));
  values[flat] = value;
  return ndarray(Storage.from(values), [...leaf.shape]) as Leaf;
};

describe("diffStates", () => {
  it("of a state with itself reports nothing differing", () => {
    fc.assert(
      fc.property(anyState(), (state) => {
        const diff = diffOf(state, state);
        expect(diff.identical).toBe(true);
        expect(diff.scalars).toEqual([]);
        for (const leaf of diff.leaves) {
          expect(leaf).toMatchObject({ differing: 0, firstDifferingIndex: null, maxAbsDiff: 0, maxRelDiff: 0 });
          expect(leaf.normB).toBe(leaf.normA);
          if (Number.isFinite(leaf.normA)) expect(leaf.normChange).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it("finds a single changed element at its row-major index, in a leaf of any view", () => {
    fc.assert(
      fc.property(
        anyLeaf().filter((l) => l.size > 0),
        fc.nat(),
        anyDouble(),
        (leaf, at, value) => {
          const flat = at % leaf.size;
          const changed = withElement(leaf, flat, value);
          const before = [...indicesOf(leaf.shape)].map((i) => leaf.get(...i))[flat]!;
          const after = changed.data[flat]!; // rounded to the leaf's dtype
          fc.pre(!Object.is(before, after));
          const diff = diffOf({ kind: "k", w: leaf }, { kind: "k", w: changed });
          const [w] = diff.leaves;
          expect(w).toMatchObject({ path: "w", differing: 1, firstDifferingIndex: flat });
          expect(diff.identical).toBe(false);
          const d = Math.abs(before - after);
          if (Number.isNaN(d)) expect(w!.maxAbsDiff).toBeNaN();
          else expect(w!.maxAbsDiff).toBe(d);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("reports max absolute and relative differences and norms on a known example", () => {
    const a = ndarray(new Float64Array([3, 4, 0, 1]), [2, 2]);
    const b = ndarray(new Float64Array([3, 4, 2, -1]), [2, 2]);
    const [leaf] = diffOf({ t: a }, { t: b }).leaves;
    expect(leaf).toMatchObject({ differing: 2, firstDifferingIndex: 2, maxAbsDiff: 2, maxRelDiff: 2 });
    expect(leaf!.normA).toBe(Math.sqrt(26));
    expect(leaf!.normB).toBe(Math.sqrt(30));
    expect(leaf!.normChange).toBe(Math.sqrt(30) - Math.sqrt(26));
  });

  it("counts -0 against 0 as a difference of size 0", () => {
    const [leaf] = diffOf(ndarray(new Float32Array([0, 1]), [2]), ndarray(new Float32Array([-0, 1]), [2])).leaves;
    expect(leaf).toMatchObject({ path: "", differing: 1, firstDifferingIndex: 0, maxAbsDiff: 0, maxRelDiff: 0 });
  });

  it("lists the differing scalars with their paths", () => {
    const diff = diffOf([{ kind: "m", count: 3, lr: 0.1, flag: true }], [{ kind: "m", count: 4, lr: 0.1, flag: false }]);
    expect(diff.scalars).toEqual([
      { path: "[0].count", a: 3, b: 4 },
      { path: "[0].flag", a: true, b: false },
    ]);
  });

  it("is a Left for states of different forms", () => {
    expect(E.isLeft(diffStates({ w: ndarray(new Float32Array(2), [2]) }, { w: ndarray(new Float32Array(3), [3]) }))).toBe(true);
    expect(E.isLeft(diffStates([{ kind: "a" }], [{ kind: "b" }]))).toBe(true);
  });
});
