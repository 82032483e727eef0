/**
 * The failures of the checkpoint codec. The shape is that of the core `OptimizerError` (kind, message,
 * optional leaf path), restricted to the kinds the codec produces, so a `CodecError` can be used wherever
 * an `OptimizerError` is expected.
 * @module
 */

/** What went wrong, as a tag a program can switch on. */
export type CodecErrorKind =
  | "DecodeError" // bytes that are not a valid, intact larch state checkpoint
  | "InvalidTree" // a value that is not a State (a function, a cycle, an int32 ndarray, ...)
  | "StructureMismatch" // two states whose keys, lengths, kinds or nesting differ
  | "ShapeMismatch" // leaves at the same path with different shapes
  | "DtypeMismatch"; // leaves at the same path with different storage types

/** A codec failure: its kind, a message a user can act on, and the state path when it concerns one. */
export interface CodecError {
  readonly kind: CodecErrorKind;
  readonly message: string;
  /** State path such as `[1].trace.fc.weight`, when the failure concerns one place in the state. */
  readonly path?: string;
}

/** Builds a frozen {@link CodecError}; `path` is kept only when given. */
export const codecError = (kind: CodecErrorKind, message: string, path?: string): CodecError =>
  Object.freeze({ kind, message, ...(path !== undefined ? { path } : {}) });

/** Shows a state path in a message; the root has the empty path. */
export const showPath = (path: string): string => (path === "" ? "<root>" : path);
