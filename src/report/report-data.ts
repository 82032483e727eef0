/**
 * The data an HTML report shows: what a recording of a training run holds, reduced to a few numbers per step
 * and per leaf. Built by the CLI from a `*.larch` recording, or directly by a training loop.
 * @module
 */

/** A hyper-parameter value as shown in the report's header. */
export type HyperValue = number | string | boolean | null;

/** What was run. */
export interface ReportRun {
  /** A short title, e.g. `iris · MLP 4→16→3`. */
  readonly title: string;
  /** The optimizer's name, e.g. `lars` or `partition(lars, lars)`. */
  readonly optimizer: string;
  /** Flat hyper-parameters; nested transforms use dotted keys, e.g. `decay.weightDecay`. */
  readonly hyperparams: Readonly<Record<string, HyperValue>>;
}

/** One parameter leaf of the optimized tree. */
export interface ReportLeaf {
  /** Leaf path as the core names it (`fc1.weight`; the root leaf is `""`). */
  readonly path: string;
  readonly shape: readonly number[];
  readonly dtype: "float32" | "float64";
}

/**
 * The numbers recorded for one leaf at one step, all computed before the step's parameters are changed
 * except ‖update‖ and ‖momentum‖, which are the step's outputs. Any may be NaN or ±Infinity.
 */
export interface LeafStepStats {
  /** ‖p‖₂ of the parameter. */
  readonly paramNorm: number;
  /** ‖g‖₂ of the raw gradient. */
  readonly gradNorm: number;
  /** The trust ratio γ (LARS: ‖p‖ / (‖g‖ + wd·‖p‖), 1 when a norm is 0); null for optimizers without one. */
  readonly trustRatio: number | null;
  /** ‖u‖₂ of the update added to the parameter. */
  readonly updateNorm: number;
  /** ‖m‖₂ of the momentum buffer after the step; null without momentum. */
  readonly momentumNorm: number | null;
}

/** One optimizer step. */
export interface ReportStep {
  /** Step index, counted from 0; strictly increasing through {@link ReportData.steps} (gaps allowed). */
  readonly step: number;
  /** Training loss on the step's batch, null if not recorded. */
  readonly loss: number | null;
  /** Training accuracy on the step's batch in [0, 1], null if not recorded. */
  readonly accuracy: number | null;
  /** The learning rate the step used (the schedule's value). */
  readonly lr: number;
  /** One entry per leaf, in the order of {@link ReportData.leaves}. */
  readonly leaves: readonly LeafStepStats[];
}

/** Everything the report shows. `version` is 1. */
export interface ReportData {
  readonly version: 1;
  readonly run: ReportRun;
  readonly leaves: readonly ReportLeaf[];
  readonly steps: readonly ReportStep[];
}

/** Why a report could not be rendered. */
export interface ReportError {
  readonly kind: "InvalidReportData" | "MissingAsset";
  readonly message: string;
}
