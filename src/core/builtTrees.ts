/**
 * Trees that larch built itself (`unflatten`), with their flat form. They are frozen at every level, and so are
 * their leaves' views, so their structure cannot change: taking them apart again (`flatten`), or finding the leaves
 * they hold (donation), can read the flat form instead of walking them.
 * @module
 */
import type { Flat } from "./tree.js";

/** A built tree → its flat form. */
export const builtTrees = new WeakMap<object, Flat>();
