/** Exact comparisons for tests: a tree or state as a string of its structure, dtypes and raw bytes. */
import * as E from "fp-ts/lib/Either.js";
import { denseValues, dtypeOf, flatten, isLeaf, type Leaf, type Tree } from "larch";

const hex = (leaf: Leaf): string => {
  const v = denseValues(leaf);
  return `${dtypeOf(leaf)}[${leaf.shape.join(",")}]:${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("hex")}`;
};

/** Every value of a state or tree, leaves by their bytes and numbers by their bits (so −0, NaN, ±Inf count), keys sorted. */
export const bitsOf = (x: unknown): string =>
  JSON.stringify(x, (_k, v) =>
    isLeaf(v)
      ? hex(v)
      : typeof v === "number"
        ? `n:${Buffer.from(new Float64Array([v]).buffer).toString("hex")}`
        : typeof v === "object" && v !== null && !Array.isArray(v)
          ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) // keys in larch's (sorted) order
          : v,
  );

/** ‖x‖ over every leaf of a tree, textbook float64. */
export const treeNorm = (tree: Tree): number => {
  const flat = flatten(tree);
  if (E.isLeft(flat)) throw new Error(flat.left.message);
  let s = 0;
  for (const leaf of flat.right.leaves) for (const v of denseValues(leaf)) s += v * v;
  return Math.sqrt(s);
};

/** Unwraps a Right, or fails the test with the Left's message. */
export const right = <A>(e: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(e)) throw new Error(e.left.message);
  return e.right;
};
