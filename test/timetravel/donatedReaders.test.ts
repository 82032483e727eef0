/**
 * Every reader of a state refuses one that was donated to a step (issue 12): its storage may hold the next step's
 * values. stepStats read a donated state's momentum buffers and learning rate; the recorder stepped a custom
 * transformation (whose update does not check) on a donated state.
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyStep, lars, openRecording, readRecording, sgd, stepStats, type GradientTransformation, type Leaf, type Tree } from "larch";

const tree = (xs: number[]) => ({ w: ndarray(Float32Array.from(xs), [xs.length]) as Leaf });
const dir = mkdtempSync(join(tmpdir(), "larch-donated-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** One donating step of `opt` from its init: the old (now dead) state and params, and the step's results. */
const donatedStep = <S>(opt: GradientTransformation<S>) => {
  const params = tree([1, 2, 3]);
  const grads = tree([0.1, -0.2, 0.3]);
  const state = (opt.init(params) as E.Right<S>).right;
  const stepped = applyStep(opt, grads, state, params, { donate: true });
  if (E.isLeft(stepped)) throw new Error(stepped.left.message);
  const [newParams, newState] = stepped.right as unknown as readonly [Tree, S];
  return { params, grads, state, newParams, newState };
};

describe("a donated state is refused by its readers", () => {
  it("stepStats: StateReused for a donated state (it read the momentum the next step wrote)", () => {
    const opt = lars({ lr: 0.1, momentum: 0.9 });
    const { grads, state, newParams, newState } = donatedStep(opt);
    const u = (opt.update(grads, newState, newParams) as E.Right<readonly [Tree, unknown]>).right[0];
    expect(E.isRight(stepStats(newParams, grads, u, newState))).toBe(true);
    const stats = stepStats(newParams, grads, u, state);
    expect(E.isLeft(stats) && stats.left.kind).toBe("StateReused");
  });

  it("stepStats walks a state nested 10⁵ deep or with a cycle without a RangeError", () => {
    const g = tree([1]);
    let deep: unknown = { kind: "scaleByLr", lr: 0.5, count: 1 };
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const stats = stepStats(g, g, g, deep);
    expect(E.isRight(stats) && stats.right.lr).toBe(0.5);
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(E.isRight(stepStats(g, g, g, cyclic))).toBe(true);
  });

  it("the recorder: StateReused before a custom transformation's update reads a donated state, and nothing is written", () => {
    const inner = sgd({ lr: 0.1, momentum: 0.9 });
    let reads = 0;
    // a custom transformation whose update does not check donation (it hands the state to sgd's only on its own copy)
    const custom: GradientTransformation<unknown> = {
      name: "custom",
      hyperparams: {},
      init: (p) => inner.init(p),
      update: (u, s, p) => (reads++, inner.update(u, s as never, p)),
    };
    const { params, grads, state, newParams } = donatedStep(inner);
    const path = join(dir, "donated.larch");
    const rec = openRecording(path, custom, newParams, {});
    if (E.isLeft(rec)) throw new Error(rec.left.message);
    const r = rec.right.step(grads, state, newParams);
    expect(E.isLeft(r) && r.left).toMatchObject({ kind: "StateReused", step: 0 });
    expect(reads).toBe(0);
    const r2 = rec.right.step(grads, (custom.init(newParams) as E.Right<unknown>).right, params); // donated params
    expect(E.isLeft(r2) && r2.left.kind).toBe("StateReused");
    expect(E.isRight(rec.right.close())).toBe(true);
    const read = readRecording(path);
    expect(E.isRight(read) && read.right.branches.get(0)?.endStep).toBe(0);
  });
});
