/**
 * Applying a transformation to some leaves only.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { identity } from "../core/identity.js";
import { arrayPath, recordPath } from "../core/paths.js";
import type { Leaf } from "../core/leaf.js";
import { refusingThrows } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { labelByPath, partition, type LabelTree, type PartitionState } from "./partition.js";

/** A tree of booleans with the params' structure. */
export type MaskTree = boolean | readonly MaskTree[] | { readonly [key: string]: MaskTree };

/** A mask as a tree, or as a predicate of each leaf's path (and the leaf). */
export type Mask = MaskTree | ((path: string, leaf: Leaf) => boolean);

/** A record or array of a mask being turned into labels: its entries, the next one to read, the labels made so far. */
interface Frame {
  readonly mask: object;
  readonly path: string;
  /** the record's keys, or null for an array */
  readonly keys: readonly string[] | null;
  readonly children: readonly unknown[];
  next: number;
  readonly labels: LabelTree[];
}

/**
 * The label tree of a mask tree: true ↦ "masked", false ↦ "unmasked", records and arrays alike. Walked depth
 * first with its own stack (any depth); a sub-mask shared by several places is turned into labels once (a memo), and
 * a mask inside itself (a cycle) is an InvalidTree Left naming where it closes. A value that is not a boolean is left
 * as it is: partition reports it as a bad label.
 */
const toLabels = (mask: MaskTree): E.Either<OptimizerError, LabelTree> => {
  const done = new Map<object, LabelTree>(); // the labels of every sub-mask already walked
  const open = new Set<object>(); // the sub-masks of the stack's frames
  const stack: Frame[] = [];
  /** The labels of one mask node, or undefined when its frame is pushed (or a Left for a cycle). */
  const enter = (node: unknown, path: string): E.Either<OptimizerError, LabelTree> | undefined => {
    if (typeof node === "boolean") return E.right(node ? "masked" : "unmasked");
    if (typeof node !== "object" || node === null) return E.right(node as LabelTree);
    const known = done.get(node);
    if (known !== undefined) return E.right(known);
    if (open.has(node))
      return E.left(optimizerError("InvalidTree", `masked: the mask at ${showPath(path)} contains itself (a cycle): a mask must be finite`, { path }));
    const entries = Array.isArray(node) ? null : Object.entries(node);
    open.add(node);
    stack.push({
      mask: node,
      path,
      keys: entries === null ? null : entries.map(([k]) => k),
      children: entries === null ? (node as readonly unknown[]) : entries.map(([, v]) => v),
      next: 0,
      labels: [],
    });
    return undefined;
  };
  let root = enter(mask, "");
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.children.length) {
      const i = frame.next++;
      const child = enter(frame.children[i], frame.keys === null ? arrayPath(frame.path, i) : recordPath(frame.path, frame.keys[i]!));
      if (child === undefined) continue; // a record or array: its frame is on top now
      if (E.isLeft(child)) return child;
      frame.labels.push(child.right);
      continue;
    }
    stack.pop();
    open.delete(frame.mask);
    const labels: LabelTree = frame.keys === null ? frame.labels : Object.fromEntries(frame.keys.map((k, j) => [k, frame.labels[j]!]));
    done.set(frame.mask, labels);
    if (stack.length === 0) root = E.right(labels);
    else stack[stack.length - 1]!.labels.push(labels);
  }
  return root!;
};

/**
 * u ← T(u) where the mask is true, u unchanged where it is false (optax's `masked`): a {@link partition}
 * into `{ masked: T, unmasked: identity() }`. T sees only the masked leaves.
 * @example
 * const decayWeightsOnly = masked(addWeightDecay(1e-4), (path) => !path.endsWith("bias"));
 */
export const masked = (inner: GradientTransformation<any>, mask: Mask): GradientTransformation<PartitionState> =>
  refusingThrows("masked", () => maskedBy(inner, mask));

const maskedBy = (inner: GradientTransformation<any>, mask: Mask): GradientTransformation<PartitionState> => {
  if (typeof mask === "function")
    return partition({ masked: inner, unmasked: identity() }, (params: Tree) => labelByPath(params, (path, leaf) => (mask(path, leaf) ? "masked" : "unmasked")));
  const labels = toLabels(mask);
  return E.isLeft(labels) ? failing("masked", {}, labels.left) : partition({ masked: inner, unmasked: identity() }, labels.right);
};
