/** The LARS hyper-parameters every benchmark row uses (issue 4): lr 0.1, momentum 0.9, weight decay 5e-4. */
export const LR = 0.1;
export const MOMENTUM = 0.9;
export const WEIGHT_DECAY = 5e-4;
export const DAMPENING = 0;

/**
 * The seed's trust ratio from the two norms: γ = 1 if ‖p‖ = 0 or ‖g‖ + wd·‖p‖ = 0, else ‖p‖ / (‖g‖ + wd·‖p‖).
 */
export function trustRatio(paramNorm: number, gradNorm: number, weightDecay: number): number {
  const denom = gradNorm + weightDecay * paramNorm;
  return paramNorm === 0 || denom === 0 ? 1 : paramNorm / denom;
}
