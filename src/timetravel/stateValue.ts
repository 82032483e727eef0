/**
 * The values the codec works on: optimizer states as plain data with the core's ndarray leaves, and the
 * few facts about them the codec needs beyond the core's (leaf.ts): checks of unvalidated input and paths.
 * @module
 */
import type { Dtype, Leaf } from "../core/leaf.js";
import { sizeOf } from "../core/leaf.js";

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

/** Bytes per value of a dtype. */
export const bytesPerValue = (dtype: Dtype): number => (dtype === "float32" ? 4 : 8);

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

export { arrayPath, recordPath } from "../core/paths.js";
