/**
 * The values the codec works on: optimizer states as plain data with ndarray leaves (the core convention),
 * and the few facts about leaves the codec needs. Kept local so the codec depends on nothing but the
 * convention; the same types live in the core.
 * @module
 */
import type ndarray from "ndarray";

/** Storage types of a leaf. */
export type Dtype = "float32" | "float64";

/** The flat storage of a leaf. */
export type FloatArray = Float32Array | Float64Array;

/** A leaf: an `ndarray` over float32 or float64 storage, any rank (0-d too), any strides. */
export type Leaf = ndarray.NdArray<Float32Array> | ndarray.NdArray<Float64Array>;

/** Plain data a state is made of: scalars, leaves, and arrays and records of states. */
export type State =
  | number
  | string
  | boolean
  | null
  | Leaf
  | readonly State[]
  | { readonly [key: string]: State };

/** A JSON value (no -0, NaN or ±Inf): what a checkpoint's caller-supplied `meta` may be. */
export type Json = number | string | boolean | null | readonly Json[] | { readonly [key: string]: Json };

/** The storage type of a leaf. */
export const dtypeOf = (leaf: Leaf): Dtype => (leaf.data instanceof Float32Array ? "float32" : "float64");

/** Bytes per value of a dtype. */
export const bytesPerValue = (dtype: Dtype): number => (dtype === "float32" ? 4 : 8);

/** Number of values of a shape: the product of its extents (1 for a 0-d shape). */
export const sizeOf = (shape: readonly number[]): number => shape.reduce((n, d) => n * d, 1);

/** A zero-filled flat array of a dtype. */
export const allocate = (dtype: Dtype, size: number): FloatArray =>
  dtype === "float32" ? new Float32Array(size) : new Float64Array(size);

/** True for an object made by `{...}` or `Object.create(null)` (not an array, class instance, Map, Date, ...). */
export const isPlainRecord = (value: unknown): value is Record<string, unknown> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * True for a value that looks like an ndarray (data, shape, stride, offset), whatever its storage;
 * {@link leafProblem} then says whether it is a valid leaf.
 */
export const looksLikeNdarray = (value: unknown): value is { data: unknown; shape: unknown; stride: unknown; offset: unknown } =>
  typeof value === "object" &&
  value !== null &&
  "data" in value &&
  "shape" in value &&
  "stride" in value &&
  "offset" in value;

const isNonNegativeInteger = (n: unknown): n is number => typeof n === "number" && Number.isSafeInteger(n) && n >= 0;

/**
 * Why an ndarray-like value is not a usable leaf (undefined when it is one): the storage must be a
 * Float32Array or Float64Array, extents non-negative integers, and every index
 * offset + Σ_k stride_k·i_k (0 ≤ i_k < shape_k) must fall inside the storage.
 */
export const leafProblem = (value: { data: unknown; shape: unknown; stride: unknown; offset: unknown }): string | undefined => {
  const { data, shape, stride, offset } = value;
  if (!(data instanceof Float32Array || data instanceof Float64Array))
    return "a leaf's storage must be a Float32Array or Float64Array";
  if (!Array.isArray(shape) || !Array.isArray(stride) || shape.length !== stride.length)
    return "a leaf needs shape and stride arrays of the same length";
  if (!shape.every(isNonNegativeInteger)) return "a leaf's extents must be non-negative integers";
  if (!stride.every((s) => typeof s === "number" && Number.isSafeInteger(s))) return "a leaf's strides must be integers";
  if (typeof offset !== "number" || !Number.isSafeInteger(offset)) return "a leaf's offset must be an integer";
  if (sizeOf(shape) === 0) return undefined;
  // the extreme indices: offset plus the negative (lowest) or positive (highest) stride contributions
  let lowest = offset;
  let highest = offset;
  for (let k = 0; k < shape.length; k++) {
    const reach = (stride[k] as number) * ((shape[k] as number) - 1);
    if (reach < 0) lowest += reach;
    else highest += reach;
  }
  if (lowest < 0 || highest >= data.length) return "a leaf's view reaches outside its storage";
  return undefined;
};

/** True when the leaf's values lie in row-major order from its offset, so its storage can be read flat. */
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
 * Element i of the result is data[offset + Σ_k stride_k·i_k] where (i_0, …, i_{r−1}) is i in row-major digits.
 */
export const rowMajorValues = (leaf: Leaf): FloatArray => {
  const size = sizeOf(leaf.shape);
  if (isRowMajor(leaf)) return leaf.data.subarray(leaf.offset, leaf.offset + size);
  const out = allocate(dtypeOf(leaf), size);
  const { shape, stride, data } = leaf;
  const rank = shape.length;
  const last = rank - 1;
  const innerExtent = shape[last]!;
  const innerStride = stride[last]!;
  const index = new Array<number>(rank).fill(0);
  let base = leaf.offset; // storage index of the current row's first value
  for (let row = 0; row < size; row += innerExtent) {
    for (let j = 0, at = base; j < innerExtent; j++, at += innerStride) out[row + j] = data[at]!;
    // odometer over the outer axes: advance axis last−1, carrying into earlier ones
    for (let k = last - 1; k >= 0; k--) {
      base += stride[k]!;
      if (++index[k]! < shape[k]!) break;
      base -= stride[k]! * shape[k]!;
      index[k] = 0;
    }
  }
  return out;
};

/** The path of a record entry: `key` at the root, `parent.key` below it. */
export const recordPath = (parent: string, key: string): string => (parent === "" ? key : `${parent}.${key}`);

/** The path of an array element: `[i]` at the root, `parent[i]` below it. */
export const arrayPath = (parent: string, index: number): string => `${parent}[${index}]`;
