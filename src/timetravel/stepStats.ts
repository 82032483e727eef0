/**
 * The few numbers per leaf that a recording keeps for every step, read from the step's trees and the state.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import type { OptimizerError } from "../core/errors.js";
import { denseValues, type Leaf } from "../core/leaf.js";
import { l2Norm } from "../core/norm.js";
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
 */
const factsOf = (state: unknown, facts: StateFacts = { ratios: new Map(), momenta: new Map(), rates: [] }): StateFacts => {
  if (typeof state !== "object" || state === null || ArrayBuffer.isView((state as { data?: unknown }).data)) return facts;
  const record = state as { kind?: unknown; ratios?: Record<string, number>; trace?: unknown; lr?: unknown };
  if (record.kind === "scaleByTrustRatio" && record.ratios)
    for (const [path, gamma] of Object.entries(record.ratios)) facts.ratios.set(path, gamma);
  if (record.kind === "traceMomentum" && record.trace) {
    const flat = flatten(record.trace);
    if (E.isRight(flat)) flat.right.paths.forEach((path, i) => facts.momenta.set(path, flat.right.leaves[i]!));
    return facts;
  }
  if (record.kind === "scaleByLr" && typeof record.lr === "number") facts.rates.push(record.lr);
  for (const value of Array.isArray(state) ? state : Object.values(state)) factsOf(value, facts);
  return facts;
};

const norm = (leaf: Leaf | undefined): number => (leaf === undefined ? NaN : l2Norm(denseValues(leaf)));

/**
 * The numbers a recording keeps for one step: per leaf ‖p‖, ‖g‖, γ, ‖u‖ and ‖b‖, and the step's learning rate.
 * Costs one norm pass over params, gradient, update and momentum buffer (γ and lr are read from the state).
 * @example
 * const stats = stepStats(params, grads, updates, nextState); // Right({ lr, leaves: { "fc.weight": { paramNorm, gradNorm, trustRatio, … } } })
 */
export const stepStats = (params: Tree, grads: Tree, updates: Tree, stateAfter: unknown): E.Either<OptimizerError, StepStats> => {
  const p = flatten(params);
  if (E.isLeft(p)) return p;
  const g = flatten(grads);
  if (E.isLeft(g)) return g;
  const u = flatten(updates);
  if (E.isLeft(u)) return u;
  const facts = factsOf(stateAfter);
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
