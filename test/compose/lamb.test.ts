/**
 * lamb against an independent float64 implementation of LAMB as published (You et al. 2019, "Large Batch
 * Optimization for Deep Learning: Training BERT in 76 minutes", Algorithm 2, with φ the identity and ε added
 * to √v̂ as in the paper), on random trees.
 */
import { fc, test } from "@fast-check/vitest";
import { afterAll, expect } from "vitest";
import { lamb } from "larch";
import { treeCase } from "./arbitraries.js";
import { norm, worstAgainstReference, type ReferenceStep } from "./independent.js";

let worstSeen = 0;
afterAll(() => console.log(`lamb vs the published LAMB: worst relative error over every run: ${worstSeen.toExponential(2)}`));

const STEPS = 4;

interface Moments {
  m: number[];
  v: number[];
}

/**
 * mₜ = β₁mₜ₋₁ + (1 − β₁)gₜ,  vₜ = β₂vₜ₋₁ + (1 − β₂)gₜ²,  m̂ = mₜ/(1 − β₁ᵗ),  v̂ = vₜ/(1 − β₂ᵗ),
 * r = m̂/(√v̂ + ε),  x ← x − η·(‖x‖ / ‖r + λx‖)·(r + λx), the ratio taken as 1 where a norm is 0.
 */
const lambStep =
  (eta: number, b1: number, b2: number, eps: number, lambda: number): ReferenceStep<Moments> =>
  (x, g, { m, v }, t) => {
    const m2 = g.map((gi, i) => b1 * (m[i] ?? 0) + (1 - b1) * gi);
    const v2 = g.map((gi, i) => b2 * (v[i] ?? 0) + (1 - b2) * gi * gi);
    const r = m2.map((mi, i) => mi / (1 - b1 ** t) / (Math.sqrt(v2[i]! / (1 - b2 ** t)) + eps));
    const d = r.map((ri, i) => ri + lambda * x[i]!);
    const xn = norm(x);
    const dn = norm(d);
    const ratio = xn === 0 || dn === 0 ? 1 : xn / dn;
    return [x.map((xi, i) => xi - eta * ratio * d[i]!), { m: m2, v: v2 }];
  };

test.prop(
  [
    treeCase(STEPS),
    fc.double({ min: 1e-4, max: 0.1, noNaN: true }),
    fc.constantFrom(0.9, 0.8, 0.5),
    fc.constantFrom(0.999, 0.99),
    fc.constantFrom(1e-6, 1e-3, 0.1),
    fc.constantFrom(0, 0.01, 0.1),
  ],
  { numRuns: 150 },
)("lamb follows the published LAMB update step by step (float64, 1e-10)", (c, lr, b1, b2, eps, weightDecay) => {
  const worst = worstAgainstReference(c, STEPS, lamb({ lr, b1, b2, eps, weightDecay }), lambStep(lr, b1, b2, eps, weightDecay), () => ({ m: [], v: [] }));
  worstSeen = Math.max(worstSeen, worst);
  expect(worst).toBeLessThanOrEqual(1e-10);
});
