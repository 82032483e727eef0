/**
 * Building the trees larch returns: frozen records and arrays over leaves, in the leaf order of `flatten`, which
 * carry their flat form when their leaves are frozen views. Internal: `unflatten` (tree.ts) is the public face; the
 * steps call {@link madeTree} for the trees of leaves they made.
 * @module
 */
import { rememberFlat } from "./builtTrees.js";
import type { Leaf } from "./leaf.js";
import type { Tree, TreeDef } from "./tree.js";

/** The structure of a record or an array (not a leaf). */
type Branch = Exclude<TreeDef, { readonly t: "leaf" }>;

/**
 * A walk looks for a node among the records and arrays it is inside of (a cycle) by a scan of the first
 * {@link SCANNED} of them and a set of the deeper ones: models nest a few levels, and a scan of a few costs less than
 * a set's upkeep, while a deep chain (10⁵ levels) stays linear.
 */
const SCANNED = 32;

/** The nodes on the path from the root to the node a depth-first walk is at (see {@link SCANNED}). */
export interface Ancestors {
  has(node: object): boolean;
  push(node: object): void;
  pop(node: object): void;
}

export const ancestors = (): Ancestors => {
  const near: object[] = [];
  let deep: Set<object> | undefined;
  let depth = 0;
  return {
    has: (node) => {
      for (let k = 0; k < near.length; k++) if (near[k] === node) return true;
      return deep !== undefined && deep.has(node);
    },
    push: (node) => {
      if (depth++ < SCANNED) near.push(node);
      else (deep ??= new Set()).add(node);
    },
    pop: (node) => {
      if (--depth < SCANNED) near.pop();
      else deep!.delete(node);
    },
  };
};

/**
 * The frozen tree of a structure over its leaves; given their paths, it carries its flat form { def, paths, leaves }
 * (so the caller vouches that the leaves are frozen views, as larch makes them). A forged structure gives an empty
 * record.
 * @example
 * buildTree(flat.def, leaves, frozen ? flat.paths : undefined)
 */
export const buildTree = (def: TreeDef, leaves: readonly Leaf[], paths: readonly string[] | undefined): Tree => {
  try {
    const flat = paths !== undefined ? Object.freeze({ def, paths, leaves }) : undefined;
    if (def.t === "leaf") return leaves[0]!;
    let next = 0;
    // depth first with its own stack (no depth limit): each frame gathers its children, then becomes one
    const stack: { readonly d: Branch; i: number; readonly children: Tree[] }[] = [{ d: def, i: 0, children: childrenOf(def) }];
    const inside = ancestors();
    inside.push(def);
    for (;;) {
      const frame = stack[stack.length - 1]!;
      if (frame.i < frame.d.items.length) {
        const item = frame.d.items[frame.i++]!;
        if (item.t === "leaf") frame.children[frame.i - 1] = leaves[next++]!;
        else if (inside.has(item)) return Object.freeze({}); // a forged TreeDef inside itself: nothing to build
        else {
          inside.push(item);
          stack.push({ d: item, i: 0, children: childrenOf(item) });
        }
        continue;
      }
      stack.pop();
      inside.pop(frame.d);
      const node = frame.d.t === "array" ? frame.children : plainRecord(frame.d.keys, frame.children);
      if (stack.length === 0) {
        if (flat !== undefined) rememberFlat(node, flat);
        return Object.freeze(node);
      }
      const parent = stack[stack.length - 1]!;
      parent.children[parent.i - 1] = Object.freeze(node);
    }
  } catch {
    return Object.freeze({}); // not a TreeDef and leaves (a forged or hostile argument): nothing to build
  }
};

/**
 * The array a node's children are gathered in, one slot per child from the start (a 1000-leaf record's children
 * pushed one by one grew their array some twenty times); for a forged structure whose items are not an array, or
 * absurdly many, an empty array that grows.
 */
const childrenOf = (d: Branch): Tree[] => (Array.isArray(d.items) && d.items.length <= 1 << 24 ? new Array<Tree>(d.items.length) : []);

/**
 * The tree of a structure over leaves larch made (`leafOf`, `madeLeaf`: frozen views), with its flat form: what
 * `unflatten(def, leaves, paths)` gives, without asking each leaf whether it is frozen (`Object.isFrozen` is a call
 * into the runtime: 16-25 µs over 1000 leaves, for every tree of every step).
 * @example
 * const next = madeTree(params.def, params.leaves.map((p) => madeLeaf(freshStorage(p), p.shape)), params.paths);
 */
export const madeTree = (def: TreeDef, leaves: readonly Leaf[], paths: readonly string[]): Tree => buildTree(def, leaves, paths);

/** Records with at least this many keys are built without a prototype first (see `frozenRecord`). */
export const LARGE_RECORD = 32;

/**
 * A plain record { keys[i]: values[i] } (not frozen). A large one is filled while it has no prototype and given
 * Object.prototype afterwards: V8 then builds it as one hash table instead of walking a hidden class per key.
 * @example
 * Object.freeze(plainRecord(["fc.bias", "fc.weight"], [b, w]))
 */
export const plainRecord = <V>(keys: readonly string[], values: readonly V[]): Record<string, V> => {
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
