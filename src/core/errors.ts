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
): OptimizerError => {
  let path: unknown;
  let step: unknown;
  try {
    ({ path, step } = where ?? {});
  } catch {
    // a Proxy whose traps throw: the error is kept without a place
  }
  return Object.freeze({
    kind,
    message,
    ...(path !== undefined ? { path: path as string } : {}),
    ...(step !== undefined ? { step: step as number } : {}),
  });
};

/**
 * Shows a leaf path in a message; the root leaf has the empty path.
 * @example
 * showPath("") === "<root>"; showPath("fc.weight") === "fc.weight"
 */
export const showPath = (path: string): string => (path === "" ? "<root>" : typeof path === "string" ? path : showValue(path));

/** Longest text of a value that {@link showValue} puts in a message. */
const SHOWN = 80;

const clip = (text: string): string => (text.length > SHOWN ? `${text.slice(0, SHOWN)}…` : text);

/**
 * A short description of any value for a message, that never throws: a caller may hand larch (or a schedule may
 * throw) a Symbol, a null-prototype object, a Proxy or an object whose `toString` throws, and a message built with
 * `${value}` would then throw in its turn. Numbers and booleans are shown as they are, strings quoted, an Error by
 * its message, any other object by its kind.
 * @example
 * showValue(0.5) === "0.5"; showValue("0.5") === '"0.5"'; showValue(Symbol("s")) === "Symbol(s)"; showValue(Object.create(null)) === "an object"
 */
export const showValue = (value: unknown): string => {
  try {
    switch (typeof value) {
      case "number":
        return Object.is(value, -0) ? "-0" : String(value);
      case "string":
        return clip(JSON.stringify(value));
      case "bigint":
        return `${String(value)}n`;
      case "symbol":
        return clip(String(value));
      case "undefined":
      case "boolean":
        return String(value);
      case "function":
        return "a function";
      default:
        if (value === null) return "null";
        if (value instanceof Error) return clip(`${value.name}: ${String(value.message)}`);
        if (Array.isArray(value)) return `an array of ${value.length}`;
        return "an object";
    }
  } catch {
    return "a value that cannot be shown"; // a Proxy whose traps throw, a revoked Proxy, a throwing getter
  }
};
