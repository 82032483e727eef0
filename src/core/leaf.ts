/**
 * Leaves: the ndarrays at the tips of a tree, and the few facts about them that every transform needs.
 * @module
 */
import ndarray from "ndarray";
import { showValue } from "./errors.js";
import { refusedLeaf } from "./refusedLeaf.js";

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

/** The row-major strides of a shape: strideₖ = ∏_{j>k} dⱼ. */
const rowMajorStride = (shape: readonly number[]): number[] => {
  const stride = new Array<number>(shape.length);
  for (let k = shape.length - 1, s = 1; k >= 0; k--) {
    stride[k] = s;
    s *= shape[k]!;
  }
  return stride;
};

/**
 * A shape larch made carries its frozen row-major strides under this key (hidden, own), so that every leaf made
 * from it shares the two arrays (a WeakMap would cost an entry per new shape, and V8's young-generation collector
 * keeps a WeakMap's values alive).
 */
const STRIDE: unique symbol = Symbol("larch.stride");

/** A frozen copy of a shape, carrying its frozen strides. */
const frozenShape = (shape: readonly number[]): readonly number[] => {
  const copy = [...shape];
  Object.defineProperty(copy, STRIDE, { value: Object.freeze(rowMajorStride(copy)) });
  return Object.freeze(copy);
};

/**
 * The frozen rank-1 shapes [n] larch made, by n (at most {@link RANK1_KEPT} of them): a shape is immutable, so every
 * leaf of n values may share one (`leafOf(x, [n])` in a loop, a 1000-leaf tree's fresh gradients, froze a copy per
 * leaf and call).
 */
const rank1 = new Map<number, readonly number[]>();
const RANK1_KEPT = 4096;

/** The frozen shape for a checked shape: the shared one for rank 1, else a frozen copy. */
const sharedShape = (shape: readonly number[]): readonly number[] => {
  if (shape.length !== 1) return frozenShape(shape);
  const n = shape[0]!;
  const hit = rank1.get(n);
  if (hit !== undefined) return hit;
  const made = frozenShape(shape);
  if (rank1.size < RANK1_KEPT) rank1.set(n, made);
  return made;
};

/** The frozen strides a shape larch made carries, or undefined for any other array. */
const strideOf = (shape: readonly number[]): readonly number[] | undefined =>
  Object.prototype.hasOwnProperty.call(shape, STRIDE) ? (shape as { [STRIDE]?: readonly number[] })[STRIDE] : undefined;

/**
 * Whether a leaf larch made may still be used: set dead when it is handed over to a donating step
 * (core/donation.ts), which may then overwrite its storage. One small record per leaf, so that marking a leaf dead is
 * a store rather than an entry in a WeakSet (~0.7 µs in V8 when most entries die young).
 */
export interface LeafLife {
  dead: boolean;
}

/** The key of a leaf's {@link LeafLife} on the leaves larch makes: a symbol, so not among ndarray's own keys. */
export const LIFE: unique symbol = Symbol("larch.leafLife");

/** Makes a view with ndarray's own fields (data, shape, stride, offset, in that order) on ndarray's prototype, and its life. */
type ViewMaker = new (data: FloatArray, shape: readonly number[], stride: readonly number[]) => Leaf;

/**
 * A constructor of views sharing the prototype of ndarray's views of that dtype and rank (so they have ndarray's
 * methods, and `instanceof` holds), one per dtype and rank. ndarray's own constructor copies the shape and strides
 * into two new arrays, which a leaf that shares frozen ones would throw away.
 */
const viewMaker = (prototype: object): ViewMaker => {
  function LeafView(this: Record<string | symbol, unknown>, data: FloatArray, shape: readonly number[], stride: readonly number[]) {
    this.data = data;
    this.shape = shape;
    this.stride = stride;
    this.offset = 0;
    this[LIFE] = { dead: false } satisfies LeafLife;
  }
  LeafView.prototype = prototype;
  return LeafView as unknown as ViewMaker;
};

/** The view makers, at 2·rank for float32 and 2·rank + 1 for float64. */
const viewMakers: (ViewMaker | undefined)[] = [];
const viewMakerFor = (data: FloatArray, rank: number): ViewMaker => {
  const key = 2 * rank + (data instanceof Float32Array ? 0 : 1);
  return (viewMakers[key] ??= viewMaker(Object.getPrototypeOf(ndarray(data.subarray(0, 0), new Array<number>(rank).fill(0))) as object));
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
    return Object.freeze(new View(data, own, stride));
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
