/**
 * larsPaper against an independent float64 implementation of Algorithm 1 of You, Gitman & Ginsburg 2017
 * ("Large Batch Training of Convolutional Networks"), on random trees.
 */
import { fc, test } from "@fast-check/vitest";
import { afterAll, expect } from "vitest";
import { larsPaper, polynomialDecay } from "larch";
import { treeCase } from "./arbitraries.js";
import { norm, worstAgainstReference, type ReferenceStep } from "./independent.js";

let worstSeen = 0;
afterAll(() => console.log(`larsPaper vs Algorithm 1: worst relative error over every run: ${worstSeen.toExponential(2)}`));

const STEPS = 5;

/**
 * λ = η‖w‖ / (‖∇L(w)‖ + β‖w‖)   (taken as 1 where ‖w‖ or the denominator is 0),
 * v ← m·v + γₜ·λ·(∇L(w) + βw),  w ← w − v,  with γₜ the global rate at step t (v₀ = 0).
 */
const larsStep =
  (gamma: (t: number) => number, m: number, beta: number, eta: number): ReferenceStep<number[]> =>
  (w, g, v, t) => {
    const wn = norm(w);
    const denom = norm(g) + beta * wn;
    const local = wn === 0 || denom === 0 ? 1 : (eta * wn) / denom;
    const v2 = w.map((wi, i) => m * (v[i] ?? 0) + gamma(t - 1) * local * (g[i]! + beta * wi));
    return [w.map((wi, i) => wi - v2[i]!), v2];
  };

test.prop(
  [
    treeCase(STEPS),
    fc.double({ min: 0.01, max: 5, noNaN: true }),
    fc.constantFrom(0, 0.5, 0.9),
    fc.constantFrom(0, 5e-4, 0.1),
    fc.constantFrom(0.001, 0.02, 1),
    fc.boolean(),
  ],
  { numRuns: 150 },
)("larsPaper follows Algorithm 1 of the LARS paper step by step (float64, 1e-10)", (c, lr, momentum, weightDecay, trustCoefficient, decay) => {
  // the paper's policy γₜ = γ₀(1 − t/T)², or a constant γ₀
  const schedule = decay ? polynomialDecay({ init: lr, power: 2, totalSteps: STEPS + 2 }) : undefined;
  const gamma = (t: number) => (decay ? lr * (1 - t / (STEPS + 2)) ** 2 : lr);
  const opt = larsPaper({ lr: schedule ?? lr, momentum, weightDecay, trustCoefficient });
  const worst = worstAgainstReference(c, STEPS, opt, larsStep(gamma, momentum, weightDecay, trustCoefficient), () => []);
  worstSeen = Math.max(worstSeen, worst);
  expect(worst).toBeLessThanOrEqual(1e-10);
});
