/**
 * JSON text without recursion: V8's `JSON.stringify` recurses and overflows the stack a few thousand levels
 * down, while a state (and so its structure) may nest as deep as the params tree it mirrors.
 * @module
 */
import type { Json } from "./stateValue.js";

/** An array or record being written: its keys (null for an array), the next child to write, how many. */
interface Open {
  readonly node: { readonly [key: string]: Json };
  readonly keys: readonly string[] | null;
  next: number;
  readonly length: number;
}

/**
 * The text `JSON.stringify(value)` gives, byte for byte, for a JSON value (finite numbers, strings, booleans,
 * null, dense arrays and plain records of them, no cycle; records written in `Object.keys` order), written
 * depth first with its own stack, so that any depth is written.
 * @example
 * jsonText({ record: { a: [1, "x", null] } }) === '{"record":{"a":[1,"x",null]}}'
 */
export const jsonText = (value: Json): string => {
  let out = "";
  const stack: Open[] = [];
  /** Writes a scalar, or opens an array or record (its frame pushed). */
  const enter = (node: Json): void => {
    if (typeof node === "string") out += quoted(node);
    else if (typeof node === "number") out += String(node); // what JSON writes for a finite number (-0 as 0)
    else if (typeof node !== "object" || node === null) out += node === null ? "null" : String(node);
    else if (Array.isArray(node)) {
      out += "[";
      stack.push({ node: node as unknown as { readonly [key: string]: Json }, keys: null, next: 0, length: node.length });
    } else {
      const keys = Object.keys(node);
      out += "{";
      stack.push({ node: node as { readonly [key: string]: Json }, keys, next: 0, length: keys.length });
    }
  };
  enter(value);
  while (stack.length > 0) {
    const top = stack[stack.length - 1]!;
    if (top.next === top.length) {
      stack.pop();
      out += top.keys === null ? "]" : "}";
      continue;
    }
    const i = top.next++;
    if (i > 0) out += ",";
    if (top.keys === null) enter(top.node[i]!);
    else {
      const key = top.keys[i]!;
      out += quoted(key) + ":";
      enter(top.node[key]!);
    }
  }
  return out;
};

/** Characters JSON.stringify writes escaped: the quote, the backslash, controls, surrogates (lone ones are escaped). */
const ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A string as JSON writes it: most need no escape; JSON.stringify (no recursion for a string) writes the others. */
const quoted = (s: string): string => (ESCAPED.test(s) ? JSON.stringify(s) : `"${s}"`);
