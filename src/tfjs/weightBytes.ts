/**
 * Bytes as a TF.js weight: TF.js saves int32 tensors exactly, so a checkpoint travels through `model.save` packed
 * four bytes to a value, after one value holding the byte length.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";

/**
 * An int32 tensor [n, w₀, w₁, …]: n the byte length, wₖ the bytes 4k…4k+3 as the
 * platform lays out an int32 (little-endian wherever TF.js runs; the last word zero-padded).
 * @example
 * const t = weightFromBytes(Uint8Array.of(1, 2, 3, 4, 5)); // int32 [5, 0x04030201, 5]
 */
export const weightFromBytes = (bytes: Uint8Array): tf.Tensor => {
  const words = new Int32Array(1 + Math.ceil(bytes.length / 4));
  words[0] = bytes.length;
  const view = new DataView(words.buffer);
  for (let i = 0; i < bytes.length; i++) view.setUint8(4 + i, bytes[i]!);
  return tf.tensor1d(words, "int32");
};

/**
 * The bytes {@link weightFromBytes} packed, or a Left when the tensor is not such a packing.
 * @example
 * bytesFromWeight(weightFromBytes(bytes)) // Right(a copy of bytes)
 */
export const bytesFromWeight = (t: unknown): E.Either<OptimizerError, Uint8Array> => {
  const bad = (why: string) => E.left(optimizerError("DecodeError", `the larch/checkpoint weight ${why}`));
  if (!(t instanceof tf.Tensor) || t.isDisposed) return bad("is not a live tensor");
  if (t.dtype !== "int32" || t.rank !== 1) return bad(`must be a 1-d int32 tensor, got ${t.dtype} of rank ${t.rank}`);
  const words = Int32Array.from(t.dataSync() as Int32Array);
  const n = words[0] ?? -1;
  if (n < 0 || Math.ceil(n / 4) !== words.length - 1) return bad(`holds ${words.length} values, which cannot pack ${n} bytes`);
  const view = new DataView(words.buffer);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = view.getUint8(4 + i);
  return E.right(out);
};
