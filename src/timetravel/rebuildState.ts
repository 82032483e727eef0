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
import { specialValue } from "./stateStructure.js";
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

  /** An array or record being built: its children (parsed JSON), the next one to build, the states built so far. */
  interface Frame {
    readonly path: string;
    /** the record's keys, or null for an array */
    readonly keys: readonly string[] | null;
    readonly children: readonly unknown[];
    next: number;
    readonly built: State[];
  }
  const stack: Frame[] = [];

  /** Reads one node: a scalar or leaf (its state), a record or array (its frame pushed: undefined), or a Left. */
  const enter = (node: unknown, path: string): E.Either<OptimizerError, State> | undefined => {
    if (node === null || typeof node === "string" || typeof node === "boolean") return E.right(node);
    if (typeof node === "number") return Object.is(node, -0) ? bad(path, "a -0 written as a plain number") : E.right(node);
    if (Array.isArray(node)) {
      stack.push({ path, keys: null, children: node, next: 0, built: [] });
      return undefined;
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
    const entries = Object.entries(node["record"]);
    stack.push({ path, keys: entries.map(([key]) => key), children: entries.map(([, child]) => child), next: 0, built: [] });
    return undefined;
  };

  // depth first with its own stack (a structure nests as deep as its state): each frame gathers its children
  let state = enter(structure, "");
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.children.length) {
      const i = frame.next++;
      const child = enter(frame.children[i], frame.keys === null ? arrayPath(frame.path, i) : recordPath(frame.path, frame.keys[i]!));
      if (child === undefined) continue; // a record or array: its frame is on top now
      if (E.isLeft(child)) return child;
      frame.built.push(child.right);
      continue;
    }
    stack.pop();
    const value: State =
      frame.keys === null ? Object.freeze(frame.built) : Object.freeze(Object.fromEntries(frame.keys.map((key, k) => [key, frame.built[k]!])));
    if (stack.length === 0) state = E.right(value);
    else stack[stack.length - 1]!.built.push(value);
  }
  const built = state!; // set once the root's frame closed
  if (E.isLeft(built)) return built;
  const unused = [...table.keys()].find((name) => !used.has(name));
  return unused === undefined
    ? built
    : E.left(optimizerError("DecodeError", `tensor ${showPath(unused)} is in the header but not in the state's structure`, { path: unused }));
};
