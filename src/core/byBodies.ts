/**
 * A cache keyed by a chain's bodies, by their identity: a declared transformation parses its bodies once, so a chain
 * hands the same Body objects to every step, and a step finds what was made for them (a compiled loop, a module)
 * without building a key from their source. A trie of weak maps, one level a member (dead bodies take their entries
 * with them); a member that is the identity this step (null) has a key of its own.
 * @module
 */
import type { Body } from "./expression.js";

interface Node<V> {
  readonly values: Map<string, V>;
  readonly next: WeakMap<object, Node<V>>;
}

const NULL_MEMBER = {};
const newNode = <V>(): Node<V> => ({ values: new Map(), next: new WeakMap() });

/** A cache of values by (bodies, a short key such as a dtype and mode). */
export interface ByBodies<V> {
  get(bodies: readonly (Body | null)[], key: string): V | undefined;
  set(bodies: readonly (Body | null)[], key: string, value: V): void;
  clear(): void;
}

/**
 * A new, empty cache by bodies.
 * @example
 * const loops = byBodies<LeafLoop>();
 * loops.get(bodies, "float32 apply") ?? (loops.set(bodies, "float32 apply", made), made)
 */
export const byBodies = <V>(): ByBodies<V> => {
  let root = newNode<V>();
  const nodeOf = (bodies: readonly (Body | null)[]): Node<V> => {
    let node = root;
    for (const body of bodies) {
      const key = body ?? NULL_MEMBER;
      let child = node.next.get(key);
      if (child === undefined) node.next.set(key, (child = newNode()));
      node = child;
    }
    return node;
  };
  return {
    get: (bodies, key) => nodeOf(bodies).values.get(key),
    set: (bodies, key, value) => void nodeOf(bodies).values.set(key, value),
    clear: () => void (root = newNode()),
  };
};
