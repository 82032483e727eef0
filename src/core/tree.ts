/**
 * Trees: params, gradients, updates and state are nested plain records and arrays whose leaves are ndarrays.
 * Leaves are visited depth first with record keys in sorted order, so every walk is deterministic; each leaf
 * is named by its path (`fc.weight`, `layers[0].bias`; the root leaf's path is the empty string).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { builtFlat, isFlatKey, rememberFlat } from "./builtTrees.js";
import { isDonated, reusedError } from "./donation.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "./errors.js";
import { dtypeOf, type Leaf } from "./leaf.js";
import { refusalOf } from "./refusedLeaf.js";

/** A leaf, an array of trees, or a record of trees. */
export type Tree = Leaf | readonly Tree[] | { readonly [key: string]: Tree };

/** The shape of a tree without its leaves: what two trees must share to be combined leaf by leaf. */
export type TreeDef =
  | { readonly t: "leaf" }
  | { readonly t: "array"; readonly items: readonly TreeDef[] }
  | { readonly t: "record"; readonly keys: readonly string[]; readonly items: readonly TreeDef[] };

/** A tree taken apart: its structure, and its leaves with their paths, in the deterministic leaf order. */
export interface Flat {
  readonly def: TreeDef;
  readonly paths: readonly string[];
  readonly leaves: readonly Leaf[];
}

const isPlainRecord = (x: unknown): x is Record<string, unknown> => {
  if (typeof x !== "object" || x === null) return false;
  const proto = Object.getPrototypeOf(x);
  return proto === Object.prototype || proto === null;
};

/** Anything that looks like an ndarray view; {@link checkLeaf} then says whether it is a valid leaf. */
const looksLikeNdarray = (x: unknown): x is { data: unknown; shape: unknown; stride: unknown; offset: unknown } =>
  typeof x === "object" && x !== null && "data" in x && "offset" in x && Array.isArray((x as { shape?: unknown }).shape);

/**
 * True for a valid leaf: float32/float64 storage, whole non-negative extents, every index inside the storage.
 * @example
 * isLeaf(ndarray(new Float32Array(3), [3])) === true; isLeaf(ndarray(new Int32Array(3), [3])) === false
 */
export const isLeaf = (x: unknown): x is Leaf => {
  try {
    return looksLikeNdarray(x) && leafProblem(x) === undefined;
  } catch {
    return false; // a Proxy whose traps throw
  }
};

/** The Left for an argument of a tree function that threw when read (a Proxy's trap, a forged TreeDef). */
const thrown = (name: string, e: unknown): OptimizerError =>
  optimizerError("InvalidTree", `${name}: its arguments cannot be read: reading them threw ${showValue(e)}`);

const leafProblem = (x: { data: unknown; shape: unknown; stride: unknown; offset: unknown }): string | undefined => {
  if (!(x.data instanceof Float32Array || x.data instanceof Float64Array)) {
    const name = (x.data as object | null)?.constructor?.name ?? typeof x.data;
    return `has ${name} storage; larch computes in float32 or float64 only`;
  }
  if (x.data.length === 0 && refusalOf(x) !== undefined) return `is not a leaf: ${refusalOf(x)}`; // what a leaf helper gave for junk
  const shape = x.shape as unknown[];
  const stride = x.stride as unknown[];
  if (!Array.isArray(stride) || stride.length !== shape.length) return "has strides that do not match its shape";
  if (!Number.isSafeInteger(x.offset)) return "has an invalid offset";
  // the lowest and highest storage index the view reaches must lie inside its storage
  let lo = x.offset as number;
  let hi = lo;
  let empty = false;
  for (let k = 0; k < shape.length; k++) {
    const d = shape[k];
    const s = stride[k];
    if (!Number.isSafeInteger(d) || (d as number) < 0) return `has an invalid shape [${shape}]`;
    if (!Number.isSafeInteger(s)) return `has invalid strides [${stride}]`;
    if (d === 0) empty = true;
    const span = ((d as number) - 1) * (s as number);
    if (span < 0) lo += span;
    else hi += span;
  }
  return !empty && (lo < 0 || hi >= x.data.length) ? "views indices outside its storage" : undefined;
};

const invalid = (path: string, what: string): OptimizerError =>
  optimizerError("InvalidTree", `${showPath(path)} ${what}`, { path });

const joinKey = (prefix: string, key: string): string => (prefix === "" ? key : `${prefix}.${key}`);
const joinIndex = (prefix: string, i: number): string => `${prefix}[${i}]`;

/**
 * Takes a tree apart into its structure and its leaves (depth first, sorted keys).
 * A value that is not a tree of valid leaves is a Left naming its path; a tree or leaf that was donated to an
 * earlier step is a `StateReused` Left.
 * @example
 * flatten({ fc: { weight: w, bias: b } }) // Right({ def, paths: ["fc.bias", "fc.weight"], leaves: [b, w] })
 */
export const flatten = (tree: unknown): E.Either<OptimizerError, Flat> => {
  let known: Flat | undefined;
  try {
    if (isDonated(tree)) return E.left(reusedError("tree"));
    known = typeof tree === "object" && tree !== null ? builtFlat(tree) : undefined;
  } catch (e) {
    return E.left(invalid("", `cannot be read: reading it threw ${showValue(e)}`)); // a Proxy whose traps throw
  }
  return known ? E.right(known) : flattenAnew(tree);
};

/** A record's keys in sorted order; most records list theirs in order already, and checking costs less than sorting. */
const sortedKeys = (record: object): string[] => {
  const keys = Object.keys(record);
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return keys.sort();
  return keys;
};

/** Every leaf's structure, and the walk's result for it: one frozen value, not two new objects per leaf. */
const LEAF: E.Either<OptimizerError, TreeDef> = Object.freeze(E.right(Object.freeze({ t: "leaf" as const })));

/**
 * Deepest nesting of a tree: deeper (or cyclic) structures are an InvalidTree Left, so that no walk over a tree
 * or its TreeDef (flatten, unflatten, sameStructure, the codecs) can run out of stack, whatever a caller builds.
 * Models nest a few levels; a thousand is far beyond any of them.
 */
export const MAX_TREE_DEPTH = 1000;

/** A key that could make two leaves' paths equal: empty, or holding the separators of paths ("." and "["). */
const mayCollide = (key: string): boolean => key === "" || key.includes(".") || key.includes("[");

const flattenAnew = (tree: unknown): E.Either<OptimizerError, Flat> => {
  const paths: string[] = [];
  const leaves: Leaf[] = [];
  const ancestors: unknown[] = []; // the records and arrays on the path to the node being read
  let at = ""; // the path being read, to name it if a getter or a Proxy trap throws
  let collide = false; // some key may give two leaves one path (checked at the end, only then)
  let nested = false; // some leaf is two or more levels deep
  const walk = (node: unknown, path: string): E.Either<OptimizerError, TreeDef> => {
    at = path;
    if (isDonated(node)) return E.left(reusedError(`leaf or subtree ${showPath(path)}`, path));
    if (looksLikeNdarray(node)) {
      const problem = leafProblem(node);
      if (problem !== undefined) return E.left(invalid(path, problem));
      if (ancestors.length > 1) nested = true;
      paths.push(path);
      leaves.push(node as Leaf);
      return LEAF;
    }
    const isArray = Array.isArray(node);
    if (!isArray && !isPlainRecord(node)) {
      const what = node === null ? "null" : typeof node === "object" ? (node.constructor?.name ?? "object") : typeof node;
      return E.left(invalid(path, `is ${what}, not an ndarray leaf, an array or a plain record`));
    }
    const bad = shapeProblem(node as object, path, ancestors);
    if (bad !== undefined) return E.left(bad);
    ancestors.push(node);
    const items: TreeDef[] = [];
    let def: TreeDef;
    if (isArray) {
      for (let i = 0; i < node.length; i++) {
        const itemPath = joinIndex(path, i);
        at = itemPath; // reading node[i] may run a getter
        const item = walk(node[i], itemPath);
        if (E.isLeft(item)) return item;
        items.push(item.right);
      }
      def = { t: "array", items };
    } else {
      const record = node as Record<string, unknown>;
      const keys = sortedKeys(record);
      const hidden = hiddenKeyProblem(record, keys, path);
      if (hidden !== undefined) return E.left(hidden);
      for (const key of keys) {
        if (mayCollide(key)) collide = true;
        const itemPath = joinKey(path, key);
        at = itemPath;
        const item = walk(record[key], itemPath);
        if (E.isLeft(item)) return item;
        items.push(item.right);
      }
      def = { t: "record", keys, items };
    }
    ancestors.pop();
    return E.right(def);
  };
  let def: E.Either<OptimizerError, TreeDef>;
  try {
    def = walk(tree, "");
  } catch (e) {
    // a getter or a Proxy trap that throws, or a user's call stack too deep to walk even a thousand levels
    return E.left(invalid(at, `cannot be read: reading it threw ${showValue(e)}`));
  }
  if (E.isLeft(def)) return def;
  if (collide && nested) {
    const clash = firstRepeat(paths);
    if (clash !== undefined)
      return E.left(invalid(clash, "is the path of two leaves (a key holding \".\" or \"[\", or an empty key, beside the nesting it spells): rename one"));
  }
  return E.right({ def: def.right, paths, leaves });
};

/**
 * Why a record or an array cannot be walked: it contains itself (a cycle), or it is nested deeper than
 * {@link MAX_TREE_DEPTH}. Undefined when it can be walked.
 */
const shapeProblem = (node: object, path: string, ancestors: readonly unknown[]): OptimizerError | undefined => {
  if (ancestors.includes(node)) return invalid(path, "contains itself (a cycle): a tree must be finite");
  if (ancestors.length >= MAX_TREE_DEPTH) return invalid(path, `is nested more than ${MAX_TREE_DEPTH} levels deep`);
  return undefined;
};

/**
 * Why a record's keys cannot be walked: it has keys that `Object.keys` does not list (Symbols, non-enumerable
 * properties), which a walk would drop silently. Undefined when `keys` (its listed keys) are all it has.
 * Symbols are looked for in every record; non-enumerable names in records of fewer than {@link LARGE_RECORD}
 * keys only: listing every own name of a large record (V8 keeps it as a hash table) costs 2.5 times what
 * `Object.keys` does, 0.4 ms for the thousand keys of a gradient record that a step reads anew each time.
 */
const hiddenKeyProblem = (record: object, keys: readonly string[], path: string): OptimizerError | undefined => {
  const symbols = Object.getOwnPropertySymbols(record);
  const names = keys.length < LARGE_RECORD ? Object.getOwnPropertyNames(record) : keys;
  if (names.length === keys.length && (symbols.length === 0 || symbols.every(isFlatKey))) return undefined;
  const listed = new Set(keys);
  const hidden = [...names, ...symbols].find((k) => !listed.has(k as string) && !isFlatKey(k));
  if (hidden === undefined) return undefined;
  return invalid(
    path,
    typeof hidden === "symbol"
      ? `has a Symbol key ${showValue(hidden)}: tree keys are strings`
      : `has a non-enumerable key ${JSON.stringify(hidden)}, which a walk would drop: make it enumerable or remove it`,
  );
};

/** The first string that occurs twice in a list, or undefined. */
const firstRepeat = (xs: readonly string[]): string | undefined => {
  const seen = new Set<string>();
  for (const x of xs) {
    if (seen.has(x)) return x;
    seen.add(x);
  }
  return undefined;
};

/**
 * Rebuilds a frozen tree of a structure from its leaves, in the leaf order of {@link flatten}. Given the leaves'
 * paths too (and leaves with frozen views, as larch makes them), it remembers the tree's flat form.
 * @example
 * const copy = pipe(flatten(params), E.map(({ def, leaves, paths }) => unflatten(def, leaves.map(copyLeaf), paths)));
 */
export const unflatten = (def: TreeDef, leaves: readonly Leaf[], paths?: readonly string[]): Tree => {
  try {
    const flat = paths !== undefined && leaves.every((leaf) => Object.isFrozen(leaf)) ? Object.freeze({ def, paths, leaves }) : undefined;
    let next = 0;
    const build = (d: TreeDef, root: boolean): Tree => {
      if (d.t === "leaf") return leaves[next++]!;
      const node = d.t === "array" ? d.items.map((item) => build(item, false)) : plainRecord(d.keys, d.items.map((item) => build(item, false)));
      if (root && flat !== undefined) rememberFlat(node, flat);
      return Object.freeze(node);
    };
    return build(def, true);
  } catch {
    return Object.freeze({}); // not a TreeDef and leaves (a forged or hostile argument): nothing to build
  }
};

/** Records with at least this many keys are built without a prototype first (see {@link frozenRecord}). */
const LARGE_RECORD = 32;

/**
 * A frozen plain record { keys[i]: values[i] }. A large one is filled while it has no prototype and given
 * Object.prototype afterwards: V8 then builds it as one hash table instead of walking a hidden class per key
 * (for 1000 keys that another record already used, 40 µs instead of 200 µs).
 * @example
 * frozenRecord(["fc.bias", "fc.weight"], [0.5, 2]) // Object.freeze({ "fc.bias": 0.5, "fc.weight": 2 })
 */
export const frozenRecord = <V>(keys: readonly string[], values: readonly V[]): { readonly [key: string]: V } => {
  try {
    return Object.freeze(plainRecord(keys, values));
  } catch {
    return Object.freeze({}); // keys that are not an array of strings: no record to build
  }
};

const plainRecord = <V>(keys: readonly string[], values: readonly V[]): Record<string, V> => {
  const large = keys.length >= LARGE_RECORD;
  const out: Record<string, V> = large ? Object.create(null) : {};
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    // an own "__proto__" (as JSON.parse makes) set by assignment would set the prototype instead
    if (key === "__proto__") Object.defineProperty(out, key, { value: values[i], enumerable: true, writable: true, configurable: true });
    else out[key] = values[i]!;
  }
  if (large) Object.setPrototypeOf(out, Object.prototype);
  return out;
};

const describe = (d: TreeDef): string =>
  d.t === "leaf" ? "a leaf" : d.t === "array" ? `an array of ${d.items.length}` : `a record with keys [${d.keys.join(", ")}]`;

/**
 * Right when two structures are the same; otherwise a StructureMismatch naming the first path where they differ
 * and what each side has there. `names` labels the two sides in the message (e.g. `["grads", "params"]`).
 * @example
 * sameStructure(grads.def, params.def, ["grads", "params"]) // Left(StructureMismatch at fc) if only params has fc.bias
 */
export const sameStructure = (
  a: TreeDef,
  b: TreeDef,
  names: readonly [string, string],
): E.Either<OptimizerError, void> => {
  try {
    const mismatch = (path: string, x: TreeDef, y: TreeDef): OptimizerError =>
      optimizerError(
        "StructureMismatch",
        `tree structures differ at ${showPath(path)}: ${names[0]} has ${describe(x)}, ${names[1]} has ${describe(y)}`,
        { path },
      );
    // the first difference, with the keys and indices leading to it (innermost first): no path is built unless one is found
    type Difference = { readonly x: TreeDef; readonly y: TreeDef; readonly at: (string | number)[] };
    const walk = (x: TreeDef, y: TreeDef): Difference | undefined => {
      if (x === y) return undefined;
      if (x.t !== y.t) return { x, y, at: [] };
      if (x.t === "leaf" || y.t === "leaf") return undefined;
      if (x.items.length !== y.items.length) return { x, y, at: [] };
      if (x.t === "record" && y.t === "record") for (let i = 0; i < x.keys.length; i++) if (x.keys[i] !== y.keys[i]) return { x, y, at: [] };
      for (let i = 0; i < x.items.length; i++) {
        const found = walk(x.items[i]!, y.items[i]!);
        if (found) return found.at.push(x.t === "record" ? x.keys[i]! : i), found;
      }
      return undefined;
    };
    const found = walk(a, b);
    if (found === undefined) return E.right(undefined);
    const path = found.at.reduceRight<string>((p, k) => (typeof k === "number" ? joinIndex(p, k) : joinKey(p, k)), "");
    return E.left(mismatch(path, found.x, found.y));
  } catch (e) {
    return E.left(thrown("sameStructure", e));
  }
};

/**
 * Right when two leaves at the same path agree in shape and dtype; otherwise a Left naming both sides.
 * @example
 * sameLeafType(g, p, "fc.weight", ["grads", "params"]) // Left(ShapeMismatch) for g of shape [2, 3], p of [3, 2]
 */
export const sameLeafType = (
  a: Leaf,
  b: Leaf,
  path: string,
  names: readonly [string, string],
): E.Either<OptimizerError, void> => {
  try {
    const problem = leafTypeProblem(a, b, path, names);
    return problem === undefined ? E.right(undefined) : E.left(problem);
  } catch (e) {
    return E.left(thrown("sameLeafType", e));
  }
};

const sameShape = (a: readonly number[], b: readonly number[]): boolean => {
  if (a === b) return true; // leaves larch made from one another share their frozen shape
  if (a.length !== b.length) return false;
  for (let k = 0; k < a.length; k++) if (a[k] !== b[k]) return false;
  return true;
};

const leafTypeProblem = (a: Leaf, b: Leaf, path: string, names: readonly [string, string]): OptimizerError | undefined => {
  if (!sameShape(a.shape, b.shape))
    return optimizerError(
      "ShapeMismatch",
      `shapes differ at ${showPath(path)}: ${names[0]} [${a.shape.join(", ")}], ${names[1]} [${b.shape.join(", ")}]`,
      { path },
    );
  if (dtypeOf(a) !== dtypeOf(b))
    return optimizerError("DtypeMismatch", `dtypes differ at ${showPath(path)}: ${names[0]} ${dtypeOf(a)}, ${names[1]} ${dtypeOf(b)}`, { path });
  return undefined;
};

/**
 * Right when two flattened trees have the same structure and, leaf by leaf, the same shapes and dtypes.
 * @example
 * sameTreeType(grads, params, ["grads", "params"]) // grads, params: Flat, from flatten
 */
export const sameTreeType = (a: Flat, b: Flat, names: readonly [string, string]): E.Either<OptimizerError, void> => {
  try {
    if (a === b) return E.right(undefined);
    const structure = a.def === b.def ? E.right(undefined) : sameStructure(a.def, b.def, names);
    if (E.isLeft(structure)) return structure;
    for (let i = 0; i < a.leaves.length; i++) {
      const problem = leafTypeProblem(a.leaves[i]!, b.leaves[i]!, a.paths[i]!, names);
      if (problem !== undefined) return E.left(problem);
    }
    return E.right(undefined);
  } catch (e) {
    return E.left(thrown("sameTreeType", e));
  }
};

/**
 * Flattens `tree` and requires it to have `like`'s type (structure, and leaf by leaf shape and dtype): the flat
 * tree, or the first Left of {@link flatten} or {@link sameTreeType}, `names` labelling `like` and `tree`.
 * @example
 * const params = flattenLike(grads, paramTree, ["grads", "params"]); // grads: Flat
 */
export const flattenLike = (like: Flat, tree: unknown, names: readonly [string, string]): E.Either<OptimizerError, Flat> => {
  try {
    const flat = flatten(tree);
    if (E.isLeft(flat)) return flat;
    const same = sameTreeType(like, flat.right, names);
    return E.isLeft(same) ? same : flat;
  } catch (e) {
    return E.left(thrown("flattenLike", e));
  }
};

/**
 * Maps a function over the leaves of one or more trees of the same type, leaf by leaf:
 * `out[path] = f([t₀[path], t₁[path], …], path)`. Any structure/shape/dtype mismatch, or a Left from `f`, is the result.
 * @example
 * const snapshot = mapTrees([params], ["params"], ([p]) => E.right(copyLeaf(p!)));
 */
export const mapTrees = (
  trees: readonly unknown[],
  names: readonly string[],
  f: (leaves: readonly Leaf[], path: string) => E.Either<OptimizerError, Leaf>,
): E.Either<OptimizerError, Tree> => {
  try {
    const flats: Flat[] = [];
    for (let t = 0; t < trees.length; t++) {
      const flat = flatten(trees[t]);
      if (E.isLeft(flat)) return flat;
      if (t > 0) {
        const same = sameTreeType(flats[0]!, flat.right, [names[0] ?? "tree 0", names[t] ?? `tree ${t}`]);
        if (E.isLeft(same)) return same;
      }
      flats.push(flat.right);
    }
    const first = flats[0];
    if (first === undefined) return E.left(optimizerError("InvalidTree", "mapTrees needs at least one tree"));
    const out: Leaf[] = [];
    for (let i = 0; i < first.leaves.length; i++) {
      const leaf = f(
        flats.map((fl) => fl.leaves[i]!),
        first.paths[i]!,
      );
      if (E.isLeft(leaf)) return leaf;
      out.push(leaf.right);
    }
    return E.right(unflatten(first.def, out, first.paths));
  } catch (e) {
    return E.left(thrown("mapTrees", e));
  }
};
