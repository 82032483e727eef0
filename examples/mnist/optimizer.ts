/**
 * The MNIST example's optimizer: LARS with weight decay on the kernels; on the biases (selected by name through
 * `labelByPath`) neither weight decay nor a trust ratio, plain SGD with momentum; both following one learning-rate
 * schedule: a linear warm-up from 0, then a polynomial decay to 0.
 * @module
 */
import { type GradientTransformation, type Schedule, labelByPath, lars, linearWarmup, partition, polynomialDecay, sgd } from "larch";

/** The schedule's and LARS's hyper-parameters. */
export interface LarsConfig {
  /** Peak learning rate α, reached at the end of the warm-up. */
  readonly lr: number;
  /** Warm-up steps W: αₜ rises linearly from 0 to α over t = 0 … W. */
  readonly warmupSteps: number;
  /** Power of the decay after the warm-up. */
  readonly power: number;
  readonly momentum: number;
  /** λ, on the kernels only. */
  readonly weightDecay: number;
}

/**
 * Linear warm-up, then polynomial decay over the remaining T − W steps:
 *
 *   αₜ = α · t / W                              for t < W
 *   αₜ = α · (1 − (t − W) / (T − W))^power      for W ≤ t ≤ T
 */
export const warmupThenDecay = (o: { readonly lr: number; readonly warmupSteps: number; readonly power: number }, totalSteps: number): Schedule =>
  linearWarmup(
    { steps: o.warmupSteps, start: 0 },
    polynomialDecay({ init: o.lr, power: o.power, totalSteps: Math.max(1, totalSteps - o.warmupSteps) }),
  );

/**
 * True for a bias leaf, by the last segment of its path: TF.js names a dense layer's variables `name/kernel` and
 * `name/bias` (`/` nests, so the path is `name.bias`), with a `_1`, `_2`, … suffix for a second model of the same
 * layer names in one process.
 */
export const isBias = (path: string): boolean => /(^|\.)bias(_\d+)?$/.test(path);

/** Routes each leaf to `decay` or `noDecay` by {@link isBias}: weight decay on the kernels, never on the biases. */
export const decayUnlessBias = (decay: GradientTransformation<any>, noDecay: GradientTransformation<any>): GradientTransformation<unknown> =>
  partition({ decay, noDecay }, (params) => labelByPath(params, (path) => (isBias(path) ? "noDecay" : "decay"))) as GradientTransformation<unknown>;

/**
 * The example's optimizer, {@link decayUnlessBias}: `lars` with weight decay on the kernels, and `sgd` with the same
 * momentum and no weight decay on the biases, both on the schedule {@link warmupThenDecay}. The biases are kept out
 * of LARS's trust ratio as well as out of weight decay (You et al.'s practice; optax's `trust_ratio_mask`): they start
 * at 0, and γ = ‖p‖ / ‖g‖ would keep them there (seen in this example's recording: γ ≈ 0.005, ‖u‖ ≈ 1e-5).
 */
export const larsOptimizer = (config: LarsConfig, totalSteps: number): { optimizer: GradientTransformation<unknown>; schedule: Schedule } => {
  const schedule = warmupThenDecay(config, totalSteps);
  const common = { lr: schedule, momentum: config.momentum };
  return {
    optimizer: decayUnlessBias(lars({ ...common, weightDecay: config.weightDecay }), sgd(common)),
    schedule,
  };
};
