/**
 * muon against optax 0.2.8's contrib.muon (test/fixtures/optax-family-muon.json, scripts/fixtures/gen_optax_family.py):
 * the fixture's 2-D leaves are in larch's layout [out, in] and optax ran on their transposes ([in, out], its
 * layout), so the same math is compared. Each step: the params, then both chains' states (the matrices' momentum,
 * Adam's moments). Tolerance 1e-4 (float32) and 1e-9 (float64) relative to max(1, |ref|).
 */
import * as E from "fp-ts/lib/Either.js";
import ndarray from "ndarray";
import { describe, expect, it } from "vitest";
import {
  applyStep,
  denseValues,
  muon,
  muonLabels,
  scaleByMuon,
  scaleByShape,
  type ChainState,
  type Leaf,
  type PartitionState,
  type ScaleByMuonState,
  type ScaleByNadamState,
  type Tree,
} from "larch";
import { FAMILY_TOLERANCE, caseTree, loadFamily, replayFamily, type TrajectoryCase } from "./family.js";

/** The leaves `names` of a partition group's flat state tree (keyed by full path) against optax's record. */
const group = (mine: Tree, theirs: Record<string, number[]>, names: readonly string[]): [ArrayLike<number>, number[]][] =>
  names.map((n) => [denseValues((mine as Record<string, Leaf>)[n]!), theirs[n]!]);

const right = <A>(x: E.Either<{ message: string }, A>): A => {
  if (E.isLeft(x)) throw new Error(x.left.message);
  return x.right;
};

describe("muon against optax.contrib.muon", () => {
  for (const c of loadFamily<TrajectoryCase & { layout: string }>("muon"))
    it(c.name, () => {
      expect(c.layout).toBe("[out, in]");
      const o = c.options!;
      const opt = muon({
        lr: o.learning_rate, nsSteps: o.ns_steps, beta: o.beta, eps: o.eps, weightDecay: o.weight_decay, nesterov: o.nesterov,
        adamB1: o.adam_b1, adamB2: o.adam_b2, adamEpsRoot: o.adam_eps_root, adamWeightDecay: o.adam_weight_decay,
      });
      const names = Object.keys(c.params);
      const matrices = names.filter((n) => c.params[n]!.shape.length === 2);
      const others = names.filter((n) => c.params[n]!.shape.length !== 2);
      const worst = replayFamily(c, opt, ({ t, state }) => {
        const p = (state as ChainState)[0] as PartitionState;
        expect(Object.keys(p.inner)).toEqual(["adam", "muon"]);
        const m = (p.inner["muon"] as ChainState)[0] as ScaleByMuonState;
        const a = (p.inner["adam"] as ChainState)[0] as ScaleByNadamState;
        const ref = c.trajectory[t]!.state.inner_states;
        expect([m.count, a.count]).toEqual([ref.muon.inner_state[0].count, ref.adam.inner_state[0].count]);
        return [
          ...group(m.mu, ref.muon.inner_state[0].mu, matrices),
          ...group(a.mu, ref.adam.inner_state[0].mu, others),
          ...group(a.nu, ref.adam.inner_state[0].nu, others),
        ];
      });
      expect(worst).toBeLessThanOrEqual(FAMILY_TOLERANCE[c.dtype]);
      console.log(`${c.name}: worst relative error ${worst.toExponential(2)}`);
    });

  it("routes 2-D leaves to Newton–Schulz and the rest to Adam; applyStep gives update's bits", () => {
    const c = loadFamily<TrajectoryCase>("muon")[0]!;
    const params = caseTree(c, (n) => c.params[n]!.data);
    expect(muonLabels(params)).toEqual({ conv: { weight: "adam", bias: "adam" }, fc: { weight: "muon", bias: "adam" }, head: { weight: "muon" } });
    const opt = muon({ lr: 0.02 });
    const grads = caseTree(c, (n) => c.grads[0]![n]!);
    const s0 = right(opt.init(params));
    const [updates, s1] = right(opt.update(grads, s0, params));
    const [stepped, s1b] = right(applyStep(opt, grads, s0, params));
    const p = (s1b as ChainState)[0] as PartitionState;
    expect(p.labels).toEqual((s1 as ChainState as [PartitionState])[0].labels);
    const w = (t: Tree, n: string) => Array.from(denseValues((t as any)[n.split(".")[0]!][n.split(".")[1]!]));
    for (const n of Object.keys(c.params))
      expect(w(stepped, n)).toEqual(w(params, n).map((v, i) => (c.dtype === "float32" ? Math.fround(v + w(updates, n)[i]!) : v + w(updates, n)[i]!)));
  });
});

describe("scaleByMuon and scaleByShape", () => {
  const leaf = (shape: number[], values: number[]) => ndarray(Float64Array.from(values), shape) as Leaf;
  it("scaleByShape: √max(1, out / in) with fan-in the product of the other extents; rank < 2 refused", () => {
    const t = scaleByShape();
    const u = { wide: leaf([2, 8], new Array(16).fill(1)), tall: leaf([8, 2], new Array(16).fill(1)), conv: leaf([12, 1, 1, 3], new Array(36).fill(1)) };
    const [out] = right(t.update(u, right(t.init(u))));
    expect(denseValues((out as any).wide)[0]).toBe(1);
    expect(denseValues((out as any).tall)[0]).toBe(2);
    expect(denseValues((out as any).conv)[0]).toBe(2);
    const bad = t.update({ b: leaf([3], [1, 2, 3]) }, right(t.init({ b: leaf([3], [1, 2, 3]) })));
    expect(E.isLeft(bad) && [bad.left.kind, bad.left.path]).toEqual(["ShapeMismatch", "b"]);
  });

  it("scaleByMuon refuses a leaf that is not a matrix, naming it, and junk options", () => {
    const t = scaleByMuon();
    const tree = { w: leaf([2, 2], [1, 2, 3, 4]), b: leaf([2], [1, 2]) };
    const r = t.update(tree, right(t.init(tree)));
    expect(E.isLeft(r) && [r.left.kind, r.left.path]).toEqual(["ShapeMismatch", "b"]);
    for (const bad of [{ beta: 1 }, { nsSteps: 2.5 }, { eps: -1 }, { nesterov: "yes" }]) {
      const f = scaleByMuon(bad as never);
      const i = f.init(tree);
      expect(E.isLeft(i) && i.left.kind).toBe("InvalidOption");
      const m = muon({ lr: 0.1, ...bad } as never);
      const mi = m.init(tree);
      expect(E.isLeft(mi) && mi.left.kind).toBe("InvalidOption");
      expect(m.update(tree, undefined as never)).toEqual(mi);
    }
  });
});
