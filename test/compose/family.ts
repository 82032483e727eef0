/** Loading the optax fixtures of issue 14 (test/fixtures/optax-family-*.json, scripts/fixtures/gen_optax_family.py). */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/** The cases of test/fixtures/optax-family-`group`.json. */
export const loadFamily = <C>(group: string): C[] => {
  const file = fileURLToPath(new URL(`../fixtures/optax-family-${group}.json`, import.meta.url));
  const fixture = JSON.parse(readFileSync(file, "utf8")) as { format: string; cases: C[] };
  if (fixture.format !== "optax-family/1") throw new Error(`${file}: format ${fixture.format}, expected optax-family/1`);
  return fixture.cases;
};

import * as E from "fp-ts/lib/Either.js";
import { expect } from "vitest";
import { applyUpdates, denseValues, type Dtype, type GradientTransformation, type Tree } from "larch";
import { at, makeLeaf, nest } from "../support/reference.js";
import { relError } from "./replay.js";

/** The tolerances: |larch − optax| / max(1, |optax|) over every compared value. */
export const FAMILY_TOLERANCE = { float32: 1e-4, float64: 1e-9 } as const;

/** A trajectory case of an optax-family fixture: values row-major, NaN written as null. */
export interface TrajectoryCase {
  readonly name: string;
  readonly dtype: Dtype;
  readonly steps: number;
  readonly options?: Record<string, any>;
  readonly optax: any;
  readonly params: Record<string, { shape: number[]; data: number[] }>;
  readonly grads: Record<string, (number | null)[]>[];
  readonly trajectory: { params: Record<string, number[]>; state: any; [extra: string]: any }[];
}

/** Values to compare after a step: [larch's, optax's] pairs. */
export type Probe = (step: { readonly t: number; readonly state: unknown; readonly params: Tree; readonly updates: Tree }) => [ArrayLike<number>, readonly number[]][];

/** A tree of the case's leaves (dotted names nest: "fc.weight" → { fc: { weight } }). */
export const caseTree = (c: TrajectoryCase, values: (name: string) => readonly (number | null)[]): Tree =>
  nest(Object.fromEntries(Object.keys(c.params).map((n) => [n, makeLeaf(c.dtype, c.params[n]!.shape, values(n).map((v) => v ?? NaN))])));

/** One leaf's values of a tree. */
export const leafValues = (tree: Tree, name: string): ArrayLike<number> => denseValues(at(tree, name));

/**
 * Every step of a case through `opt` (update, then applyUpdates): the params after each step against optax's, and
 * each probe's pairs. Returns the worst error |x − ref| / max(1, |ref|).
 */
export const replayFamily = (c: TrajectoryCase, opt: GradientTransformation<any>, probe?: Probe): number => {
  const names = Object.keys(c.params);
  let params = caseTree(c, (n) => c.params[n]!.data);
  const init = opt.init(params);
  if (E.isLeft(init)) throw new Error(`${c.name}: init: ${init.left.message}`);
  let state: unknown = init.right;
  let worst = 0;
  for (let t = 0; t < c.steps; t++) {
    const grads = caseTree(c, (n) => c.grads[t]![n]!);
    const step = opt.update(grads, state, params);
    if (E.isLeft(step)) throw new Error(`${c.name} at step ${t}: ${step.left.message}`);
    const next = applyUpdates(params, step.right[0]);
    if (E.isLeft(next)) throw new Error(`${c.name} at step ${t}: ${next.left.message}`);
    [params, state] = [next.right, step.right[1]];
    const ref = c.trajectory[t]!;
    for (const n of names) worst = Math.max(worst, relError(leafValues(params, n), ref.params[n]!));
    for (const [mine, theirs] of probe?.({ t, state, params, updates: step.right[0] }) ?? []) worst = Math.max(worst, relError(mine, theirs));
  }
  return worst;
};

/** Each leaf of a state tree of larch's beside optax's record of leaf name to values, for a {@link Probe}. */
export const eachLeaf = (c: TrajectoryCase, mine: Tree, theirs: Record<string, number[]>): [ArrayLike<number>, number[]][] =>
  Object.keys(c.params).map((n) => [leafValues(mine, n), theirs[n]!]);

/** A case's worst relative error: within the dtype's tolerance, and printed (the closing notes quote it). */
export const reportWorst = (c: TrajectoryCase, worst: number): void => {
  expect(worst).toBeLessThanOrEqual(FAMILY_TOLERANCE[c.dtype]);
  console.log(`${c.name}: worst relative error ${worst.toExponential(2)}`);
};
