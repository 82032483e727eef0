/** Shared by the tests of lars()'s compiled step: the generic path to compare with, and exact comparisons. */
import { expect } from "vitest";
import {
  addWeightDecay,
  chain,
  denseValues,
  isLeaf,
  leafOf,
  scaleByLr,
  scaleByTrustRatio,
  traceMomentum,
  type ChainState,
  type GradientTransformation,
  type LarsOptions,
} from "larch";
import { bitsOf } from "../compose/bits.js";

/** The chain lars() is, built by hand (the same members: what its steps are compared with). */
export const handChain = (o: LarsOptions): GradientTransformation<ChainState> => {
  const { lr, momentum = 0, dampening = 0, weightDecay = 0, nesterov = false, scaleClip } = o;
  return chain(
    addWeightDecay(weightDecay),
    traceMomentum({ momentum, dampening, nesterov }),
    scaleByTrustRatio(scaleClip ? { weightDecay, scaleClip } : { weightDecay }),
    scaleByLr(lr),
  );
};

/** A copy of x with every NaN of every leaf canonical (WebAssembly does not fix NaN payloads), for bitsOf. */
export const nanCanonical = (x: unknown): unknown => {
  if (isLeaf(x)) {
    const v = Float32Array.from(denseValues(x) as Float32Array);
    for (let i = 0; i < v.length; i++) if (Number.isNaN(v[i])) v[i] = NaN;
    return leafOf(v, x.shape);
  }
  if (Array.isArray(x)) return x.map(nanCanonical);
  if (typeof x === "object" && x !== null) return Object.fromEntries(Object.entries(x).map(([k, v]) => [k, nanCanonical(v)]));
  return x;
};
export const sameBits = (a: unknown, b: unknown) => expect(bitsOf(nanCanonical(a))).toBe(bitsOf(nanCanonical(b)));

