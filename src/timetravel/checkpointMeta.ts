/**
 * The caller's `meta` of a checkpoint (optimizer name, hyper-parameters, step, ...): plain JSON, kept in
 * the header as written so that other tools can read it. Only values JSON writes exactly are accepted.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { jsonText } from "./jsonText.js";
import { arrayPath, isPlainRecord, recordPath, type Json } from "./stateValue.js";

/** An array or record being checked: its keys (null for an array), the next child to check. */
interface Frame {
  readonly value: { readonly [key: string]: unknown };
  readonly path: string;
  readonly keys: readonly string[] | null;
  readonly length: number;
  next: number;
}

/**
 * Why `meta` would not read back from JSON identically (the first place, depth first): -0, NaN, ±Inf,
 * undefined, functions, class instances, array holes, cycles; undefined when it is JSON. Walked with its own
 * stack: any depth.
 */
const problemOf = (meta: unknown): string | undefined => {
  const stack: Frame[] = [];
  const open = new Set<object>(); // the containers of the stack's frames, to find cycles
  /** Checks one value: its problem, or undefined (an array's or record's frame pushed). */
  const enter = (value: unknown, path: string): string | undefined => {
    const at = `meta at ${showPath(path)}`;
    if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
    if (typeof value === "number")
      return Number.isFinite(value) && !Object.is(value, -0) ? undefined : `${at} is ${String(Object.is(value, -0) ? "-0" : value)}, which JSON cannot hold`;
    if (typeof value !== "object") return `${at} is of type ${typeof value}, not JSON`;
    if (open.has(value)) return `${at} contains itself (a cycle)`;
    const isArray = Array.isArray(value);
    if (!isArray && !isPlainRecord(value)) return `${at} is a class instance, not a plain record`;
    const keys = isArray ? null : Object.keys(value);
    open.add(value);
    stack.push({ value: value as Frame["value"], path, keys, length: keys === null ? (value as unknown[]).length : keys.length, next: 0 });
    return undefined;
  };
  let found = enter(meta, "");
  while (found === undefined && stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.length) {
      const i = frame.next++;
      if (frame.keys !== null) found = enter(frame.value[frame.keys[i]!], recordPath(frame.path, frame.keys[i]!));
      else found = i in frame.value ? enter(frame.value[i], arrayPath(frame.path, i)) : `meta at ${showPath(frame.path)}[${i}] is an array hole`;
      continue;
    }
    stack.pop();
    open.delete(frame.value);
  }
  return found;
};

/**
 * The JSON text of `meta` (what `JSON.stringify` writes, at any depth), or a Left naming the first place that
 * JSON would not read back identically: -0, NaN, ±Inf, undefined, functions, class instances, array holes, cycles.
 */
export const metaToJson = (meta: unknown): E.Either<OptimizerError, string> => {
  const why = problemOf(meta);
  return why === undefined ? E.right(jsonText(meta as Json)) : E.left(optimizerError("InvalidTree", why));
};

/** `value` with every array and record in it frozen (in place; for freshly parsed JSON, so a tree: any depth). */
export const deepFreezeJson = (value: Json): Json => {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null) continue;
    for (const child of Object.values(node)) stack.push(child);
    Object.freeze(node);
  }
  return value;
};
