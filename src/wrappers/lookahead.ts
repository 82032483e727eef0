/**
 * Lookahead (Zhang, Lucas, Hinton & Ba 2019): k fast steps forward, then the slow weights move part of the way.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { checkCount, failing, stateOfKind, stateTreeMatching } from "../core/elementwise.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { aBoolean, aNumber, aTransformation, optional, readOptions, required } from "../core/options.js";
import { copyLeaf } from "../core/leaf.js";
import { specOf, type GradientTransformation, type Step, type UpdateContext } from "../core/transform.js";
import { flatten, flattenLike, unflatten, type Tree } from "../core/tree.js";
import { treeAdd, treeScale, treeSub } from "../core/treeMath.js";

/**
 * State of {@link lookahead}: fast steps taken, the slow weights s (a tree like the params), and the fast
 * optimizer's state.
 */
export interface LookaheadState {
  readonly kind: "lookahead";
  readonly count: number;
  readonly slow: Tree;
  readonly inner: unknown;
}

/** The options of {@link lookahead}, named as optax's. */
export interface LookaheadOptions {
  /** k: fast steps between two synchronisations (a whole number ≥ 1). */
  readonly syncPeriod: number;
  /** α: how far the slow weights move towards the fast ones at a synchronisation (a number in [0, 1]). */
  readonly slowStepSize: number;
  /** Whether the fast optimizer's state restarts from `init` after each synchronisation (default false). */
  readonly resetState?: boolean;
}

/**
 * The params p are the fast weights; the slow weights s live in the state (optax keeps them beside the fast ones in
 * its `LookaheadParams`; larch's params stay one tree, so every step, chain and `applyStep` works unchanged).
 * With (u, σ) ← fast(g, σ, p) and a synchronisation at every k-th step (count mod k = k − 1):
 *
 *   no sync:  u′ = u,                  s unchanged
 *   sync:     d = (p + u) − s,  s ← s + α·d,  u′ = u − (1 − α)·d    (so p + u′ = s + α·d, the new slow weights)
 *
 * and with `resetState` σ ← fast.init(p) after a synchronisation (optax's `lookahead`, with the same operations in the
 * same order). At init s = a copy of p. The slow weights are the ones to evaluate: {@link lookaheadSlowParams}.
 * k must be a whole number ≥ 1 and α a number in [0, 1]. Needs the params.
 * @example
 * const opt = lookahead(adam({ lr: 1e-3 }), { syncPeriod: 5, slowStepSize: 0.5 });
 */
export const lookahead = <S>(wrapped: GradientTransformation<S>, options: LookaheadOptions): GradientTransformation<LookaheadState> => {
  const name = "lookahead";
  const fastRead = readOptions(name, { fast: wrapped }, { fast: required(aTransformation) });
  if (E.isLeft(fastRead)) return failing(name, {}, fastRead.left);
  const fast = fastRead.right.fast as GradientTransformation<S>;
  const o = readOptions(name, options, { syncPeriod: required(aNumber), slowStepSize: required(aNumber), resetState: optional(aBoolean, false) });
  if (E.isLeft(o)) return failing(name, {}, o.left);
  const k = o.right.syncPeriod;
  const alpha = o.right.slowStepSize;
  const reset = o.right.resetState;
  const hyperparams = { syncPeriod: k, slowStepSize: alpha, resetState: reset, inner: specOf(fast) };
  if (!(Number.isSafeInteger(k) && k >= 1))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid sync period: ${k} (must be a whole number >= 1)`));
  if (!(alpha >= 0 && alpha <= 1))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid slow step size: ${alpha} (must be a number in [0, 1])`));
  const update = (updates: Tree, state: LookaheadState, params?: Tree, context?: UpdateContext): E.Either<OptimizerError, Step<LookaheadState>> => {
    const s = stateOfKind<LookaheadState>(state, "lookahead");
    if (E.isLeft(s)) return s;
    const count = checkCount(name, s.right.count);
    if (E.isLeft(count)) return count;
    if (params === undefined) return E.left(optimizerError("MissingParams", `${name} needs the params: call update(updates, state, params)`));
    const p = flatten(params);
    if (E.isLeft(p)) return p;
    const slow = stateTreeMatching(name, s.right.slow, p.right);
    if (E.isLeft(slow)) return slow;
    const step = fast.update(updates, s.right.inner as S, params, context);
    if (E.isLeft(step)) return step;
    const [u, inner] = step.right;
    const sameType = flattenLike(p.right, u, ["params", "updates"]);
    if (E.isLeft(sameType)) return sameType;
    const t = count.right;
    if (t % k !== k - 1) return E.right([u, Object.freeze({ kind: "lookahead" as const, count: t + 1, slow: s.right.slow, inner })] as const);
    // synchronisation: d = (p + u) − s, s ← s + α·d, u′ = u − (1 − α)·d
    const d = E.flatMap((fastAfter: Tree) => treeSub(fastAfter, s.right.slow))(treeAdd(params, u));
    if (E.isLeft(d)) return d;
    const newSlow = E.flatMap((moved: Tree) => treeAdd(s.right.slow, moved))(treeScale(alpha, d.right));
    if (E.isLeft(newSlow)) return newSlow;
    const newU = E.flatMap((back: Tree) => treeSub(u, back))(treeScale(1 - alpha, d.right));
    if (E.isLeft(newU)) return newU;
    const nextInner = reset ? fast.init(params) : E.right(inner);
    if (E.isLeft(nextInner)) return nextInner;
    return E.right([newU.right, Object.freeze({ kind: "lookahead" as const, count: t + 1, slow: newSlow.right, inner: nextInner.right })] as const);
  };
  return Object.freeze({
    name,
    hyperparams,
    init: (params: Tree) => {
      const p = flatten(params);
      if (E.isLeft(p)) return p;
      const slow = unflatten(p.right.def, p.right.leaves.map(copyLeaf), p.right.paths); // s = p, a copy
      return E.map((innerState: S) => Object.freeze({ kind: "lookahead" as const, count: 0, slow, inner: innerState }))(fast.init(params));
    },
    update,
  });
};

/**
 * The slow weights of a {@link lookahead} state: the params to evaluate (optax's `params.slow`).
 * @example
 * const evalParams = lookaheadSlowParams(state); // Right(s)
 */
export const lookaheadSlowParams = (state: unknown): E.Either<OptimizerError, Tree> =>
  E.map((s: LookaheadState) => s.slow)(stateOfKind<LookaheadState>(state, "lookahead"));
