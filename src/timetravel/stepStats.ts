/**
 * The few numbers per leaf that a recording keeps for every step, read from the step's trees and the state.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { OptimizerError } from "../core/errors.js";
import { denseValues, type Leaf } from "../core/leaf.js";
import { l2Norm } from "../core/norm.js";
import { threw } from "../core/caught.js";
import { isDonated, reusedError } from "../core/donation.js";
import { flatten, type Tree } from "../core/tree.js";

/** One leaf at one step. */
export interface LeafStats {
  /** ‖p‖ and ‖g‖ of the params and gradient the step was given. */
  readonly paramNorm: number;
  readonly gradNorm: number;
  /** γ, where the optimizer has a trust ratio for this leaf ({@link scaleByTrustRatio}), else null. */
  readonly trustRatio: number | null;
  /** ‖u‖ of the update the step returned. */
  readonly updateNorm: number;
  /** ‖b‖ of the momentum buffer after the step, where the optimizer keeps one for this leaf, else null. */
  readonly momentumNorm: number | null;
}

/** One step: the learning rate it used (the first {@link scaleByLr} in the state; null if none) and each leaf's numbers. */
export interface StepStats {
  readonly lr: number | null;
  readonly leaves: { readonly [path: string]: LeafStats };
}

/** What the state says about each leaf: trust ratios, momentum buffers and learning rates found anywhere in it. */
interface StateFacts {
  readonly ratios: Map<string, number>;
  readonly momenta: Map<string, Leaf>;
  readonly rates: number[];
}

/**
 * Walks a state of any shape (chains, partitions, wrappers) for the records that carry per-leaf facts. Leaf paths
 * inside a transformation's state are those of the tree it saw, which are the whole tree's paths (partitions
 * hand their members records keyed by full paths).
 * A state (or any part or leaf of it) that was donated to a step is a StateReused Left: its storage may hold the
 * next step's values. The walk keeps its own stack (no nesting limit) and visits each object once (a cycle ends).
 */
const factsOf = (state: unknown): E.Either<OptimizerError, StateFacts> => {
  const facts: StateFacts = { ratios: new Map(), momenta: new Map(), rates: [] };
  const seen = new Set<object>();
  const stack: unknown[] = [state];
  while (stack.length > 0) {
    const node = stack.pop();
    if (typeof node !== "object" || node === null || seen.has(node)) continue;
    seen.add(node);
    if (isDonated(node)) return E.left(reusedError("state"));
    if (ArrayBuffer.isView((node as { data?: unknown }).data)) continue; // a leaf
    const record = node as { kind?: unknown; ratios?: Record<string, number>; trace?: unknown; lr?: unknown };
    if (record.kind === "scaleByTrustRatio" && record.ratios)
      for (const [path, gamma] of Object.entries(record.ratios)) facts.ratios.set(path, gamma);
    if (record.kind === "traceMomentum" && record.trace) {
      const flat = flatten(record.trace);
      if (E.isLeft(flat) && flat.left.kind === "StateReused") return E.left(reusedError("state"));
      if (E.isRight(flat)) flat.right.paths.forEach((path, i) => facts.momenta.set(path, flat.right.leaves[i]!));
      continue;
    }
    if (record.kind === "scaleByLr" && typeof record.lr === "number") facts.rates.push(record.lr);
    const children = Array.isArray(node) ? node : Object.values(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]); // the first child on top: the order of a recursive walk
  }
  return E.right(facts);
};

const norm = (leaf: Leaf | undefined): number => (leaf === undefined ? NaN : l2Norm(denseValues(leaf)));

/**
 * The numbers a recording keeps for one step: per leaf ‖p‖, ‖g‖, γ, ‖u‖ and ‖b‖, and the step's learning rate.
 * Costs one norm pass over params, gradient, update and momentum buffer (γ and lr are read from the state).
 * Params, gradient, updates or a state that were donated to a step ({@link applyStep} with `donate: true`) are a
 * StateReused Left.
 * @example
 * const stats = stepStats(params, grads, updates, nextState); // Right({ lr, leaves: { "fc.weight": { paramNorm, gradNorm, trustRatio, … } } })
 */
export const stepStats = (params: Tree, grads: Tree, updates: Tree, stateAfter: unknown): E.Either<OptimizerError, StepStats> => {
  try {
    return statsOf(params, grads, updates, stateAfter);
  } catch (e) {
    return threw("stepStats", e, "InvalidTree"); // a state whose getters or Proxy traps throw
  }
};

const statsOf = (params: Tree, grads: Tree, updates: Tree, stateAfter: unknown): E.Either<OptimizerError, StepStats> => {
  const p = flatten(params);
  if (E.isLeft(p)) return p;
  const g = flatten(grads);
  if (E.isLeft(g)) return g;
  const u = flatten(updates);
  if (E.isLeft(u)) return u;
  const read = factsOf(stateAfter);
  if (E.isLeft(read)) return read;
  const facts = read.right;
  const leaves: Record<string, LeafStats> = {};
  p.right.paths.forEach((path, i) => {
    const momentum = facts.momenta.get(path);
    leaves[path] = Object.freeze({
      paramNorm: norm(p.right.leaves[i]),
      gradNorm: norm(g.right.leaves[i]),
      trustRatio: facts.ratios.get(path) ?? null,
      updateNorm: norm(u.right.leaves[i]),
      momentumNorm: momentum === undefined ? null : norm(momentum),
    });
  });
  return E.right(Object.freeze({ lr: facts.rates[0] ?? null, leaves: Object.freeze(leaves) }));
};
