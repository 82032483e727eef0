/** The LARS hyper-parameters every benchmark row uses (issue 4): lr 0.1, momentum 0.9, weight decay 5e-4. */
export const LR = 0.1;
export const MOMENTUM = 0.9;
export const WEIGHT_DECAY = 5e-4;
export const DAMPENING = 0;

/**
 * The seed's trust ratio (holocron LARS), in float64:
 *   den = wd ≠ 0 ? ‖g‖ + wd·‖p‖ : ‖g‖;   γ = (‖p‖ = 0 or den = 0) ? 1 : ‖p‖ / den.
 */
export function trustRatio(paramNorm: number, gradNorm: number, weightDecay: number): number {
  const denom = weightDecay !== 0 ? gradNorm + weightDecay * paramNorm : gradNorm;
  return paramNorm === 0 || denom === 0 ? 1 : paramNorm / denom;
}
