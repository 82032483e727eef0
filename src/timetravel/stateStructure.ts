/**
 * The non-tensor part of a state as JSON: the "structure" a checkpoint stores in its header.
 *
 * A node is
 * - a finite number other than -0, a string, a boolean or null: itself (JSON prints the shortest decimal
 *   that reads back as exactly the same double, so every finite double round-trips bit for bit);
 * - `{"number": "-0" | "NaN" | "Infinity" | "-Infinity"}`: the numbers JSON cannot spell;
 * - a JSON array: a state array, element by element;
 * - `{"record": {key: node, ...}}`: a state record, keys sorted;
 * - `{"leaf": "<path>"}`: an ndarray leaf, stored as the tensor named by its path.
 * @module
 */

/** Numbers that JSON cannot write, by their spelling in a structure. */
export type SpecialNumber = "-0" | "NaN" | "Infinity" | "-Infinity";

/** One node of a state's structure (see the module doc). */
export type StructureNode =
  | number
  | string
  | boolean
  | null
  | readonly StructureNode[]
  | { readonly number: SpecialNumber }
  | { readonly record: { readonly [key: string]: StructureNode } }
  | { readonly leaf: string };

/** The spelling of a number that JSON cannot write, or undefined for one it writes exactly. */
export const specialSpelling = (x: number): SpecialNumber | undefined =>
  Number.isNaN(x) ? "NaN" : x === Infinity ? "Infinity" : x === -Infinity ? "-Infinity" : Object.is(x, -0) ? "-0" : undefined;

/** The number a special spelling stands for, or undefined for an unknown spelling. */
export const specialValue = (spelling: unknown): number | undefined =>
  spelling === "NaN" ? NaN : spelling === "Infinity" ? Infinity : spelling === "-Infinity" ? -Infinity : spelling === "-0" ? -0 : undefined;
