/**
 * Trees: params, gradients, updates and state are nested plain records and arrays whose leaves are ndarrays.
 * Leaves are visited depth first with record keys in sorted order, so every walk is deterministic; each leaf
 * is named by its path (`fc.weight`, `layers[0].bias`; the root leaf's path is the empty string).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { builtFlat, isHiddenKey, rememberFlat, rememberLeafless } from "./builtTrees.js";
import { isDonated, reusedError } from "./donation.js";
import { optimizerError, showPath, showValue, type OptimizerError } from "./errors.js";
import { arrayPath, recordPath } from "./paths.js";
import { ancestors, buildTree, LARGE_RECORD, plainRecord } from "./treeBuild.js";
import { dtypeOf, type Leaf } from "./leaf.js";
import { refusalOf } from "./refusedLeaf.js";

/** A leaf, an array of trees, or a record of trees. */
export type Tree = Leaf | readonly Tree[] | { readonly [key: string]: Tree };

/** The shape of a tree without its leaves: what two trees must share to be combined leaf by leaf. */
export type TreeDef =
  | { readonly t: "leaf" }
  | { readonly t: "array"; readonly items: readonly TreeDef[] }
  | { readonly t: "record"; readonly keys: readonly string[]; readonly items: readonly TreeDef[] };

/** The structure of a record or an array (not a leaf). */
type Branch = Exclude<TreeDef, { readonly t: "leaf" }>;

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

/** Whether keys are in sorted order: most records list theirs so, and checking costs less than sorting. */
const inOrder = (keys: readonly string[]): boolean => {
  for (let i = 1; i < keys.length; i++) if (keys[i - 1]! > keys[i]!) return false;
  return true;
};

/**
 * A large record's values in the order of its keys, read by one `Object.values` (which reads them in the order
 * `Object.keys` lists them: a record whose keys are in sorted order already), or null to read them one by one: when
 * reading them throws (a getter, a Proxy's trap: the walk then reads key by key, and says where), or a getter changed
 * how many there are. 1000 reads by key cost 20 µs (each key a different property), `Object.values` 2.5.
 */
const valuesInOrder = (record: object, count: number): readonly unknown[] | null => {
  try {
    const values = Object.values(record);
    return values.length === count ? values : null;
  } catch {
    return null;
  }
};

/** A key that could make two leaves' paths equal: empty, or holding the separators of paths ("." and "["). */
const mayCollide = (key: string): boolean => key === "" || key.includes(".") || key.includes("[");

/** A record or an array being walked: its children are read one by one, their structures gathered in `items`. */
interface Frame {
  readonly node: { readonly [key: string]: unknown };
  readonly path: string;
  /** the record's sorted keys, or null for an array */
  readonly keys: string[] | null;
  /** a large record's values in the order of its keys ({@link valuesInOrder}), or null: read one by one */
  readonly values: readonly unknown[] | null;
  readonly length: number;
  next: number;
  readonly items: TreeDef[];
}

/** The one structure every leaf shares. */
const LEAF_DEF: TreeDef = Object.freeze({ t: "leaf" as const });

/** Whether the walk's answer for a node is a structure (rather than a Left's error). */
const isTreeDef = (x: TreeDef | OptimizerError): x is TreeDef => "t" in x;

/**
 * The walk of {@link flatten} over a tree larch did not build: depth first with its own stack, so a tree nested
 * 10⁵ levels deep is walked like a flat one (no recursion, no depth limit); a record or array inside itself (a
 * cycle) is an InvalidTree Left naming where it closes.
 */
const flattenAnew = (tree: unknown): E.Either<OptimizerError, Flat> => {
  const paths: string[] = [];
  const leaves: Leaf[] = [];
  const stack: Frame[] = [];
  const inside = ancestors(); // the nodes of the stack's frames
  let at = ""; // the path being read, to name it if a getter or a Proxy trap throws
  let collide = false; // some key may give two leaves one path (checked at the end, only then)
  let nested = false; // some leaf is two or more levels deep
  let rootDef: TreeDef | undefined;
  /** Reads one node: a leaf (recorded, LEAF_DEF), a record or array (its frame pushed, undefined), or the error. */
  const enter = (node: unknown, path: string): TreeDef | OptimizerError | undefined => {
    if (isDonated(node)) return reusedError(`leaf or subtree ${showPath(path)}`, path);
    if (looksLikeNdarray(node)) {
      const problem = leafProblem(node);
      if (problem !== undefined) return invalid(path, problem);
      if (stack.length > 1) nested = true;
      paths.push(path);
      leaves.push(node as Leaf);
      return LEAF_DEF;
    }
    const isArray = Array.isArray(node);
    if (!isArray && !isPlainRecord(node)) {
      const what = node === null ? "null" : typeof node === "object" ? (node.constructor?.name ?? "object") : typeof node;
      return invalid(path, `is ${what}, not an ndarray leaf, an array or a plain record`);
    }
    if (inside.has(node as object)) return invalid(path, "contains itself (a cycle): a tree must be finite");
    let keys: string[] | null = null;
    let values: readonly unknown[] | null = null;
    if (!isArray) {
      keys = Object.keys(node as object);
      const ordered = inOrder(keys);
      if (!ordered) keys.sort();
      const hidden = hiddenKeyProblem(node as object, keys, path);
      if (hidden !== undefined) return hidden;
      for (let k = 0; k < keys.length; k++) if (mayCollide(keys[k]!)) collide = true;
      if (ordered && keys.length >= LARGE_RECORD) values = valuesInOrder(node as object, keys.length);
    }
    inside.push(node as object);
    const length = isArray ? (node as unknown[]).length : keys!.length;
    stack.push({ node: node as { readonly [key: string]: unknown }, path, keys, values, length, next: 0, items: [] });
    return undefined;
  };
  try {
    const root = enter(tree, "");
    if (root !== undefined && !isTreeDef(root)) return E.left(root);
    rootDef = root;
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      if (frame.next < frame.length) {
        const i = frame.next++;
        const key = frame.keys === null ? undefined : frame.keys[i]!;
        const path = key === undefined ? arrayPath(frame.path, i) : recordPath(frame.path, key);
        at = path; // reading the child may run a getter
        const child = enter(frame.values !== null ? frame.values[i] : frame.node[key ?? i], path);
        if (child === undefined) continue; // a record or array: its frame is on top now
        if (!isTreeDef(child)) return E.left(child);
        frame.items.push(child);
        continue;
      }
      stack.pop();
      inside.pop(frame.node);
      const def: TreeDef = frame.keys === null ? { t: "array", items: frame.items } : { t: "record", keys: frame.keys, items: frame.items };
      if (stack.length === 0) rootDef = def;
      else stack[stack.length - 1]!.items.push(def);
    }
  } catch (e) {
    // a getter or a Proxy trap that throws
    return E.left(invalid(at, `cannot be read: reading it threw ${showValue(e)}`));
  }
  if (collide && nested) {
    const clash = firstRepeat(paths);
    if (clash !== undefined)
      return E.left(invalid(clash, "is the path of two leaves (a key holding \".\" or \"[\", or an empty key, beside the nesting it spells): rename one"));
  }
  if (leaves.length < CANONICAL_LEAVES) return E.right({ def: rootDef!, paths, leaves });
  const known = canonical(rootDef!, paths);
  return E.right({ def: known.def, paths: known.paths, leaves });
};

/** Trees of at least this many leaves get a canonical structure ({@link canonical}). */
const CANONICAL_LEAVES = 32;

/** The canonical structures (most recently seen first), at most {@link CANONICAL_KEPT} of them. */
const canonicals: { readonly def: TreeDef; readonly paths: readonly string[] }[] = [];
const CANONICAL_KEPT = 8;

/**
 * One structure object per structure seen lately: the first tree of a structure gives it (frozen, with its paths),
 * and every later tree of the same structure (a training loop's fresh gradients, each step) gets that one object and
 * those paths. Trees of one structure then share their TreeDef, so comparing them is `a.def === b.def`
 * ({@link sameStructure} walks nothing), and the records of a tree larch builds over it are made by one maker per
 * structure (treeBuild.ts). Comparing with a known structure reads its keys once (1000 keys: a few µs).
 */
const canonical = (def: TreeDef, paths: readonly string[]): { readonly def: TreeDef; readonly paths: readonly string[] } => {
  for (let k = 0; k < canonicals.length; k++) {
    const known = canonicals[k]!;
    if (!sameDef(known.def, def)) continue;
    if (k > 0) {
      canonicals.splice(k, 1);
      canonicals.unshift(known);
    }
    return known;
  }
  const made = { def: frozenDef(def), paths: Object.freeze(paths) };
  canonicals.unshift(made);
  if (canonicals.length > CANONICAL_KEPT) canonicals.pop();
  return made;
};

/** Whether two structures flatten made are the same (its own stack: no depth limit). */
const sameDef = (a: TreeDef, b: TreeDef): boolean => {
  const stack: [TreeDef, TreeDef][] = [[a, b]];
  while (stack.length > 0) {
    const [x, y] = stack.pop()!;
    if (x === y) continue;
    if (x.t !== y.t) return false;
    if (x.t === "leaf" || y.t === "leaf") continue;
    if (x.items.length !== y.items.length) return false;
    if (x.t === "record" && y.t === "record") for (let i = 0; i < x.keys.length; i++) if (x.keys[i] !== y.keys[i]) return false;
    for (let i = 0; i < x.items.length; i++) if (x.items[i] !== y.items[i]) stack.push([x.items[i]!, y.items[i]!]);
  }
  return true;
};

/** A structure flatten made, frozen at every level (with its keys and items): shared, it must not change. */
const frozenDef = (def: TreeDef): TreeDef => {
  const stack: TreeDef[] = [def];
  while (stack.length > 0) {
    const d = stack.pop()!;
    if (d.t === "leaf" || Object.isFrozen(d)) continue;
    for (const item of d.items) stack.push(item);
    Object.freeze(d.items);
    if (d.t === "record") Object.freeze(d.keys);
    Object.freeze(d);
  }
  return def;
};

/**
 * Why a record's keys cannot be walked: it has keys that `Object.keys` does not list (Symbols, non-enumerable
 * properties), which a walk would drop silently. Undefined when `keys` (its listed keys) are all it has. Checked in
 * records of every size by one count of its own keys ({@link ownKeysOf}), and only when there are more than `keys`
 * is the extra key looked for.
 */
const hiddenKeyProblem = (record: object, keys: readonly string[], path: string): OptimizerError | undefined => {
  const own = ownKeysOf(record, keys);
  if (own.length === keys.length) return undefined;
  const listed = new Set(keys);
  const hidden = own.find((k) => !listed.has(k as string) && !isHiddenKey(k));
  if (hidden === undefined) return undefined;
  return invalid(
    path,
    typeof hidden === "symbol"
      ? `has a Symbol key ${showValue(hidden)}: tree keys are strings`
      : `has a non-enumerable key ${JSON.stringify(hidden)}, which a walk would drop: make it enumerable or remove it`,
  );
};

/**
 * The own keys of a record, in `Reflect.ownKeys` order: its names and symbols, asked for apart. V8 answers these two
 * from a record's enumeration cache, `Reflect.ownKeys` not: for the 1000-key record of a user's gradients, built by
 * `Object.fromEntries` or key by key, 3 µs against 48 µs (for a record in dictionary mode, as larch builds large
 * ones, the two cost the same); for a few keys, 120 µs less over 500 two-key records. Mostly there are none to add.
 */
const ownKeysOf = (record: object, keys: readonly string[]): readonly (string | symbol)[] => {
  const symbols = Object.getOwnPropertySymbols(record);
  const names = Object.getOwnPropertyNames(record);
  return symbols.length === 0 ? (names.length === keys.length ? keys : names) : [...names, ...symbols];
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
  let remember: boolean;
  try {
    remember = paths !== undefined && allFrozen(leaves);
  } catch {
    return Object.freeze({}); // leaves that cannot be read (a hostile argument): nothing to build
  }
  return buildTree(def, leaves, remember ? paths : undefined);
};

/** Whether every leaf is frozen (a loop: `every` with a closure cost a 1000-leaf step 3%). */
const allFrozen = (leaves: readonly Leaf[]): boolean => {
  for (let i = 0; i < leaves.length; i++) if (!Object.isFrozen(leaves[i])) return false;
  return true;
};

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

/**
 * A frozen record of numbers or booleans under these keys (a value per leaf: LARS's trust ratios), marked as holding
 * no leaf (see `builtTrees.ts`); an empty record for keys that are not an array of strings.
 * @example
 * frozenScalars(["w", "b"], [0.9, 1.1]) // { w: 0.9, b: 1.1 }, frozen
 */
export const frozenScalars = <V extends number | boolean>(keys: readonly string[], values: readonly V[]): { readonly [key: string]: V } => {
  try {
    const record = plainRecord(keys, values);
    rememberLeafless(record);
    return Object.freeze(record);
  } catch {
    return Object.freeze({}); // keys that are not an array of strings: no record to build
  }
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
    // the first difference, depth first with its own stack (no depth limit); its path is built only when one is found
    type Pair = { readonly x: Branch; readonly y: Branch; i: number };
    const differs = (x: TreeDef, y: TreeDef): boolean => {
      if (x.t !== y.t) return true;
      if (x.t === "leaf" || y.t === "leaf") return false;
      if (x.items.length !== y.items.length) return true;
      if (x.t === "record" && y.t === "record") for (let i = 0; i < x.keys.length; i++) if (x.keys[i] !== y.keys[i]) return true;
      return false;
    };
    const pathOf = (stack: readonly Pair[]): string => {
      let path = "";
      for (const { x, i } of stack) path = x.t === "record" ? recordPath(path, x.keys[i - 1]!) : arrayPath(path, i - 1);
      return path;
    };
    if (a === b) return E.right(undefined);
    if (differs(a, b)) return E.left(mismatch("", a, b));
    if (a.t === "leaf" || b.t === "leaf") return E.right(undefined);
    const stack: Pair[] = [{ x: a, y: b, i: 0 }];
    const inside = ancestors(); // of a's structure; a forged b inside itself differs from a where it closes
    inside.push(a);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.i >= top.x.items.length) {
        stack.pop();
        inside.pop(top.x);
        continue;
      }
      const x = top.x.items[top.i]!;
      const y = top.y.items[top.i]!;
      top.i++;
      if (x === y) continue; // shared structure (a tree compared with one larch built from it)
      if (differs(x, y)) return E.left(mismatch(pathOf(stack), x, y));
      if (x.t === "leaf" || y.t === "leaf") continue;
      if (inside.has(x)) return E.left(thrown("sameStructure", "a TreeDef inside itself (forged: flatten makes none)"));
      inside.push(x);
      stack.push({ x, y, i: 0 });
    }
    return E.right(undefined);
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
