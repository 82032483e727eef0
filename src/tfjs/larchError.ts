/**
 * TF.js's convention for a failed step is an exception: a larch Left, thrown as an Error that still carries it.
 * @module
 */
import type { OptimizerError, OptimizerErrorKind } from "../core/errors.js";

/**
 * The Error `larchOptimizer` throws for a Left: its message is the Left's, and `kind`, `path` (the leaf path, as
 * larch names it: `dense_Dense1.kernel`), `step` and the Left itself (`error`) are fields, so a caller can tell a NaN
 * gradient (`NonFinite`) from a state that does not fit (`StateMismatch`) without parsing text.
 * @example
 * try { await model.fit(xs, ys) } catch (e) { if (e instanceof LarchError && e.kind === "NonFinite") console.log(e.path) }
 */
export class LarchError extends Error {
  readonly kind: OptimizerErrorKind;
  readonly path: string | undefined;
  readonly step: number | undefined;
  readonly error: OptimizerError;
  constructor(error: OptimizerError) {
    super(`larch: ${error.message}`);
    this.name = "LarchError";
    this.kind = error.kind;
    this.path = error.path;
    this.step = error.step;
    this.error = error;
  }
}
