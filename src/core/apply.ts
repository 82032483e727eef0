/**
 * Applying updates to params.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { threw } from "./caught.js";
import type { OptimizerError } from "./errors.js";
import { compiledMath } from "./executor.js";
import { denseValues, sizeOf, type Leaf } from "./leaf.js";
import { madeLeaf } from "./views.js";
import { madeTree } from "./treeBuild.js";
import { flatten, flattenLike, type Tree } from "./tree.js";

/**
 * p ← p + u, leaf by leaf, rounded to the leaf's dtype; a fresh tree (the inputs are only read). Large float32 trees
 * run through the installed executor (the kernels' WebAssembly: one pass per leaf, on two threads after
 * `kernelThreads(2)`, the new params in kernel memory while its budget allows), with the bits of the JavaScript loop.
 * Trees of different structure, shape or dtype are a Left naming the first leaf where they differ.
 * @example
 * const next = applyUpdates(params, updates); // Either<OptimizerError, Tree>
 */
export const applyUpdates = (params: Tree, updates: Tree): E.Either<OptimizerError, Tree> => {
  try {
    const p = flatten(params);
    if (E.isLeft(p)) return p;
    const u = flattenLike(p.right, updates, ["params", "updates"]);
    if (E.isLeft(u)) return u;
    const leaves = p.right.leaves;
    // the installed executor first (the kernels' WebAssembly, core/executor.ts): the same bits, or undefined
    const done = compiledMath()?.applyUpdates?.(p.right, u.right);
    if (done !== undefined) return E.right(madeTree(p.right.def, done, p.right.paths));
    const out: Leaf[] = new Array(leaves.length);
    for (let i = 0; i < leaves.length; i++) out[i] = applied(leaves[i]!, u.right.leaves[i]!);
    return E.right(madeTree(p.right.def, out, p.right.paths));
  } catch (e) {
    return threw("applyUpdates", e, "InvalidTree"); // a getter or a Proxy trap of the trees that throws
  }
};

/** One leaf's p + u (the two of one shape and dtype), in a loop of its dtype's (so each stays monomorphic). */
const applied = (param: Leaf, update: Leaf): Leaf => {
  const p = denseValues(param);
  const u = denseValues(update);
  const n = sizeOf(param.shape);
  if (p instanceof Float32Array) {
    const out = new Float32Array(n);
    addFloat32(p, u as Float32Array, out, n);
    return madeLeaf(out, param.shape);
  }
  const out = new Float64Array(n);
  addFloat64(p, u as Float64Array, out, n);
  return madeLeaf(out, param.shape);
};

const addFloat32 = (p: Float32Array, u: Float32Array, out: Float32Array, n: number): void => {
  for (let i = 0; i < n; i++) out[i] = p[i]! + u[i]!; // p ← p + u, rounded to float32 by the store
};

const addFloat64 = (p: Float64Array, u: Float64Array, out: Float64Array, n: number): void => {
  for (let i = 0; i < n; i++) out[i] = p[i]! + u[i]!; // p ← p + u
};
