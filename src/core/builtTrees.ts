/**
 * Trees that larch built itself (`unflatten`) carry their flat form, and records of numbers it built a mark that they
 * hold no leaf. They are frozen at every level, and so are their leaves' views, so their structure cannot change:
 * taking them apart again (`flatten`), or finding the leaves they hold (donation), can read the flat form (or the
 * mark) instead of walking them.
 *
 * The flat form is a hidden own property of the tree (a symbol key, not enumerable: spreading or assigning the tree
 * does not copy it), not an entry in a WeakMap: V8's young-generation collector keeps a WeakMap's values alive, so
 * every step's trees outlived their step and were promoted to the old generation (3 ms scavenges on a 1000-leaf
 * tree, against 0.8 ms with the property).
 * @module
 */
import type { Flat } from "./tree.js";

const FLAT: unique symbol = Symbol("larch.flat");

/**
 * Gives a tree its flat form; call it before the tree is frozen.
 * @example
 * rememberFlat(record, { def, paths, leaves }); Object.freeze(record);
 */
export const rememberFlat = (tree: object, flat: Flat): void => {
  Object.defineProperty(tree, FLAT, { value: flat });
};

/**
 * The flat form of a tree larch built (its own, never one it inherits), or undefined for any other value.
 * @example
 * builtFlat(unflatten(def, leaves, paths)) // { def, paths, leaves }
 */
export const builtFlat = (tree: object): Flat | undefined =>
  Object.prototype.hasOwnProperty.call(tree, FLAT) ? (tree as { [FLAT]: Flat })[FLAT] : undefined;

const LEAFLESS: unique symbol = Symbol("larch.leafless");

/**
 * Marks a record larch built that holds numbers only (a trust ratio per leaf), so that donation, which looks for
 * leaves in a step's state, need not look into its values (a 1000-key record in dictionary mode costs 60 µs to list);
 * call it before the record is frozen.
 * @example
 * rememberLeafless(ratios); Object.freeze(ratios);
 */
export const rememberLeafless = (record: object): void => {
  Object.defineProperty(record, LEAFLESS, { value: true });
};

/** True for a record {@link rememberLeafless} marked: it holds no leaf. */
export const isLeafless = (record: object): boolean => Object.prototype.hasOwnProperty.call(record, LEAFLESS);

/**
 * True for the hidden keys larch gives the records it builds (a tree's flat form, the leafless mark): the only keys a
 * tree or state record may have that `Object.keys` does not list.
 * @example
 * Reflect.ownKeys(unflatten(def, leaves, paths)).filter((k) => !isHiddenKey(k)) // the tree's own keys
 */
export const isHiddenKey = (key: string | symbol): boolean => key === FLAT || key === LEAFLESS;
