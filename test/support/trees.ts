/** Random trees for property tests: random structures, shapes, dtypes and strided views, reproducible from a seed. */
import fc from "fast-check";
import ndarray from "ndarray";
import { denseValues, dtypeOf, flatten, type Dtype, type Leaf, type Tree } from "larch";
import * as E from "fp-ts/lib/Either.js";

/** A small deterministic PRNG (mulberry32) so that tree values follow from one integer seed. */
export const prng = (seed: number) => {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

export type View = "dense" | "transposed" | "reversed" | "sliced";
export interface LeafSpec {
  readonly shape: readonly number[];
  readonly dtype: Dtype;
  readonly view: View;
}
export type TreeSpec = LeafSpec | readonly TreeSpec[] | { readonly [key: string]: TreeSpec };

const isLeafSpec = (s: TreeSpec): s is LeafSpec => typeof s === "object" && s !== null && "view" in s && "dtype" in s;

export const leafSpecArb = (dtype?: Dtype): fc.Arbitrary<LeafSpec> =>
  fc.record({
    shape: fc.array(fc.integer({ min: 1, max: 5 }), { minLength: 0, maxLength: 4 }),
    dtype: dtype ? fc.constant(dtype) : fc.constantFrom<Dtype>("float32", "float64"),
    view: fc.constantFrom<View>("dense", "transposed", "reversed", "sliced"),
  });

/** Trees of depth ≤ 2 with 1–4 children per node. */
export const treeSpecArb = (dtype?: Dtype): fc.Arbitrary<TreeSpec> => {
  const leaf = leafSpecArb(dtype);
  const node = (inner: fc.Arbitrary<TreeSpec>) =>
    fc.oneof(
      fc.dictionary(fc.constantFrom("w", "b", "conv", "fc", "bn", "emb", "x"), inner, { minKeys: 1, maxKeys: 4 }),
      fc.array(inner, { minLength: 1, maxLength: 3 }),
    );
  return fc.oneof({ weight: 1, arbitrary: leaf }, { weight: 3, arbitrary: node(fc.oneof(leaf, node(leaf))) });
};

/** A leaf of the given spec, values from `next()` mapped by `value`, stored behind the spec's kind of view. */
export const makeLeaf = (spec: LeafSpec, value: () => number): Leaf => {
  const { shape, dtype, view } = spec;
  const size = shape.reduce((n, d) => n * d, 1);
  const fill = (n: number) => {
    const data = dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = value();
    return data;
  };
  const rank = shape.length;
  if (view === "dense" || rank === 0) return ndarray(fill(size), [...shape]) as Leaf;
  if (view === "transposed") {
    // store the reversed shape row-major, then view it transposed back to `shape`
    const stored = ndarray(fill(size), [...shape].reverse()) as Leaf;
    return stored.transpose(...shape.map((_, k) => rank - 1 - k)) as Leaf;
  }
  if (view === "reversed") return (ndarray(fill(size), [...shape]) as Leaf).step(...shape.map(() => -1)) as Leaf;
  // sliced: a window of a larger array, with an offset and padding on every axis
  const big = shape.map((d) => d + 2);
  return (ndarray(fill(big.reduce((n, d) => n * d, 1)), big) as Leaf).hi(...shape.map((d) => d + 1)).lo(...shape.map(() => 1)) as Leaf;
};

/** A tree of the spec's structure with values from a seeded normal-ish distribution times `scale`. */
export const makeTree = (spec: TreeSpec, seed: number, scale = 1): Tree => {
  const rand = prng(seed);
  const value = () => scale * (rand() + rand() + rand() - 1.5) * 2;
  const build = (s: TreeSpec): Tree =>
    isLeafSpec(s)
      ? makeLeaf(s, value)
      : Array.isArray(s)
        ? s.map(build)
        : Object.fromEntries(Object.entries(s).map(([k, v]) => [k, build(v as TreeSpec)]));
  return build(spec);
};

/** Every byte of every leaf's whole storage, and the tree's structure: what must not change across a call. */
export const snapshot = (tree: unknown): string => {
  const flat = flatten(tree);
  if (E.isLeft(flat)) return `invalid: ${flat.left.message}`;
  const bytes = flat.right.leaves.map((l) =>
    Buffer.from(l.data.buffer, l.data.byteOffset, l.data.byteLength).toString("base64") +
    `|${l.shape}|${l.stride}|${l.offset}`,
  );
  return JSON.stringify([flat.right.paths, flat.right.def, bytes]);
};

/** The bits of every leaf in row-major order, with its path (views compared by value, not by layout). */
export const bits = (tree: unknown): string[] => {
  const flat = flatten(tree);
  if (E.isLeft(flat)) return [`invalid: ${flat.left.message}`];
  return flat.right.leaves.map((l, i) => {
    const v = denseValues(l);
    return `${flat.right.paths[i]}:${dtypeOf(l)}:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64")}`;
  });
};
