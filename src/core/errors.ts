/**
 * Every failure of larch's public API is a value of this type inside an fp-ts `Left`; nothing is thrown.
 * @module
 */

/** What went wrong, as a tag a program can switch on. */
export type OptimizerErrorKind =
  | "InvalidOption" // a hyper-parameter out of its domain (negative lr, nesterov without momentum, ...)
  | "InvalidTree" // not a tree of float32/float64 ndarrays
  | "StructureMismatch" // two trees whose keys, lengths or nesting differ
  | "ShapeMismatch" // leaves at the same path with different shapes
  | "DtypeMismatch" // leaves at the same path with different storage types
  | "StateMismatch" // a state that was not made by this transformation for this tree
  | "MissingParams" // a transformation that needs the params was called without them
  | "NonFinite" // NaN or ±Inf in a gradient or a parameter
  | "StateReused" // a donated state or tree handed over a second time
  | "DecodeError"; // bytes that are not a valid encoding

/** A failure: its kind, a message a user can act on, and where it happened when that is known. */
export interface OptimizerError {
  readonly kind: OptimizerErrorKind;
  readonly message: string;
  /** Leaf path such as `fc.weight`, when the failure concerns one leaf. */
  readonly path?: string;
  /** The optimizer step (counted from 0) at which it happened, when known. */
  readonly step?: number;
}

/**
 * Builds a frozen {@link OptimizerError}; `path` and `step` are kept only when given.
 * @example
 * optimizerError("NonFinite", "gradient fc.weight contains NaN at step 3", { path: "fc.weight", step: 3 })
 */
export const optimizerError = (
  kind: OptimizerErrorKind,
  message: string,
  where: { readonly path?: string; readonly step?: number } = {},
): OptimizerError =>
  Object.freeze({
    kind,
    message,
    ...(where.path !== undefined ? { path: where.path } : {}),
    ...(where.step !== undefined ? { step: where.step } : {}),
  });

/**
 * Shows a leaf path in a message; the root leaf has the empty path.
 * @example
 * showPath("") === "<root>"; showPath("fc.weight") === "fc.weight"
 */
export const showPath = (path: string): string => (path === "" ? "<root>" : path);
