/** The library's elementwise pieces with random hyper-parameters, for properties over random chains. */
import fc from "fast-check";
import { addWeightDecay, identity, scaleByAdam, scaleByLr, scaleByTrustRatio, traceMomentum, type GradientTransformation } from "larch";

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
