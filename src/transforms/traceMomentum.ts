/**
 * Momentum in PyTorch's form (the seed's momentum buffer).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, elementwise, failing, stateOfKind, stateTreeMatching, zerosLike } from "../core/elementwise.js";
import { optimizerError } from "../core/errors.js";
import { denseValues, leafOf, type Leaf } from "../core/leaf.js";
import type { GradientTransformation } from "../core/transform.js";
import { flatten, unflatten, type Tree } from "../core/tree.js";
import { registerBuilder } from "../core/builders.js";

/** Options of {@link traceMomentum}. */
export interface TraceMomentumOptions {
  /** m ≥ 0; with m = 0 the transformation is the identity and keeps no buffer. */
  readonly momentum: number;
  /** d, applied from the second step on (default 0). */
  readonly dampening?: number;
  /** Output u + m·b instead of b (default false; needs m > 0 and d = 0). */
  readonly nesterov?: boolean;
}

/** State of {@link traceMomentum}: steps taken, and the buffer b (null when m = 0). */
export interface TraceMomentumState {
  readonly kind: "traceMomentum";
  readonly count: number;
  readonly trace: Tree | null;
}

/**
 * PyTorch's momentum: on the first step b ← u, afterwards b ← m·b + (1 − d)·u;
 * the output is b, or u + m·b with Nesterov. The buffer is stored in the leaf's dtype.
 * @example
 * const momentum = traceMomentum({ momentum: 0.9 });
 */
export const traceMomentum = (o: TraceMomentumOptions): GradientTransformation<TraceMomentumState> => {
  const m = o.momentum;
  const dampening = o.dampening ?? 0;
  const nesterov = o.nesterov ?? false;
  const name = "traceMomentum";
  const hyperparams = { momentum: m, dampening, nesterov };
  const invalid = (message: string) => failing<TraceMomentumState>(name, hyperparams, optimizerError("InvalidOption", message));
  if (!(Number.isFinite(m) && m >= 0)) return invalid(`Invalid momentum value: ${m} (must be finite and >= 0)`);
  if (!Number.isFinite(dampening)) return invalid(`Invalid dampening value: ${dampening} (must be finite)`);
  if (nesterov && (m <= 0 || dampening !== 0)) return invalid("Nesterov momentum requires a momentum and zero dampening");
  const c = 1 - dampening;
  return elementwise<TraceMomentumState>({
    name,
    hyperparams,
    init: (params) =>
      E.map((flat: Parameters<typeof zerosLike>[0]) =>
        Object.freeze({ kind: "traceMomentum" as const, count: 0, trace: m === 0 ? null : zerosLike(flat) }),
      )(flatten(params)),
    begin: (state, trees) => {
      const s = stateOfKind<TraceMomentumState>(state, "traceMomentum");
      if (E.isLeft(s)) return s;
      const count = checkCount(name, s.right.count);
      if (E.isLeft(count)) return count;
      const next = count.right + 1;
      if (m === 0) return E.right({ leaf: () => E.right(null), finish: () => Object.freeze({ ...s.right, count: next }) });
      const trace = stateTreeMatching(name, s.right.trace, trees.updates);
      if (E.isLeft(trace)) return trace;
      const first = count.right === 0;
      const buffers: Leaf[] = [];
      return E.right({
        leaf: ({ index, stateStorage }) => {
          const old = trace.right.leaves[index]!;
          const b = denseValues(old);
          const nb = stateStorage(old);
          buffers.push(leafOf(nb, old.shape)); // the old buffer's frozen shape, shared
          return E.right((u, lo, hi) => {
            if (first) for (let i = lo, j = 0; i < hi; i++, j++) nb[i] = u[j]!; // b ← u
            else for (let i = lo, j = 0; i < hi; i++, j++) nb[i] = m * b[i]! + c * u[j]!; // b ← m·b + (1 − d)·u
            if (nesterov) for (let i = lo, j = 0; i < hi; i++, j++) u[j] = u[j]! + m * nb[i]!; // u ← u + m·b
            else for (let i = lo, j = 0; i < hi; i++, j++) u[j] = nb[i]!; // u ← b
          });
        },
        finish: () => Object.freeze({ kind: "traceMomentum" as const, count: next, trace: unflatten(trees.updates.def, buffers, trees.updates.paths) }),
      });
    },
  });
};

registerBuilder("traceMomentum", traceMomentum);
