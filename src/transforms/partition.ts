/**
 * Parameter groups: a different transformation for each labelled set of leaves (optax's multi_transform).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { failing, stateOfKind } from "../core/elementwise.js";
import { aRecord, readOptions, refusingThrows, required, transformations, type OptionType } from "../core/options.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "../core/errors.js";
import type { Leaf } from "../core/leaf.js";
import { arrayPath, recordPath } from "../core/paths.js";
import { specOf, type GradientTransformation, type Step, type UpdateContext } from "../core/transform.js";
import { flatten, flattenLike, frozenRecord, unflatten, type Flat, type Tree } from "../core/tree.js";

/** A tree with the params' structure whose leaves are labels. */
export type LabelTree = string | readonly LabelTree[] | { readonly [key: string]: LabelTree };

/** Labels as a tree, or as a function of the params tree (called on the updates when no params are given). */
export type Labels = LabelTree | ((params: Tree) => LabelTree);

/**
 * State of {@link partition}: the label of every leaf (resolved once, at init, like PyTorch's param groups) and
 * each label's own state, built on that label's leaves.
 */
export interface PartitionState {
  readonly kind: "partition";
  readonly labels: { readonly [path: string]: string };
  readonly inner: { readonly [label: string]: unknown };
}

/** A label tree (a string, an array or a record) or a function. */
const labelsType: OptionType<Labels> = {
  is: "a label tree or a function of the params",
  accepts: (x): x is Labels => typeof x === "string" || typeof x === "function" || (typeof x === "object" && x !== null),
};

/** The label of each leaf path of a label tree, in the same order and with the same paths as {@link flatten}. */
/** More records and arrays than any tree's labels have (a label tree may share subtrees, so cycles are caught by count). */
const MAX_LABEL_NODES = 10_000_000;

const labelPaths = (labels: LabelTree): E.Either<OptimizerError, Map<string, string>> => {
  const out = new Map<string, string>();
  // depth first with its own stack (no depth limit), children pushed last first so they are read in order
  const stack: [unknown, string][] = [[labels, ""]];
  for (let visited = 0; stack.length > 0; visited++) {
    const [node, path] = stack.pop()!;
    if (typeof node === "string") {
      out.set(path, node);
      continue;
    }
    if (visited > MAX_LABEL_NODES)
      return E.left(optimizerError("InvalidTree", `the labels have more than ${MAX_LABEL_NODES} records and arrays: a label tree inside itself (a cycle)?`));
    if (typeof node === "object" && node !== null) {
      if (Array.isArray(node)) for (let i = node.length - 1; i >= 0; i--) stack.push([node[i], arrayPath(path, i)]);
      else {
        const keys = Object.keys(node).sort();
        for (let k = keys.length - 1; k >= 0; k--) stack.push([(node as Record<string, unknown>)[keys[k]!], recordPath(path, keys[k]!)]);
      }
      continue;
    }
    return E.left(optimizerError("InvalidTree", `label at ${showPath(path)} is ${showValue(node)}, not a string`, { path }));
  }
  return E.right(out);
};

/** Calls the labels function (or takes the tree) and reads each leaf's label by path. */
const resolveLabels = (labels: Labels, tree: Tree): E.Either<OptimizerError, ReadonlyMap<string, string>> => {
  let labelTree: LabelTree;
  try {
    labelTree = typeof labels === "function" ? labels(tree) : labels;
  } catch (e) {
    return E.left(optimizerError("InvalidOption", `the labels function failed: ${showValue(e)}`));
  }
  return labelPaths(labelTree);
};

/** For each label, the indices of its leaves; every leaf must have a label that names a transformation. */
const groupLeaves = (
  byPath: ReadonlyMap<string, string>,
  flat: Flat,
  known: readonly string[],
): E.Either<OptimizerError, Map<string, number[]>> => {
  const groups = new Map<string, number[]>(known.map((label) => [label, []]));
  for (let i = 0; i < flat.paths.length; i++) {
    const path = flat.paths[i]!;
    const label = byPath.get(path);
    if (label === undefined)
      return E.left(optimizerError("StructureMismatch", `no label for the leaf ${showPath(path)}`, { path }));
    const group = groups.get(label);
    if (group === undefined)
      return E.left(
        optimizerError("InvalidOption", `label "${label}" of ${showPath(path)} names no transformation (known: ${known.join(", ")})`, { path }),
      );
    group.push(i);
  }
  if (byPath.size !== flat.paths.length) {
    const paths = new Set(flat.paths);
    const extra = [...byPath.keys()].find((p) => !paths.has(p));
    return E.left(optimizerError("StructureMismatch", `the labels name a leaf the tree does not have: ${showPath(extra ?? "")}`));
  }
  return E.right(groups);
};

/** The leaves of one group as a flat record keyed by their paths in the whole tree. */
const subTree = (flat: Flat, indices: readonly number[]): Tree =>
  Object.freeze(Object.fromEntries(indices.map((i) => [flat.paths[i]!, flat.leaves[i]!])));

/**
 * Routes each leaf to the transformation of its label: for a leaf labelled ℓ, u ← T_ℓ(u).
 * Each T_ℓ sees, as its tree, a flat record of its leaves keyed by their full paths (`{"fc.bias": …}`), so its
 * state and its error messages name the leaves as the whole tree does. Labels are a tree of strings with the
 * params' structure, or a function of the params; they are resolved once, by `init`, and kept in the state.
 * @example
 * const opt = partition(
 *   { decay: lars({ lr: 0.1, weightDecay: 5e-4 }), noDecay: lars({ lr: 0.1 }) },
 *   (params) => labelByPath(params, (path) => (path.endsWith("bias") ? "noDecay" : "decay")),
 * );
 */
export const partition = (
  transforms: { readonly [label: string]: GradientTransformation<any> },
  labels: Labels,
): GradientTransformation<PartitionState> =>
  refusingThrows("partition", () => partitionOf(transforms, labels));

const partitionOf = (
  transforms: { readonly [label: string]: GradientTransformation<any> },
  labels: Labels,
): GradientTransformation<PartitionState> => {
  const given = readOptions("partition", { transforms, labels }, { transforms: required(aRecord), labels: required(labelsType) });
  if (E.isLeft(given)) return failing("partition", {}, given.left);
  const known = Object.keys(transforms).sort();
  const members = transformations("partition", known.map((label) => transforms[label]), (i) => `the transformation of label ${JSON.stringify(known[i])}`);
  if (E.isLeft(members)) return failing("partition", {}, members.left);
  return Object.freeze({
    name: "partition",
    hyperparams: {
      transforms: Object.fromEntries(known.map((label) => [label, specOf(transforms[label]!)])),
      labels: typeof labels === "function" ? "function" : "tree",
    },
    init: (params: Tree) => {
      const flat = flatten(params);
      if (E.isLeft(flat)) return flat;
      const byPath = resolveLabels(labels, params);
      if (E.isLeft(byPath)) return byPath;
      const groups = groupLeaves(byPath.right, flat.right, known);
      if (E.isLeft(groups)) return groups;
      const inner: unknown[] = []; // in the order of known (a record built by assignment would lose a label "__proto__")
      for (const label of known) {
        const s = transforms[label]!.init(subTree(flat.right, groups.right.get(label)!));
        if (E.isLeft(s)) return s;
        inner.push(s.right);
      }
      const labelOf = Object.freeze(Object.fromEntries(byPath.right));
      return E.right(Object.freeze({ kind: "partition" as const, labels: labelOf, inner: frozenRecord(known, inner) }));
    },
    update: (updates: Tree, state: PartitionState, params?: Tree, context?: UpdateContext): E.Either<OptimizerError, Step<PartitionState>> => {
      const s = stateOfKind<PartitionState>(state, "partition");
      if (E.isLeft(s)) return s;
      const { inner, labels: labelOf } = s.right;
      if (typeof inner !== "object" || inner === null || known.some((label) => !(label in inner)))
        return E.left(optimizerError("StateMismatch", `partition state lacks the states of labels [${known.join(", ")}]`));
      if (typeof labelOf !== "object" || labelOf === null)
        return E.left(optimizerError("StateMismatch", "partition state has no labels"));
      const trees: Record<"u" | "p" | "g", Flat | undefined> = { u: undefined, p: undefined, g: undefined };
      for (const [key, tree] of [["u", updates], ["p", params], ["g", context?.grads]] as const) {
        if (tree === undefined) continue;
        const flat = trees.u ? flattenLike(trees.u, tree, ["updates", key === "p" ? "params" : "gradient"]) : flatten(tree);
        if (E.isLeft(flat)) return flat;
        trees[key] = flat.right;
      }
      const u = trees.u!;
      const groups = groupLeaves(new Map(Object.entries(labelOf)), u, known);
      if (E.isLeft(groups))
        return E.left(optimizerError("StateMismatch", `${groups.left.message} (a partition state made for another tree?)`, groups.left.path !== undefined ? { path: groups.left.path } : {}));
      const out: Leaf[] = [...u.leaves];
      const next: unknown[] = [];
      for (const label of known) {
        const indices = groups.right.get(label)!;
        const step = transforms[label]!.update(
          subTree(u, indices),
          inner[label],
          trees.p && subTree(trees.p, indices),
          trees.g && { ...context, grads: subTree(trees.g, indices) }, // the rest of the context (a matrix product) as given
        );
        if (E.isLeft(step)) return step;
        const result = step.right[0] as { readonly [path: string]: Leaf };
        for (const i of indices) {
          const leaf = result[u.paths[i]!];
          if (leaf === undefined)
            return E.left(optimizerError("StructureMismatch", `transformation "${label}" dropped the leaf ${showPath(u.paths[i]!)}`));
          out[i] = leaf;
        }
        next.push(step.right[1]);
      }
      return E.right([unflatten(u.def, out, u.paths), Object.freeze({ kind: "partition" as const, labels: labelOf, inner: frozenRecord(known, next) })] as const);
    },
  });
};

/**
 * A label tree built from each leaf's path: `labelByPath(params, (path) => path.endsWith("bias") ? "noDecay" : "decay")`.
 * (For a value that is not a tree it gives an empty label tree; `init` and `update` then report the tree's own error.)
 * @example
 * labelByPath(params, (path) => (path.endsWith("bias") ? "noDecay" : "decay")) // { fc: { bias: "noDecay", weight: "decay" } }
 */
export const labelByPath = (params: Tree, label: (path: string, leaf: Leaf) => string): LabelTree => {
  const flat = flatten(params);
  if (E.isLeft(flat) || typeof label !== "function") return {};
  const labels = flat.right.paths.map((path, i) => label(path, flat.right.leaves[i]!));
  return unflatten(flat.right.def, labels as never) as unknown as LabelTree; // the params' structure, a label at each leaf
};
