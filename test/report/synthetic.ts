/** Synthetic, realistic-looking ReportData for the report's tests (a seeded fake training run). */
import { mulberry32 } from "../../examples/shared/prng.js";
import type { LeafStepStats, ReportData, ReportLeaf } from "../../src/report/report-data.js";

export interface SyntheticOptions {
  readonly seed?: number;
  readonly steps?: number;
  /** Record every `every`-th step only (gaps in the step numbers). */
  readonly every?: number;
  readonly title?: string;
  readonly leaves?: readonly ReportLeaf[];
}

export const DEFAULT_LEAVES: readonly ReportLeaf[] = [
  { path: "conv.weight", shape: [8, 3, 3, 3], dtype: "float32" },
  { path: "conv.bias", shape: [8], dtype: "float32" },
  { path: "head.weight", shape: [10, 8], dtype: "float32" },
  { path: "head.bias", shape: [10], dtype: "float64" },
];

/**
 * A run whose loss decays from ~2.3 with noise, accuracy rises toward ~0.95, lr follows (1 − t/T)², each leaf's
 * ‖p‖ grows slowly, ‖g‖ shrinks, γ = ‖p‖/‖g‖ (null on the last leaf, which also has no momentum), and
 * ‖update‖ = lr·γ·‖m‖.
 */
export const syntheticReport = (options: SyntheticOptions = {}): ReportData => {
  const random = mulberry32(options.seed ?? 1);
  const total = options.steps ?? 120;
  const every = options.every ?? 1;
  const leaves = options.leaves ?? DEFAULT_LEAVES;
  const steps = [];
  for (let t = 0; t < total; t += every) {
    const progress = t / total;
    const lr = 0.1 * (1 - progress) ** 2;
    const stats: LeafStepStats[] = leaves.map((_, j) => {
      const p = (1.5 + j) * (1 + 0.3 * progress) + 0.01 * random();
      const g = (0.4 / (j + 1)) * Math.exp(-2 * progress) * (0.7 + 0.6 * random());
      const m = g * (3 + random());
      const last = j === leaves.length - 1;
      const gamma = p / g;
      return {
        paramNorm: p,
        gradNorm: g,
        trustRatio: last ? null : gamma,
        updateNorm: lr * (last ? 1 : gamma) * m,
        momentumNorm: last ? null : m,
      };
    });
    steps.push({
      step: t,
      loss: 2.3 * Math.exp(-4 * progress) + 0.08 + 0.1 * random() * (1 - progress),
      accuracy: Math.min(1, 0.1 + 0.85 * (1 - Math.exp(-5 * progress)) + 0.05 * random()),
      lr,
      leaves: stats,
    });
  }
  return {
    version: 1,
    run: {
      title: options.title ?? "synthetic run",
      optimizer: "lars",
      hyperparams: { lr: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: false, schedule: "polynomial(2)" },
    },
    leaves,
    steps,
  };
};
