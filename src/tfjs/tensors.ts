/**
 * TF.js tensors as larch trees and back: a variable or gradient named `dense_Dense1/kernel` is the leaf at
 * `{ dense_Dense1: { kernel } }` (path `dense_Dense1.kernel`), so `labelByPath`, `partition` and `masked` select
 * by layer and by `kernel`/`bias`/`gamma`/`beta`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { denseValues, leafOf, type Leaf } from "../core/leaf.js";
import type { Tree } from "../core/tree.js";

/** TF.js's `NamedTensor` (its index does not export the type). */
export interface NamedTensor {
  readonly name: string;
  readonly tensor: tf.Tensor;
}

/** What {@link treeFromTensors} takes: TF.js's three ways of naming tensors. */
export type NamedTensors = tf.NamedTensorMap | readonly NamedTensor[] | readonly tf.Variable[];

/** One named tensor, as the bridge handles them: its TF.js name, the name's segments, and the tensor. */
export interface NamedEntry {
  readonly name: string;
  readonly segments: readonly string[];
  readonly tensor: tf.Tensor;
}

const bad = (name: string, what: string): OptimizerError => optimizerError("InvalidTree", `tensor ${JSON.stringify(name)} ${what}`, { path: name });

const isTensor = (x: unknown): x is tf.Tensor => typeof x === "object" && x !== null && x instanceof tf.Tensor;

/** The problem with a tensor as a float32 leaf, if any: disposed, complex, or of another dtype. */
const tensorProblem = (t: unknown): string | undefined => {
  if (!isTensor(t)) return `is ${t === null ? "null" : typeof t === "object" ? (t.constructor?.name ?? "object") : typeof t}, not a tf.Tensor`;
  if (t.isDisposed) return "is disposed";
  if (t.dtype === "complex64") return "is complex64; larch computes on real float32 tensors only";
  if (t.dtype !== "float32") return `has dtype ${t.dtype}; larch computes on float32 tensors only`;
  return undefined;
};

/** A name's segments at "/"; a Left for an empty name or an empty segment (`a//b`, `/a`). */
const segmentsOf = (name: unknown): E.Either<OptimizerError, readonly string[]> => {
  if (typeof name !== "string" || name === "") return E.left(optimizerError("InvalidTree", `a tensor's name must be a non-empty string, got ${JSON.stringify(name) ?? String(name)}`));
  const segments = name.split("/");
  return segments.includes("") ? E.left(bad(name, "has an empty segment between its '/'s")) : E.right(segments);
};

/** One entry, checked: a valid name and a float32 tensor that is not disposed. */
const entry = (name: unknown, tensor: unknown): E.Either<OptimizerError, NamedEntry> => {
  const segments = segmentsOf(name);
  if (E.isLeft(segments)) return segments;
  const problem = tensorProblem(tensor);
  return problem === undefined ? E.right({ name: name as string, segments: segments.right, tensor: tensor as tf.Tensor }) : E.left(bad(name as string, problem));
};

/**
 * The named tensors of a `NamedTensorMap`, a `NamedTensor[]` or a `tf.Variable[]`, checked (float32, not disposed,
 * names unique and non-empty), in the order given. A Left naming the first tensor that is not usable.
 * @example
 * const entries = namedEntries(model.trainableWeights.map((w) => w.read() as tf.Variable));
 */
export const namedEntries = (tensors: unknown): E.Either<OptimizerError, readonly NamedEntry[]> => {
  const out: NamedEntry[] = [];
  const seen = new Set<string>();
  const push = (name: unknown, tensor: unknown): OptimizerError | undefined => {
    const e = entry(name, tensor);
    if (E.isLeft(e)) return e.left;
    if (seen.has(e.right.name)) return bad(e.right.name, "is given twice");
    seen.add(e.right.name);
    out.push(e.right);
    return undefined;
  };
  if (Array.isArray(tensors)) {
    for (const item of tensors as unknown[]) {
      const problem = isTensor(item)
        ? push((item as tf.Variable).name, item) // a tf.Variable carries its name
        : typeof item === "object" && item !== null
          ? push((item as { name?: unknown }).name, (item as { tensor?: unknown }).tensor)
          : optimizerError("InvalidTree", `expected a tf.Variable or a { name, tensor } pair, got ${item === null ? "null" : typeof item}`);
      if (problem !== undefined) return E.left(problem);
    }
    return E.right(out);
  }
  if (typeof tensors !== "object" || tensors === null || isTensor(tensors))
    return E.left(optimizerError("InvalidTree", "expected a NamedTensorMap, a NamedTensor[] or a tf.Variable[]"));
  for (const name of Object.keys(tensors)) {
    const problem = push(name, (tensors as Record<string, unknown>)[name]);
    if (problem !== undefined) return E.left(problem);
  }
  return E.right(out);
};

/**
 * A float32 leaf holding a copy of a tensor's values (one copy: `dataSync()` into a new Float32Array, or into
 * `storage(size)` when given, e.g. an array in the kernel's memory).
 * @example
 * const leaf = leafFromTensor(tf.ones([2, 3])); // a [2, 3] float32 leaf of ones
 */
export const leafFromTensor = (t: tf.Tensor, storage?: (size: number) => Float32Array | undefined): Leaf => {
  const values = t.dataSync() as Float32Array;
  const data = storage?.(values.length) ?? new Float32Array(values.length);
  data.set(values);
  return leafOf(data, t.shape);
};

/**
 * Nests leaves by their names' segments: `a/b` and `a/c` become `{ a: { b, c } }`. A Left when one name is a prefix
 * of another (`a` and `a/b`), which would make a leaf and a record share a place.
 * @example
 * nestLeaves([{ segments: ["dense", "kernel"] }], [kernel]) // Right({ dense: { kernel } })
 */
export const nestLeaves = (entries: readonly Pick<NamedEntry, "segments">[], leaves: readonly Leaf[]): E.Either<OptimizerError, Tree> => {
  const root: Record<string, unknown> = {};
  const records = new Set<object>([root]);
  const clash = (k: number): E.Either<OptimizerError, Tree> => {
    const name = entries[k]!.segments.join("/");
    return E.left(bad(name, "and another tensor's name nest into the same place (one name is a prefix of the other at '/')"));
  };
  for (let k = 0; k < entries.length; k++) {
    const segs = entries[k]!.segments;
    let node = root;
    for (let d = 0; d < segs.length - 1; d++) {
      const here = Object.prototype.hasOwnProperty.call(node, segs[d]!);
      const next = here ? node[segs[d]!] : (node[segs[d]!] = {});
      if (!here) records.add(next as object);
      else if (!records.has(next as object)) return clash(k); // a leaf is there
      node = next as Record<string, unknown>;
    }
    const last = segs[segs.length - 1]!;
    if (Object.prototype.hasOwnProperty.call(node, last)) return clash(k);
    node[last] = leaves[k];
  }
  return E.right(freezeRecords(root) as Tree);
};

/** Freezes the nested plain records (the leaves are frozen already). */
const freezeRecords = (node: unknown): unknown => {
  if (typeof node === "object" && node !== null && Object.getPrototypeOf(node) === Object.prototype) {
    for (const value of Object.values(node)) freezeRecords(value);
    Object.freeze(node);
  }
  return node;
};

/**
 * A larch tree of copies of the tensors' values: `NamedTensorMap`, `NamedTensor[]` or `tf.Variable[]` in, names
 * nested at "/" (`dense_Dense1/kernel` → `{ dense_Dense1: { kernel } }`), each leaf a float32 copy taken once
 * (`dataSync()`). A disposed, complex or non-float32 tensor, a name given twice, or two names that nest into the same
 * place is a Left naming the tensor. The tensors are only read.
 * @example
 * const { value, grads } = tf.variableGrads(loss);
 * const g = treeFromTensors(grads);           // Right({ dense_Dense1: { bias, kernel }, … })
 * const p = treeFromTensors(model.trainableWeights.map((w) => w.read() as tf.Variable));
 */
export const treeFromTensors = (tensors: NamedTensors): E.Either<OptimizerError, Tree> => {
  const entries = namedEntries(tensors);
  if (E.isLeft(entries)) return entries;
  return nestLeaves(entries.right, entries.right.map((e) => leafFromTensor(e.tensor)));
};

/** The leaf at a name's segments in a tree, or undefined. */
export const leafAt = (tree: unknown, segments: readonly string[]): Leaf | undefined => {
  let node = tree;
  for (const s of segments) {
    if (typeof node !== "object" || node === null || !Object.prototype.hasOwnProperty.call(node, s)) return undefined;
    node = (node as Record<string, unknown>)[s];
  }
  return typeof node === "object" && node !== null && "data" in node && (node as Leaf).data instanceof Float32Array ? (node as Leaf) : undefined;
};

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, k) => d === b[k]);

/**
 * Writes a tree back into TF.js variables: each variable takes the float32 leaf at its name's place (`a/b` reads
 * `tree.a.b`). Everything is checked first (every variable a live float32 `tf.Variable` with a leaf of its shape), so a
 * Left assigns nothing. Each variable gets a copy of its leaf's values (later writes to the tree do not reach it),
 * through one temporary tensor disposed after `assign`, so no tensor is left behind.
 * @example
 * const next = applyStep(opt, g, state, p);
 * if (E.isRight(next)) assignTree(model.trainableWeights.map((w) => w.read() as tf.Variable), next.right[0]);
 */
export const assignTree = (variables: { readonly [name: string]: tf.Variable } | readonly tf.Variable[], tree: Tree): E.Either<OptimizerError, void> => {
  const entries = namedEntries(variables);
  if (E.isLeft(entries)) return entries;
  const planned: [tf.Variable, Leaf][] = [];
  for (const e of entries.right) {
    if (!(e.tensor instanceof tf.Variable)) return E.left(bad(e.name, "is not a tf.Variable"));
    const leaf = leafAt(tree, e.segments);
    if (leaf === undefined) return E.left(optimizerError("InvalidTree", `the tree has no float32 leaf for variable ${JSON.stringify(e.name)}`, { path: e.segments.join(".") }));
    if (!sameShape(leaf.shape, e.tensor.shape) || leaf.size !== e.tensor.size)
      return E.left(optimizerError("ShapeMismatch", `variable ${JSON.stringify(e.name)} has shape [${e.tensor.shape}], its leaf [${leaf.shape}]`, { path: e.segments.join(".") }));
    planned.push([e.tensor, leaf]);
  }
  for (const [variable, leaf] of planned) assignLeaf(variable, leaf);
  return E.right(undefined);
};

/**
 * variable ← leaf's values. With `owned` the leaf's storage is handed to TF.js as it is (the cpu backend keeps the
 * array: only for leaves nobody else writes, such as a step's new params); otherwise it is copied first.
 */
export const assignLeaf = (variable: tf.Variable, leaf: Leaf, owned = false): void => {
  const dense = denseValues(leaf) as Float32Array;
  const t = tf.tensor(owned ? dense : dense.slice(), variable.shape, "float32");
  variable.assign(t);
  t.dispose();
};
