/**
 * The plain-JavaScript reference of the WebAssembly LARS leaf kernel (src/kernels/lars-leaf.wat).
 * Every value is a float64 JS number; `Math.fround` (or a Float32Array store) rounds to float32 where the
 * arithmetic convention says a value is stored. No FMA: JS never fuses a multiply into an add.
 */

/** Hyper-parameters of one elementwise LARS pass over one leaf. */
export interface LarsLeafCoefficients {
  /** weight decay wd */
  readonly weightDecay: number;
  /** momentum m */
  readonly momentum: number;
  /** c = 1 − dampening */
  readonly bufferScale: number;
  /** trust ratio γ of this leaf */
  readonly trustRatio: number;
  /** learning rate lr */
  readonly learningRate: number;
  /** true on the first step: the new buffer is d itself and `buffer` is not read */
  readonly first: boolean;
  readonly nesterov: boolean;
}

/**
 * The kernel's norm is the core's: Σ xᵢ² with four interleaved float64 accumulators, (s₀ + s₁) + (s₂ + s₃)
 * ({@link sumOfSquares}); the WASM `sumSquaresPair` is tested equal to it bit for bit.
 */
export { sumOfSquares as sumSquares4 } from "../core/norm.js";

/**
 * The elementwise LARS pass, written into `outParams` and `outBuffer` (arrays owned by the caller; the inputs are
 * only read, and the outputs may alias params/buffer for in-place use since index i is read before it is written).
 * For each i, f32(·) rounding to float32:
 *   d = wd = 0 ? g : f32(g + wd·p);
 *   m = 0: o = d (no buffer: `buffer` is not read, `outBuffer` not written);
 *   m ≠ 0: b = first ? d : f32(m·buf + c·d);  o = nesterov ? f32(d + m·b) : b;
 *   o = f32(γ·o);  o = f32((−lr)·o);  p' = f32(p + o).
 * A zero weight decay or momentum skips its stage, as larch's chain does (adding 0·p would turn a −0 into +0).
 */
export function larsLeafStepReference(
  params: Float32Array,
  grads: Float32Array,
  buffer: Float32Array | null,
  k: LarsLeafCoefficients,
  outParams: Float32Array,
  outBuffer: Float32Array,
): void {
  const fround = Math.fround;
  const { weightDecay: wd, momentum: m, bufferScale: c, trustRatio: gamma, nesterov } = k;
  const negLr = -k.learningRate;
  const useBuffer = !k.first; // when not first, `buffer` must be given
  const noDecay = wd === 0;
  const noMomentum = m === 0;
  for (let i = 0; i < params.length; i++) {
    const p = params[i]!;
    const d = noDecay ? grads[i]! : fround(grads[i]! + wd * p); // d = f32(g + wd·p)
    let o = d;
    if (!noMomentum) {
      const b = useBuffer ? fround(m * buffer![i]! + c * d) : d; // b = f32(m·buf + c·d)
      o = nesterov ? fround(d + m * b) : b; // o = f32(d + m·b) or b
      outBuffer[i] = b;
    }
    o = fround(gamma * o); // o = f32(γ·o)
    o = fround(negLr * o); // o = f32((−lr)·o)
    outParams[i] = p + o; // p' = f32(p + o), rounded by the store
  }
}
