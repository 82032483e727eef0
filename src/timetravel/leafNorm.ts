/**
 * The Euclidean norm of flat values by the library's convention, so that every path computes the same bits.
 * @module
 */
import type { FloatArray } from "./stateValue.js";

/**
 * ‖x‖₂ = sqrt((s₀ + s₁) + (s₂ + s₃)) with s_j = Σ_{i ≡ j (mod 4)} x_i² summed in float64 in increasing i.
 */
export const norm2 = (x: FloatArray): number => {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  const n = x.length;
  const n4 = n - (n % 4);
  let i = 0;
  for (; i < n4; i += 4) {
    const a = x[i]!, b = x[i + 1]!, c = x[i + 2]!, d = x[i + 3]!;
    s0 += a * a; // s_j += x_i², i ≡ j (mod 4)
    s1 += b * b;
    s2 += c * c;
    s3 += d * d;
  }
  if (i < n) s0 += x[i]! * x[i]!;
  if (i + 1 < n) s1 += x[i + 1]! * x[i + 1]!;
  if (i + 2 < n) s2 += x[i + 2]! * x[i + 2]!;
  return Math.sqrt(s0 + s1 + (s2 + s3));
};
