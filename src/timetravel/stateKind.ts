/**
 * The kind of a node of a state, for comparing two states node by node.
 * @module
 */
import type { Leaf } from "../core/leaf.js";
import { isPlainRecord, looksLikeNdarray, type State } from "./stateValue.js";

/** A state node classified, with its children or leaf where it has them. */
export type StateNode =
  | { readonly kind: "number"; readonly value: number }
  | { readonly kind: "string"; readonly value: string }
  | { readonly kind: "boolean"; readonly value: boolean }
  | { readonly kind: "null" }
  | { readonly kind: "leaf"; readonly leaf: Leaf }
  | { readonly kind: "array"; readonly items: readonly State[] }
  | { readonly kind: "record"; readonly record: { readonly [key: string]: State } }
  | { readonly kind: "other"; readonly value: unknown };

/** What a state node is: a scalar of some type, a leaf, an array, a record, or something else. */
export const classify = (v: unknown): StateNode => {
  if (v === null) return { kind: "null" };
  if (typeof v === "number") return { kind: "number", value: v };
  if (typeof v === "string") return { kind: "string", value: v };
  if (typeof v === "boolean") return { kind: "boolean", value: v };
  if (Array.isArray(v)) return { kind: "array", items: v as readonly State[] };
  if (looksLikeNdarray(v)) return { kind: "leaf", leaf: v as unknown as Leaf };
  if (isPlainRecord(v)) return { kind: "record", record: v as { readonly [key: string]: State } };
  return { kind: "other", value: v };
};
