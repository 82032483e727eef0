/**
 * The one spelling of a leaf's path, shared by every walk over a tree (flatten, labels, masks, state codecs):
 * `key` and `[i]` at the root, `parent.key` and `parent[i]` below it. Internal: not exported from the package.
 * @module
 */

/** The path of a record entry: `key` at the root, `parent.key` below it. */
export const recordPath = (parent: string, key: string): string => (parent === "" ? key : `${parent}.${key}`);

/** The path of an array element: `[i]` at the root, `parent[i]` below it. */
export const arrayPath = (parent: string, index: number): string => `${parent}[${index}]`;
