/**
 * Applying a transformation to some leaves only.
 * @module
 */
import { identity } from "../core/identity.js";
import type { Leaf } from "../core/leaf.js";
import { refusingThrows } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { labelByPath, partition, type LabelTree, type PartitionState } from "./partition.js";

/** A tree of booleans with the params' structure. */
export type MaskTree = boolean | readonly MaskTree[] | { readonly [key: string]: MaskTree };

/** A mask as a tree, or as a predicate of each leaf's path (and the leaf). */
export type Mask = MaskTree | ((path: string, leaf: Leaf) => boolean);

const toLabels = (mask: MaskTree): LabelTree =>
  typeof mask === "boolean"
    ? mask
      ? "masked"
      : "unmasked"
    : Array.isArray(mask)
      ? mask.map(toLabels)
      : typeof mask === "object" && mask !== null
        ? Object.fromEntries(Object.entries(mask).map(([k, v]) => [k, toLabels(v as MaskTree)]))
        : (mask as unknown as LabelTree); // not a boolean: partition reports it as a bad label

/**
 * u ← T(u) where the mask is true, u unchanged where it is false (optax's `masked`): a {@link partition}
 * into `{ masked: T, unmasked: identity() }`. T sees only the masked leaves.
 * @example
 * const decayWeightsOnly = masked(addWeightDecay(1e-4), (path) => !path.endsWith("bias"));
 */
export const masked = (inner: GradientTransformation<any>, mask: Mask): GradientTransformation<PartitionState> =>
  refusingThrows("masked", () => maskedBy(inner, mask));

const maskedBy = (inner: GradientTransformation<any>, mask: Mask): GradientTransformation<PartitionState> =>
  partition(
    { masked: inner, unmasked: identity() },
    typeof mask === "function"
      ? (params: Tree) => labelByPath(params, (path, leaf) => (mask(path, leaf) ? "masked" : "unmasked"))
      : toLabels(mask),
  );
