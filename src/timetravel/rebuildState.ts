/**
 * Third stage of decoding: the state from its structure and the tensor data. Every record and array of
 * the result is frozen; every leaf is a fresh contiguous row-major ndarray, its view frozen, that shares
 * no memory with the input bytes.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { valuesFromLittleEndian } from "./littleEndian.js";
import { MAX_DEPTH, specialValue } from "./stateStructure.js";
import type { Leaf } from "../core/leaf.js";
import { arrayPath, isPlainRecord, recordPath, type State } from "./stateValue.js";
import type { TensorEntry } from "./tensorTable.js";

/** The leaf with its view, shape and strides frozen (as the core makes leaves); its values stay writable storage. */
const frozenLeaf = (leaf: Leaf): Leaf => {
  if (leaf.shape.length > 0) {
    Object.freeze(leaf.shape);
    Object.freeze(leaf.stride);
  }
  return Object.freeze(leaf);
};

/**
 * The state described by `structure` (see stateStructure.ts), with leaves read from `data`, or a Left
 * naming the path of the first malformed node, a leaf whose name is not its path or not in the table,
 * or a tensor the structure never uses.
 */
export const rebuildState = (
  structure: unknown,
  table: ReadonlyMap<string, TensorEntry>,
  data: Uint8Array,
): E.Either<OptimizerError, State> => {
  const used = new Set<string>();
  const bad = (path: string, why: string): E.Either<OptimizerError, never> =>
    E.left(optimizerError("DecodeError", `the checkpoint's structure at ${showPath(path)}: ${why}`, { path }));

  const leafAt = (name: unknown, path: string): E.Either<OptimizerError, State> => {
    if (name !== path) return bad(path, `a leaf named ${JSON.stringify(name)} where its path is expected`);
    const entry = table.get(path);
    if (entry === undefined) return bad(path, "a leaf with no tensor in the header");
    if (used.has(path)) return bad(path, "a tensor used twice");
    used.add(path);
    const values = valuesFromLittleEndian(data.subarray(entry.begin, entry.end), entry.dtype);
    return E.right(frozenLeaf(ndarray(values, [...entry.shape]) as Leaf));
  };

  const build = (node: unknown, path: string, depth: number): E.Either<OptimizerError, State> => {
    if (depth > MAX_DEPTH) return bad(path, `nested more than ${MAX_DEPTH} levels deep`);
    if (node === null || typeof node === "string" || typeof node === "boolean") return E.right(node);
    if (typeof node === "number") return Object.is(node, -0) ? bad(path, "a -0 written as a plain number") : E.right(node);
    if (Array.isArray(node)) {
      const items: State[] = [];
      for (let i = 0; i < node.length; i++) {
        const item = build(node[i], arrayPath(path, i), depth + 1);
        if (E.isLeft(item)) return item;
        items.push(item.right);
      }
      return E.right(Object.freeze(items));
    }
    if (!isPlainRecord(node)) return bad(path, "not a JSON value");
    const keys = Object.keys(node);
    if (keys.length !== 1) return bad(path, `an object with fields [${keys.join(",")}]; expected one of number, record, leaf`);
    if ("number" in node) {
      const value = specialValue(node["number"]);
      return value === undefined ? bad(path, `an unknown number ${JSON.stringify(node["number"])}`) : E.right(value);
    }
    if ("leaf" in node) return leafAt(node["leaf"], path);
    if (!("record" in node) || !isPlainRecord(node["record"])) return bad(path, `an unknown node kind "${keys[0]}"`);
    const entries: [string, State][] = [];
    for (const [key, child] of Object.entries(node["record"])) {
      const value = build(child, recordPath(path, key), depth + 1);
      if (E.isLeft(value)) return value;
      entries.push([key, value.right]);
    }
    return E.right(Object.freeze(Object.fromEntries(entries)));
  };

  const state = build(structure, "", 0);
  if (E.isLeft(state)) return state;
  const unused = [...table.keys()].find((name) => !used.has(name));
  return unused === undefined
    ? state
    : E.left(optimizerError("DecodeError", `tensor ${showPath(unused)} is in the header but not in the state's structure`, { path: unused }));
};
