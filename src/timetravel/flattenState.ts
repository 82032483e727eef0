/**
 * Splits a state into its structure (JSON, see {@link StructureNode}) and its leaves in leaf order
 * (depth-first, record keys sorted), checking on the way that the value is a State.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { MAX_DEPTH, specialSpelling, type StructureNode } from "./stateStructure.js";
import type { Leaf } from "../core/leaf.js";
import { arrayPath, isPlainRecord, leafProblem, looksLikeNdarray, recordPath } from "./stateValue.js";
import { builtFlat } from "../core/builtTrees.js";
import { isDonated, reusedError } from "../core/donation.js";

/** A leaf with its path in the state. */
export interface PathLeaf {
  readonly path: string;
  readonly leaf: Leaf;
}

/** A state taken apart: its structure and its leaves in leaf order. */
export interface FlatState {
  readonly structure: StructureNode;
  readonly leaves: readonly PathLeaf[];
}

/** A short name for the type of a value that is not State data, for messages. */
const describe = (value: unknown): string =>
  value === undefined ? "undefined" : typeof value === "object" ? (value as object).constructor?.name ?? "an object" : typeof value;

/**
 * The structure and leaves of `state`, or a Left (kind "InvalidTree", with the path) when some part is not
 * State data: undefined, a function, a symbol, a bigint, a class instance, an array with holes, a cycle,
 * an ndarray over other storage or reaching outside it, or nesting deeper than {@link MAX_DEPTH}.
 */
export const flattenState = (state: unknown): E.Either<OptimizerError, FlatState> => {
  const leaves: PathLeaf[] = [];
  const open = new Set<object>(); // containers on the current descent, to find cycles
  const bad = (path: string, why: string): E.Either<OptimizerError, never> =>
    E.left(optimizerError("InvalidTree", `not a State at ${showPath(path)}: ${why}`, { path }));

  const walk = (value: unknown, path: string, depth: number): E.Either<OptimizerError, StructureNode> => {
    if (depth > MAX_DEPTH) return bad(path, `nested more than ${MAX_DEPTH} levels deep`);
    if (value === null || typeof value === "string" || typeof value === "boolean") return E.right(value);
    if (typeof value === "number") {
      const special = specialSpelling(value);
      return E.right(special === undefined ? value : { number: special });
    }
    if (typeof value !== "object") return bad(path, `a value of type ${describe(value)}`);
    if (isDonated(value)) return E.left(reusedError(path === "" ? "state" : `part ${showPath(path)} of a state`, path === "" ? undefined : path));
    if (open.has(value)) return bad(path, "the state contains itself (a cycle)");
    if (looksLikeNdarray(value)) {
      const problem = leafProblem(value);
      if (problem !== undefined) return bad(path, problem);
      leaves.push({ path, leaf: value as unknown as Leaf });
      return E.right({ leaf: path });
    }
    open.add(value);
    const result = Array.isArray(value) ? walkArray(value, path, depth) : walkRecord(value, path, depth);
    open.delete(value);
    return result;
  };

  const walkArray = (items: readonly unknown[], path: string, depth: number): E.Either<OptimizerError, StructureNode> => {
    const nodes: StructureNode[] = [];
    for (let i = 0; i < items.length; i++) {
      if (!(i in items)) return bad(arrayPath(path, i), "an array hole");
      const node = walk(items[i], arrayPath(path, i), depth + 1);
      if (E.isLeft(node)) return node;
      nodes.push(node.right);
    }
    return E.right(nodes);
  };

  const walkRecord = (value: object, path: string, depth: number): E.Either<OptimizerError, StructureNode> => {
    if (!isPlainRecord(value)) return bad(path, `an instance of ${describe(value)}, not a plain record`);
    const keys = Object.keys(value);
    // (a tree larch built carries its flat form under a hidden key of its own: a cache, not state)
    if (Reflect.ownKeys(value).length !== keys.length + (builtFlat(value) === undefined ? 0 : 1))
      return bad(path, "a record with symbol or non-enumerable keys");
    const entries: [string, StructureNode][] = [];
    for (const key of keys.sort()) {
      const node = walk(value[key], recordPath(path, key), depth + 1);
      if (E.isLeft(node)) return node;
      entries.push([key, node.right]);
    }
    return E.right({ record: Object.fromEntries(entries) });
  };

  return E.map((structure: StructureNode) => ({ structure, leaves }))(walk(state, "", 0));
};
