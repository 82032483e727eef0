/** The library's elementwise pieces with random hyper-parameters, for properties over random chains. */
import fc from "fast-check";
import * as E from "fp-ts/lib/Either.js";
import {
  addWeightDecay,
  clipByBlockRms,
  clipByGlobalNorm,
  ema,
  identity,
  scale,
  scaleByAdam,
  scaleByFactoredRms,
  scaleByLr,
  scaleByParamBlockRms,
  scaleByTrustRatio,
  traceMomentum,
  flatten,
  type GradientTransformation,
  type Leaf,
  type Tree,
} from "larch";

/** A named maker of one transformation (named so a counterexample says which chain failed). */
export interface Piece {
  readonly name: string;
  readonly make: () => GradientTransformation<any>;
}

/** One of addWeightDecay, traceMomentum, scaleByAdam, scaleByLr (a schedule), scaleByTrustRatio, identity. */
export const libraryPieceArb: fc.Arbitrary<Piece> = fc.oneof(
  fc.double({ min: 0, max: 0.1, noNaN: true }).map((wd) => ({ name: `decay(${wd})`, make: () => addWeightDecay(wd) })),
  fc
    .record({ momentum: fc.constantFrom(0, 0.5, 0.9), dampening: fc.constantFrom(0, 0.1), nesterov: fc.boolean() })
    .map((o) => ({ ...o, nesterov: o.nesterov && o.momentum > 0 && o.dampening === 0 }))
    .map((o) => ({ name: `trace(${JSON.stringify(o)})`, make: () => traceMomentum(o) })),
  fc
    .record({ b1: fc.constantFrom(0, 0.9), b2: fc.constantFrom(0.5, 0.999), eps: fc.constantFrom(0, 1e-8, 1e-3) })
    .map((o) => ({ name: `adam(${JSON.stringify(o)})`, make: () => scaleByAdam(o) })),
  fc.double({ min: 0, max: 2, noNaN: true }).map((lr) => ({ name: `lr(${lr})`, make: () => scaleByLr((t: number) => lr / (t + 1)) })),
  fc.double({ min: 0, max: 0.1, noNaN: true }).map((wd) => ({ name: `trust(${wd})`, make: () => scaleByTrustRatio({ weightDecay: wd }) })),
  fc.constant({ name: "identity", make: () => identity() }),
);

/**
 * A closure that is not fusable and keeps what a step must not overwrite: its state holds the params it was given
 * (a donating step may not reuse their storage), and it returns the updates it got, the same leaves (u′ = u).
 */
export const keepParams = (): GradientTransformation<{ kind: "keepParams"; last: readonly Leaf[] }> => {
  const leaves = (params: Tree | undefined) => (params === undefined ? [] : E.getOrElseW(() => [])(E.map((f: { leaves: readonly Leaf[] }) => f.leaves)(flatten(params))));
  return Object.freeze({
    name: "keepParams",
    hyperparams: {},
    init: (params: Tree) => E.right({ kind: "keepParams" as const, last: leaves(params) }), // the params' own leaves, in leaf order
    update: (updates: Tree, state: { kind: "keepParams"; last: readonly Leaf[] }, params?: Tree) =>
      E.right([updates, { kind: "keepParams" as const, last: params === undefined ? state.last : leaves(params) }] as const),
  });
};

/**
 * The library's pieces that are not fusable (whole-leaf reductions: adafactor's factored second moment, its block-rms
 * clip, a global-norm clip) and a closure that holds the params, besides adafactor's elementwise tail pieces.
 */
export const closurePieceArb: fc.Arbitrary<Piece> = fc.oneof(
  fc
    .record({ minDimSizeToFactor: fc.constantFrom(1, 2, 4), decayRate: fc.constantFrom(0.8, 0.5), factored: fc.boolean() })
    .map((o) => ({ name: `factoredRms(${JSON.stringify(o)})`, make: () => scaleByFactoredRms(o) })),
  fc.constantFrom(0.01, 0.3, 1).map((d) => ({ name: `blockRms(${d})`, make: () => clipByBlockRms(d) })),
  fc.constantFrom(0.05, 1).map((c) => ({ name: `globalNorm(${c})`, make: () => clipByGlobalNorm(c) })),
  fc.constant({ name: "keepParams", make: keepParams }),
  fc.constant({ name: "paramBlockRms", make: () => scaleByParamBlockRms() }),
  fc.constantFrom(0, 0.9).map((decay) => ({ name: `ema(${decay})`, make: () => ema({ decay, debias: false }) })),
  fc.constant({ name: "scale(-1)", make: () => scale(-1) }),
);

/** Chains' members: the elementwise pieces and those that are not, mixed (runs of fusable members between closures). */
export const mixedPieceArb: fc.Arbitrary<Piece> = fc.oneof(libraryPieceArb, closurePieceArb);
