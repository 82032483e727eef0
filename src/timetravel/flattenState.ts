/**
 * Splits a state into its structure (JSON, see {@link StructureNode}) and its leaves in leaf order
 * (depth-first, record keys sorted), checking on the way that the value is a State.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import { specialSpelling, type StructureNode } from "./stateStructure.js";
import type { Leaf } from "../core/leaf.js";
import { arrayPath, isPlainRecord, leafProblem, looksLikeNdarray, recordPath } from "./stateValue.js";
import { isHiddenKey } from "../core/builtTrees.js";
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

/** An array or record being walked: its children are read one by one, their structures gathered in `nodes`. */
interface Frame {
  readonly value: { readonly [key: string]: unknown };
  readonly path: string;
  /** the record's sorted keys, or null for an array */
  readonly keys: readonly string[] | null;
  readonly length: number;
  next: number;
  readonly nodes: StructureNode[];
}

/**
 * The structure and leaves of `state`, or a Left (kind "InvalidTree", with the path) when some part is not
 * State data: undefined, a function, a symbol, a bigint, a class instance, an array with holes, a cycle,
 * an ndarray over other storage or reaching outside it. Walked depth first with its own stack: any depth.
 */
export const flattenState = (state: unknown): E.Either<OptimizerError, FlatState> => {
  const leaves: PathLeaf[] = [];
  const stack: Frame[] = [];
  const open = new Set<object>(); // the containers of the stack's frames, to find cycles
  const bad = (path: string, why: string): E.Either<OptimizerError, never> =>
    E.left(optimizerError("InvalidTree", `not a State at ${showPath(path)}: ${why}`, { path }));

  /** Reads one node: a scalar or leaf (its structure), a record or array (its frame pushed: undefined), or a Left. */
  const enter = (value: unknown, path: string): E.Either<OptimizerError, StructureNode> | undefined => {
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
    let keys: string[] | null = null;
    if (!Array.isArray(value)) {
      if (!isPlainRecord(value)) return bad(path, `an instance of ${describe(value)}, not a plain record`);
      keys = Object.keys(value);
      // (a record larch built carries hidden keys of its own, its flat form or a leafless mark: caches, not state)
      if (Reflect.ownKeys(value).filter((k) => !isHiddenKey(k)).length !== keys.length)
        return bad(path, "a record with symbol or non-enumerable keys");
      keys.sort();
    }
    open.add(value);
    const length = keys === null ? (value as unknown[]).length : keys.length;
    stack.push({ value: value as { readonly [key: string]: unknown }, path, keys, length, next: 0, nodes: [] });
    return undefined;
  };

  let root = enter(state, "");
  while (stack.length > 0) {
    const frame = stack[stack.length - 1]!;
    if (frame.next < frame.length) {
      const i = frame.next++;
      let node: E.Either<OptimizerError, StructureNode> | undefined;
      if (frame.keys === null) {
        if (!(i in frame.value)) return bad(arrayPath(frame.path, i), "an array hole");
        node = enter(frame.value[i], arrayPath(frame.path, i));
      } else node = enter(frame.value[frame.keys[i]!], recordPath(frame.path, frame.keys[i]!));
      if (node === undefined) continue; // a record or array: its frame is on top now
      if (E.isLeft(node)) return node;
      frame.nodes.push(node.right);
      continue;
    }
    stack.pop();
    open.delete(frame.value);
    const node: StructureNode =
      frame.keys === null ? frame.nodes : { record: Object.fromEntries(frame.keys.map((key, k) => [key, frame.nodes[k]!])) };
    if (stack.length === 0) root = E.right(node);
    else stack[stack.length - 1]!.nodes.push(node);
  }
  return E.map((structure: StructureNode) => ({ structure, leaves }))(root!);
};
