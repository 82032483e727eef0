/**
 * The update that changes nothing, bit for bit.
 * @module
 */
import { allocate, dtypeOf, leafOf, sizeOf } from "../core/leaf.js";
import { unflatten, type Flat, type Tree } from "../core/tree.js";

/**
 * Fresh updates of −0 with the structure, shapes and dtypes of `like`: −0 is the identity of IEEE addition
 * (x + (−0) = x for every x, +0 and −0 included, where +0 would turn p = −0 into +0), so
 * `applyUpdates(p, noUpdates(...))` is p bit for bit. For anything that is not a {@link Flat}, an empty record (as {@link unflatten} gives).
 * @example
 * const skip = pipe(flatten(params), E.map(noUpdates)); // p + (−0) = p, bit for bit
 */
export const noUpdates = (like: Flat): Tree => {
  try {
    return unflatten(
      like.def,
      like.leaves.map((leaf) => {
        const data = allocate(dtypeOf(leaf), sizeOf(leaf.shape));
        data.fill(-0);
        return leafOf(data, leaf.shape);
      }),
      like.paths,
    );
  } catch {
    return Object.freeze({}); // not a Flat: nothing to build, as unflatten gives
  }
};
