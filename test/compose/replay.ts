/** Replays a fixture case (test/fixtures/*.json, layout of scripts/fixtures) through a larch optimizer, step by step. */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as E from "fp-ts/lib/Either.js";
import { expect } from "vitest";
import { applyUpdates, denseValues, type Dtype, type GradientTransformation, type Leaf, type Tree } from "larch";
import { at, makeLeaf, nest } from "../support/reference.js";

export const TOLERANCE = { float32: 1e-4, float64: 1e-10 } as const;

export interface FixtureCase {
  readonly name: string;
  readonly optimizer: string;
  readonly dtype: Dtype;
  readonly options: Record<string, any>;
  readonly steps: number;
  readonly params: Record<string, { shape: number[]; data: number[] }>;
  readonly grads: Record<string, number[]>[];
  readonly trajectory: { params: Record<string, number[]>; state: Record<string, any> }[];
}

export const loadFixture = (file: string): FixtureCase[] =>
  (JSON.parse(readFileSync(fileURLToPath(new URL(`../fixtures/${file}`, import.meta.url)), "utf8")) as { cases: FixtureCase[] }).cases;

/** max over elements of |x − ref| / max(1, |ref|) (Infinity for a NaN or a length mismatch) */
export const relError = (actual: ArrayLike<number>, expected: readonly number[]): number => {
  if (actual.length !== expected.length) return Infinity;
  let worst = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!));
    worst = Number.isNaN(e) ? Infinity : Math.max(worst, e);
  }
  return worst;
};

/** The reference's state after a step, one leaf's values (or a counter as [n]), as larch keeps it: `(state, updates, leafName) => values`. */
export type StateProbe = (state: unknown, updates: Tree, leaf: string) => ArrayLike<number> | undefined;

/**
 * Runs every step of a case: params after each step, and each probed state value, against the reference.
 * Returns the worst relative error over all of them.
 */
export const replay = (c: FixtureCase, opt: GradientTransformation<any>, probes: Record<string, StateProbe>): number => {
  const names = Object.keys(c.params);
  let params: Tree = nest(Object.fromEntries(names.map((n) => [n, makeLeaf(c.dtype, c.params[n]!.shape, c.params[n]!.data)])));
  const init = opt.init(params);
  if (E.isLeft(init)) throw new Error(init.left.message);
  let state = init.right;
  let worst = 0;
  for (let t = 0; t < c.steps; t++) {
    const grads = nest(Object.fromEntries(names.map((n) => [n, makeLeaf(c.dtype, c.params[n]!.shape, c.grads[t]![n]!)])));
    const step = opt.update(grads, state, params);
    if (E.isLeft(step)) throw new Error(step.left.message);
    const next = applyUpdates(params, step.right[0]);
    if (E.isLeft(next)) throw new Error(next.left.message);
    [params, state] = [next.right, step.right[1]];
    const ref = c.trajectory[t]!;
    for (const n of names) worst = Math.max(worst, relError(denseValues(at(params, n)), ref.params[n]!));
    for (const [key, probe] of Object.entries(probes)) {
      const perLeaf = ref.state[key] as Record<string, number[] | number> | undefined;
      expect(perLeaf, `${c.name}: reference state ${key} at step ${t}`).toBeDefined();
      for (const n of names) {
        const mine = probe(state, step.right[0], n);
        expect(mine, `${c.name}: ${key} of ${n} at step ${t}`).toBeDefined();
        const expected = perLeaf![n]!;
        worst = Math.max(worst, relError(mine!, typeof expected === "number" ? [expected] : expected));
      }
    }
  }
  return worst;
};

/** A leaf of a nested tree, as dense values. */
export const valuesAt = (tree: Tree, name: string): ArrayLike<number> => denseValues(at(tree, name) as Leaf);
