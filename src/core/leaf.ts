/**
 * Leaves: the ndarrays at the tips of a tree, and the few facts about them that every transform needs.
 * @module
 */
import ndarray from "ndarray";
import { showValue } from "./errors.js";
import { refusedLeaf } from "./refusedLeaf.js";
import { madeDense, sharedShape, strideOf, viewMakerFor } from "./views.js";

export { LIFE, type LeafLife } from "./views.js";

/** Storage types larch computes in. A leaf keeps its dtype through every transform. */
export type Dtype = "float32" | "float64";

/** The flat storage of a leaf. */
export type FloatArray = Float32Array | Float64Array;

/** A tree leaf: an `ndarray` over float32 or float64 storage, any rank (0-d too), any strides. */
export type Leaf = ndarray.NdArray<Float32Array> | ndarray.NdArray<Float64Array>;

/*
 * The helpers below are typed for transformation authors, who pass them leaves and shapes larch made or checked.
 * A plain-JavaScript caller may pass anything: none of them throws, and what each gives for junk is said in its
 * comment (NaN for a number, an empty array, a refused leaf that every tree function then refuses with its reason).
 */

/** isView first: it runs no Proxy trap, where `instanceof` runs getPrototypeOf's. */
const isFloatArray = (x: unknown): x is FloatArray => ArrayBuffer.isView(x) && (x instanceof Float32Array || x instanceof Float64Array);

/**
 * The storage type of a leaf ("float64" for anything that is not a float32 leaf, junk included).
 * @example
 * dtypeOf(ndarray(new Float64Array(4), [2, 2])) === "float64"
 */
export const dtypeOf = (leaf: Leaf): Dtype => {
  try {
    return leaf.data instanceof Float32Array ? "float32" : "float64";
  } catch {
    return "float64"; // not a leaf: undefined, or a Proxy whose get trap throws
  }
};

/**
 * A new zero-filled flat array of a dtype ("float32", else float64) and size; empty when the size is not a whole
 * number ≥ 0 or the engine cannot allocate that much.
 * @example
 * const data = allocate(dtypeOf(leaf), sizeOf(leaf.shape)); // zeros in the leaf's storage type
 */
export const allocate = (dtype: Dtype, size: number): FloatArray => {
  const float32 = dtype === "float32";
  if (!(Number.isSafeInteger(size) && size >= 0)) return float32 ? new Float32Array(0) : new Float64Array(0);
  try {
    return float32 ? new Float32Array(size) : new Float64Array(size);
  } catch {
    return float32 ? new Float32Array(0) : new Float64Array(0); // RangeError: more than the engine can allocate
  }
};

/**
 * Number of values of a shape: the product of its extents, n = ∏ₖ dₖ (1 for a 0-d shape; NaN for anything but an
 * array of whole numbers ≥ 0).
 * @example
 * sizeOf([3, 4]) === 12; sizeOf([]) === 1
 */
export const sizeOf = (shape: readonly number[]): number => {
  try {
    if (!Array.isArray(shape)) return NaN;
    let n = 1;
    for (let k = 0; k < shape.length; k++) {
      const d = shape[k];
      if (!(typeof d === "number" && d >= 0)) return NaN; // a hole, a string, a Symbol, a BigInt, a negative extent
      n *= d;
    }
    return Number.isSafeInteger(n) ? n : NaN;
  } catch {
    return NaN; // a revoked Proxy
  }
};

/**
 * A contiguous row-major leaf over `data` (which it takes, not copies). The view, its shape and its strides are
 * frozen: only the values in its storage could still be written, and larch never writes a leaf it has returned.
 * The shape of a leaf larch made is shared, with its strides, by the new leaf: a step makes its new leaves
 * without freezing or allocating anything but the views and their life records. The views are ndarray's (its prototype, its fields), built
 * without `ndarray()`, which finds the dtype by name at six times the cost of the construction (test/core/leaf.test.ts
 * holds the two equal). Data that is not a Float32Array or Float64Array, or a shape that is not an array of whole
 * numbers ≥ 0, gives a refused leaf, which every tree function refuses (an InvalidTree Left saying why).
 * @example
 * const weight = leafOf(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
 */
export const leafOf = (data: FloatArray, shape: readonly number[]): Leaf => {
  try {
    if (!isFloatArray(data)) return refusedLeaf(`leafOf: its data is ${showValue(data)}, not a Float32Array or Float64Array`);
    if (!Array.isArray(shape)) return refusedLeaf(`leafOf: its shape is ${showValue(shape)}, not an array of whole numbers >= 0`);
    if (shape.length === 0) return Object.freeze(ndarray(data, []) as Leaf);
    let own: readonly number[] = shape;
    let stride = strideOf(shape);
    if (stride === undefined) {
      // a shape larch did not make: check it, then copy and freeze it with its strides
      if (Number.isNaN(sizeOf(shape)) || shape.some((d) => !Number.isSafeInteger(d)))
        return refusedLeaf(`leafOf: its shape is ${showValue(shape)}, not an array of whole numbers >= 0`);
      own = sharedShape(shape);
      stride = strideOf(own)!;
    }
    const View = viewMakerFor(data, own.length);
    return Object.freeze(new View(data, own, stride, false));
  } catch (e) {
    return refusedLeaf(`leafOf: its arguments cannot be read: reading them threw ${showValue(e)}`); // a Proxy's traps
  }
};

/**
 * True when the leaf's values lie in row-major order from its offset, so its data can be read flat:
 * strideₖ = ∏_{j>k} dⱼ for every axis k with dₖ > 1 (false for anything that is not a leaf).
 * @example
 * isRowMajor(weight) === true; isRowMajor(weight.transpose(1, 0)) === false
 */
export const isRowMajor = (leaf: Leaf): boolean => {
  try {
    return rowMajor(leaf);
  } catch {
    return false; // not a leaf
  }
};

const rowMajor = (leaf: Leaf): boolean => {
  const { shape, stride } = leaf;
  let expected = 1;
  for (let k = shape.length - 1; k >= 0; k--) {
    const extent = shape[k]!;
    if (extent > 1 && stride[k] !== expected) return false;
    expected *= extent;
  }
  return true;
};

/**
 * The leaf's values as one flat row-major array: a view of its storage when it is already row-major
 * (no copy), otherwise a gathered copy. Callers must treat the result as read-only. For anything that is not a
 * leaf, an empty array.
 * @example
 * denseValues(weight.transpose(1, 0)) // Float32Array [1, 4, 2, 5, 3, 6], gathered
 */
export const denseValues = (leaf: Leaf): FloatArray => {
  try {
    const values = dense(leaf);
    if (isFloatArray(values)) return values;
  } catch {
    // not a leaf: a record without storage, a Proxy whose traps throw
  }
  return new Float64Array(0);
};

const dense = (leaf: Leaf): FloatArray => {
  // a view larch made over the whole of its storage, and a vector over the whole of its storage: that storage (as
  // below, without sizeOf's and rowMajor's loops, nor reading the elements of a frozen shape)
  const made = madeDense(leaf);
  if (made !== undefined) return made;
  const vector = leaf.shape;
  if (vector.length === 1 && leaf.offset === 0 && leaf.data.length === vector[0] && (vector[0] <= 1 || leaf.stride[0] === 1)) return leaf.data;
  const size = sizeOf(leaf.shape);
  if (rowMajor(leaf))
    return leaf.offset === 0 && leaf.data.length === size ? leaf.data : leaf.data.subarray(leaf.offset, leaf.offset + size);
  const out = allocate(dtypeOf(leaf), size);
  const { shape, stride, data } = leaf;
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let at = leaf.offset;
  for (let i = 0; i < size; i++) {
    out[i] = data[at]!;
    // odometer: advance the last axis, carrying into earlier ones
    for (let k = rank - 1; k >= 0; k--) {
      at += stride[k]!;
      if (++index[k]! < shape[k]!) break;
      at -= stride[k]! * shape[k]!;
      index[k] = 0;
    }
  }
  return out;
};

/**
 * A fresh contiguous copy of a leaf (same dtype and shape); for anything that is not a leaf, a refused leaf (see
 * {@link leafOf}).
 * @example
 * const snapshot = copyLeaf(weight); // later writes to weight.data leave it unchanged
 */
export const copyLeaf = (leaf: Leaf): Leaf => {
  try {
    const values = dense(leaf);
    const data = allocate(dtypeOf(leaf), values.length);
    if (data.length !== sizeOf(leaf.shape)) return refusedLeaf(`copyLeaf: ${showValue(leaf)} is not a leaf`);
    data.set(values);
    return leafOf(data, leaf.shape);
  } catch (e) {
    return refusedLeaf(`copyLeaf: ${showValue(leaf)} is not a leaf (reading it threw ${showValue(e)})`);
  }
};
