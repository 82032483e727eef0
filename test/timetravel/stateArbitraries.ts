/**
 * fast-check generators of optimizer states: nested records and arrays of scalars (special numbers
 * included) and float32/float64 ndarray leaves of rank 0–4, contiguous or strided views.
 */
import fc from "fast-check";
import ndarray from "ndarray";
import type { Leaf } from "../../src/core/leaf.js";
import type { State } from "../../src/timetravel/stateValue.js";

/** Doubles with the hard cases made likely: ±0, NaN, ±Inf, subnormals, extremes. */
export const anyDouble = (): fc.Arbitrary<number> =>
  fc.oneof(
    fc.double(),
    fc.constantFrom(-0, 0, NaN, Infinity, -Infinity, Number.MIN_VALUE, -Number.MIN_VALUE, 2.2250738585072e-308, Number.MAX_VALUE),
    fc.integer({ min: -(2 ** 53), max: 2 ** 53 }),
  );

/** Float32 values (as doubles) with the hard cases made likely. */
const anyFloat32 = (): fc.Arbitrary<number> =>
  fc.oneof(fc.float(), fc.constantFrom(-0, NaN, Infinity, -Infinity, 1.401298464324817e-45, 3.4028234663852886e38));

/** The values of a leaf in row-major order plus how to view them. */
export interface LeafPlan {
  readonly dtype: "float32" | "float64";
  readonly shape: readonly number[];
  /** per axis: a step in {1, 2, −1, −2} over a backing array of extent 2·n + 1 */
  readonly steps: readonly number[];
  /** axis permutation applied last */
  readonly permutation: readonly number[];
  readonly backing: readonly number[];
}

/** A leaf: an ndarray view (possibly strided, reversed, transposed, offset) over a larger storage. */
export const anyLeaf = (maxRank = 4): fc.Arbitrary<Leaf> =>
  fc
    .record({
      dtype: fc.constantFrom("float32" as const, "float64" as const),
      shape: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: maxRank }),
    })
    .chain(({ dtype, shape }) => {
      const backingShape = shape.map((n) => 2 * n + 1);
      const backingSize = backingShape.reduce((a, b) => a * b, 1);
      return fc.record({
        dtype: fc.constant(dtype),
        shape: fc.constant(shape),
        steps: fc.tuple(...shape.map(() => fc.constantFrom(1, 2, -1, -2))),
        permutation: fc.shuffledSubarray(shape.map((_, k) => k), { minLength: shape.length, maxLength: shape.length }),
        backing: fc.array(dtype === "float32" ? anyFloat32() : anyDouble(), { minLength: backingSize, maxLength: backingSize }),
        contiguous: fc.boolean(),
      });
    })
    .map(({ dtype, shape, steps, permutation, backing, contiguous }) => {
      const size = shape.reduce((a, b) => a * b, 1);
      const Storage = dtype === "float32" ? Float32Array : Float64Array;
      if (contiguous) return ndarray(Storage.from(backing.slice(0, size)), [...shape]) as Leaf;
      const base = ndarray(Storage.from(backing), shape.map((n) => 2 * n + 1));
      const stepped = base.step(...steps).hi(...shape);
      return stepped.transpose(...permutation) as Leaf;
    });

/** Record keys, including ones that are awkward in JavaScript objects. */
const anyKey = (): fc.Arbitrary<string> =>
  fc.oneof(
    fc.string({ unit: fc.constantFrom(..."abcxyz_0123é日"), minLength: 1, maxLength: 6 }),
    fc.constantFrom("kind", "count", "__proto__", "constructor", "toString", "trace"),
  );

/** A scalar of a state. */
const anyScalar = (): fc.Arbitrary<State> => fc.oneof(anyDouble(), fc.string({ maxLength: 8 }), fc.boolean(), fc.constant(null));

/** A state: nested records and arrays (depth ≤ 4) of scalars and leaves. */
export const anyState = (): fc.Arbitrary<State> =>
  fc.letrec<{ node: State }>((tie) => ({
    node: fc.oneof(
      { maxDepth: 4, depthIdentifier: "state" },
      anyScalar(),
      anyLeaf(),
      fc.array(tie("node"), { maxLength: 4 }),
      fc
        .uniqueArray(fc.tuple(anyKey(), tie("node")), { selector: ([k]) => k, maxLength: 4 })
        .map((entries) => Object.fromEntries(entries) as State),
    ),
  })).node;
