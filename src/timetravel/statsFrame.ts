/**
 * The body of a stats frame: the numbers a recording keeps for every step, as little-endian float64:
 *
 * ```
 * lr, loss, accuracy, then for each leaf in the header's order: ‖p‖, ‖g‖, γ, ‖u‖, ‖b‖
 * ```
 *
 * 8·(3 + 5L) bytes for L leaves. A number that is absent (no loss given, no trust ratio or momentum for the
 * leaf) is written as one particular NaN bit pattern, {@link ABSENT_HIGH}:{@link ABSENT_LOW}, so that a real NaN
 * (a diverged run) stays a NaN.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { LeafStats, StepStats } from "./stepStats.js";

/** High and low 32-bit words of the NaN that stands for "absent". */
export const ABSENT_HIGH = 0x7ff4a55e;
export const ABSENT_LOW = 0x0a55e0ff;

/** Numbers per leaf and per step in a stats body. */
export const NUMBERS_PER_LEAF = 5;
export const NUMBERS_PER_STEP = 3;

/** Bytes of a stats body for `leafCount` leaves: 8·(3 + 5L). */
export const statsBodyBytes = (leafCount: number): number => 8 * (NUMBERS_PER_STEP + NUMBERS_PER_LEAF * leafCount);

/** One recorded step: the optimizer's numbers and the caller's loss and accuracy (null when not given). */
export interface RecordedStep {
  readonly step: number;
  readonly lr: number | null;
  readonly loss: number | null;
  readonly accuracy: number | null;
  /** One entry per leaf, in the header's leaf order. */
  readonly leaves: readonly LeafStats[];
}

const put = (view: DataView, at: number, x: number | null): void => {
  if (x === null) {
    view.setUint32(at, ABSENT_LOW, true);
    view.setUint32(at + 4, ABSENT_HIGH, true);
  } else view.setFloat64(at, x, true);
};

const get = (view: DataView, at: number): number | null =>
  view.getUint32(at + 4, true) === ABSENT_HIGH && view.getUint32(at, true) === ABSENT_LOW ? null : view.getFloat64(at, true);

/** The stats body of a step, leaves in `paths` order; a path the stats lack is a Left. */
export const encodeStats = (
  paths: readonly string[],
  stats: StepStats,
  extras: { readonly loss?: number; readonly accuracy?: number },
): E.Either<OptimizerError, Uint8Array> => {
  const out = new Uint8Array(statsBodyBytes(paths.length));
  const view = new DataView(out.buffer);
  put(view, 0, stats.lr);
  put(view, 8, extras.loss ?? null);
  put(view, 16, extras.accuracy ?? null);
  for (let i = 0; i < paths.length; i++) {
    const leaf = stats.leaves[paths[i]!];
    if (leaf === undefined)
      return E.left(optimizerError("StructureMismatch", `the step's params have no leaf ${paths[i]} that the recording's header lists`, { path: paths[i]! }));
    const at = 8 * (NUMBERS_PER_STEP + NUMBERS_PER_LEAF * i);
    put(view, at, leaf.paramNorm);
    put(view, at + 8, leaf.gradNorm);
    put(view, at + 16, leaf.trustRatio);
    put(view, at + 24, leaf.updateNorm);
    put(view, at + 32, leaf.momentumNorm);
  }
  return E.right(out);
};

/** The step recorded in a stats body for `leafCount` leaves, or a Left when its length is wrong. */
export const decodeStats = (step: number, body: Uint8Array, leafCount: number): E.Either<OptimizerError, RecordedStep> => {
  if (body.length !== statsBodyBytes(leafCount))
    return E.left(
      optimizerError("DecodeError", `the stats frame of step ${step} has ${body.length} bytes; ${leafCount} leaves need ${statsBodyBytes(leafCount)}`, { step }),
    );
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const leaves: LeafStats[] = [];
  for (let i = 0; i < leafCount; i++) {
    const at = 8 * (NUMBERS_PER_STEP + NUMBERS_PER_LEAF * i);
    leaves.push(
      Object.freeze({
        paramNorm: get(view, at) ?? NaN,
        gradNorm: get(view, at + 8) ?? NaN,
        trustRatio: get(view, at + 16),
        updateNorm: get(view, at + 24) ?? NaN,
        momentumNorm: get(view, at + 32),
      }),
    );
  }
  return E.right(
    Object.freeze({ step, lr: get(view, 0), loss: get(view, 8), accuracy: get(view, 16), leaves: Object.freeze(leaves) }),
  );
};
