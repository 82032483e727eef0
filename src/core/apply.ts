/**
 * Applying updates to params.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { OptimizerError } from "./errors.js";
import { allocate, denseValues, dtypeOf, leafOf, sizeOf } from "./leaf.js";
import { mapTrees, type Tree } from "./tree.js";

/**
 * p ← p + u, leaf by leaf, rounded to the leaf's dtype; a fresh tree (the inputs are only read).
 * Trees of different structure, shape or dtype are a Left naming the first leaf where they differ.
 * @example
 * const next = applyUpdates(params, updates); // Either<OptimizerError, Tree>
 */
export const applyUpdates = (params: Tree, updates: Tree): E.Either<OptimizerError, Tree> =>
  mapTrees([params, updates], ["params", "updates"], ([param, update]) => {
    const p = denseValues(param!);
    const u = denseValues(update!);
    const out = allocate(dtypeOf(param!), sizeOf(param!.shape));
    for (let i = 0; i < out.length; i++) out[i] = p[i]! + u[i]!; // p ← p + u
    return E.right(leafOf(out, param!.shape));
  });
