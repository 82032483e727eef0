/** The LARS hyper-parameters every benchmark row uses (issue 4): lr 0.1, momentum 0.9, weight decay 5e-4. */
export const LR = 0.1;
export const MOMENTUM = 0.9;
export const WEIGHT_DECAY = 5e-4;
export const DAMPENING = 0;

export { larsTrustRatio as trustRatio } from "../../src/kernels/lars-trust-ratio.js";
