/**
 * The caller's `meta` of a checkpoint (optimizer name, hyper-parameters, step, ...): plain JSON, kept in
 * the header as written so that other tools can read it. Only values JSON writes exactly are accepted.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { MAX_DEPTH } from "./stateStructure.js";
import { arrayPath, isPlainRecord, recordPath, type Json } from "./stateValue.js";

/**
 * The JSON text of `meta`, or a Left naming the first place that JSON would not read back identically:
 * -0, NaN, ±Inf, undefined, functions, class instances, array holes, cycles or too deep nesting.
 */
export const metaToJson = (meta: unknown): E.Either<OptimizerError, string> => {
  const open = new Set<object>();
  const problem = (value: unknown, path: string, depth: number): string | undefined => {
    const at = `meta at ${showPath(path)}`;
    if (depth > MAX_DEPTH) return `${at} is nested more than ${MAX_DEPTH} levels deep`;
    if (value === null || typeof value === "string" || typeof value === "boolean") return undefined;
    if (typeof value === "number")
      return Number.isFinite(value) && !Object.is(value, -0) ? undefined : `${at} is ${String(Object.is(value, -0) ? "-0" : value)}, which JSON cannot hold`;
    if (typeof value !== "object") return `${at} is of type ${typeof value}, not JSON`;
    if (open.has(value)) return `${at} contains itself (a cycle)`;
    open.add(value);
    let found: string | undefined;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length && found === undefined; i++)
        found = i in value ? problem(value[i], arrayPath(path, i), depth + 1) : `${at}[${i}] is an array hole`;
    } else if (isPlainRecord(value)) {
      for (const key of Object.keys(value)) {
        found = problem(value[key], recordPath(path, key), depth + 1);
        if (found !== undefined) break;
      }
    } else found = `${at} is a class instance, not a plain record`;
    open.delete(value);
    return found;
  };
  const why = problem(meta, "", 0);
  return why === undefined ? E.right(JSON.stringify(meta)) : E.left(optimizerError("InvalidTree", why));
};

/** `value` with every array and record in it frozen (in place; for freshly parsed JSON). */
export const deepFreezeJson = (value: Json): Json => {
  if (typeof value === "object" && value !== null) {
    for (const child of Object.values(value)) deepFreezeJson(child as Json);
    Object.freeze(value);
  }
  return value;
};
