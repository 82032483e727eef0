/**
 * Leaves: the ndarrays at the tips of a tree, and the few facts about them that every transform needs.
 * @module
 */
import ndarray from "ndarray";

/** Storage types larch computes in. A leaf keeps its dtype through every transform. */
export type Dtype = "float32" | "float64";

/** The flat storage of a leaf. */
export type FloatArray = Float32Array | Float64Array;

/** A tree leaf: an `ndarray` over float32 or float64 storage, any rank (0-d too), any strides. */
export type Leaf = ndarray.NdArray<Float32Array> | ndarray.NdArray<Float64Array>;

/**
 * The storage type of a leaf.
 * @example
 * dtypeOf(ndarray(new Float64Array(4), [2, 2])) === "float64"
 */
export const dtypeOf = (leaf: Leaf): Dtype => (leaf.data instanceof Float32Array ? "float32" : "float64");

/**
 * A new zero-filled flat array of a dtype.
 * @example
 * const data = allocate(dtypeOf(leaf), sizeOf(leaf.shape)); // zeros in the leaf's storage type
 */
export const allocate = (dtype: Dtype, size: number): FloatArray =>
  dtype === "float32" ? new Float32Array(size) : new Float64Array(size);

/**
 * Number of values of a shape: the product of its extents, n = ∏ₖ dₖ (1 for a 0-d shape).
 * @example
 * sizeOf([3, 4]) === 12; sizeOf([]) === 1
 */
export const sizeOf = (shape: readonly number[]): number => {
  let n = 1;
  for (let k = 0; k < shape.length; k++) n *= shape[k]!;
  return n;
};

/**
 * A contiguous row-major leaf over `data` (which it takes, not copies). The view, its shape and its strides are
 * frozen: only the values in its storage could still be written, and larch never writes a leaf it has returned.
 * @example
 * const weight = leafOf(Float32Array.of(1, 2, 3, 4, 5, 6), [2, 3]);
 */
export const leafOf = (data: FloatArray, shape: readonly number[]): Leaf => {
  const leaf = ndarray(data, [...shape]) as Leaf;
  if (shape.length > 0) {
    Object.freeze(leaf.shape);
    Object.freeze(leaf.stride);
  }
  return Object.freeze(leaf);
};

/**
 * True when the leaf's values lie in row-major order from its offset, so its data can be read flat:
 * strideₖ = ∏_{j>k} dⱼ for every axis k with dₖ > 1.
 * @example
 * isRowMajor(weight) === true; isRowMajor(weight.transpose(1, 0)) === false
 */
export const isRowMajor = (leaf: Leaf): boolean => {
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
 * (no copy), otherwise a gathered copy. Callers must treat the result as read-only.
 * @example
 * denseValues(weight.transpose(1, 0)) // Float32Array [1, 4, 2, 5, 3, 6], gathered
 */
export const denseValues = (leaf: Leaf): FloatArray => {
  const size = sizeOf(leaf.shape);
  if (isRowMajor(leaf))
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
 * A fresh contiguous copy of a leaf (same dtype and shape).
 * @example
 * const snapshot = copyLeaf(weight); // later writes to weight.data leave it unchanged
 */
export const copyLeaf = (leaf: Leaf): Leaf => {
  const values = denseValues(leaf);
  const data = allocate(dtypeOf(leaf), values.length);
  data.set(values);
  return leafOf(data, leaf.shape);
};
