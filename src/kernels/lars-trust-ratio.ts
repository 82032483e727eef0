/**
 * The seed's trust ratio (holocron LARS), in float64:
 *   den = wd ≠ 0 ? ‖g‖ + wd·‖p‖ : ‖g‖;   γ = (‖p‖ = 0 or den = 0) ? 1 : ‖p‖ / den.
 * The WebAssembly kernel's `larsLeaves` computes the same with the same operations (bit-identical).
 */
export function larsTrustRatio(paramNorm: number, gradNorm: number, weightDecay: number): number {
  const denom = weightDecay !== 0 ? gradNorm + weightDecay * paramNorm : gradNorm;
  return paramNorm === 0 || denom === 0 ? 1 : paramNorm / denom;
}
