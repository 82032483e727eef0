/**
 * The example of docs/composing.md, a new optimizer in a few lines: LARS with Adam's moments in place of its
 * momentum. Checked against an independent float64 implementation of its equations on random trees, and checked
 * to be, character for character, the code the document shows.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { fc, test } from "@fast-check/vitest";
import { expect, it } from "vitest";
import {
  addWeightDecay,
  applyUpdates,
  chain,
  labelByPath,
  partition,
  scaleByAdam,
  scaleByLr,
  scaleByTrustRatio,
  type Schedule,
} from "larch";
import { gradsOf, paramsOf, treeCase, type TreeCase } from "./arbitraries.js";
import { at } from "../support/reference.js";
import { bitsOf, right } from "./bits.js";
import { norm, worstAgainstReference, type ReferenceStep } from "./independent.js";

// docs:begin larsAdam
/** The seed's LARS with Adam's moments in place of its momentum: u = −α·γ·adam(g + λp), γ = ‖p‖ / (‖g‖ + λ‖p‖). */
const larsAdam = (o: { lr: number | Schedule; weightDecay?: number; b1?: number; b2?: number; eps?: number }) =>
  chain(
    addWeightDecay(o.weightDecay ?? 0), // d = g + λp
    scaleByAdam({ b1: o.b1, b2: o.b2, eps: o.eps }), // d ← (m / (1 − β₁ᵗ)) / (√v / √(1 − β₂ᵗ) + ε), moments of d
    scaleByTrustRatio({ weightDecay: o.weightDecay ?? 0 }), // d ← γ·d, γ from the raw gradient g
    scaleByLr(o.lr), // u = −α·d
  );
// docs:end

const STEPS = 4;

interface Moments {
  m: number[];
  v: number[];
}

/** d = g + λw, m, v ← Adam's moments of d, γ = ‖w‖ / (‖g‖ + λ‖w‖) (1 where ‖w‖ or that is 0), w ← w − α·γ·adam(d). */
const larsAdamStep =
  (alpha: number, lambda: number, b1: number, b2: number, eps: number): ReferenceStep<Moments> =>
  (w, g, { m, v }, t) => {
    const d = g.map((gi, i) => gi + lambda * w[i]!);
    const m2 = d.map((di, i) => b1 * (m[i] ?? 0) + (1 - b1) * di);
    const v2 = d.map((di, i) => b2 * (v[i] ?? 0) + (1 - b2) * di * di);
    const wn = norm(w);
    const denom = norm(g) + lambda * wn;
    const gamma = wn === 0 || denom === 0 ? 1 : wn / denom;
    const step = m2.map((mi, i) => mi / (1 - b1 ** t) / (Math.sqrt(v2[i]!) / Math.sqrt(1 - b2 ** t) + eps));
    return [w.map((wi, i) => wi - alpha * gamma * step[i]!), { m: m2, v: v2 }];
  };

test.prop([treeCase(STEPS), fc.double({ min: 1e-3, max: 0.5, noNaN: true }), fc.constantFrom(0, 1e-3, 0.1)], { numRuns: 100 })(
  "larsAdam (the docs' example) follows its equations (float64, 1e-10)",
  (c, lr, weightDecay) => {
    const opt = larsAdam({ lr, weightDecay });
    expect(opt.fusable).toBeDefined(); // every member is elementwise: one pass per leaf
    const worst = worstAgainstReference(c, STEPS, opt, larsAdamStep(lr, weightDecay, 0.9, 0.999, 1e-8), () => ({ m: [], v: [] }));
    expect(worst).toBeLessThanOrEqual(1e-10);
  },
);

/** The leaves of a case whose path satisfies `keep`, as a case of its own. */
const only = (c: TreeCase, keep: (path: string) => boolean): TreeCase => Object.fromEntries(Object.entries(c).filter(([n]) => keep(n)));

test.prop([treeCase(3).filter((c) => Object.keys(c).some((n) => n.endsWith("bias")) && Object.keys(c).some((n) => !n.endsWith("bias")))], { numRuns: 40 })(
  "in parameter groups (the docs' partition), biases get larsAdam without decay and the rest with it",
  (c) => {
    const o = { lr: 0.05, weightDecay: 0.1 };
    const isBias = (path: string) => path.endsWith("bias");
    const opt = partition({ decay: larsAdam(o), noDecay: larsAdam({ ...o, weightDecay: 0 }) }, (params) =>
      labelByPath(params, (path) => (isBias(path) ? "noDecay" : "decay")),
    );
    // each group alone, as its own tree
    const groups = [
      [only(c, (n) => !isBias(n)), larsAdam(o)],
      [only(c, isBias), larsAdam({ ...o, weightDecay: 0 })],
    ] as const;
    let params = paramsOf(c);
    let state = right(opt.init(params));
    const alone = groups.map(([g, t]) => ({ g, t, p: paramsOf(g), s: right(t.init(paramsOf(g))) }));
    for (let step = 0; step < 3; step++) {
      const [u, next] = right(opt.update(gradsOf(c, step), state, params));
      [params, state] = [right(applyUpdates(params, u)), next];
      for (const a of alone) {
        const [ua, na] = right(a.t.update(gradsOf(a.g, step), a.s, a.p));
        [a.p, a.s] = [right(applyUpdates(a.p, ua)), na];
        for (const n of Object.keys(a.g)) expect(bitsOf(at(params, n))).toBe(bitsOf(at(a.p, n)));
      }
    }
  },
);

it("docs/composing.md shows exactly this code", () => {
  const source = readFileSync(fileURLToPath(import.meta.url), "utf8");
  const block = source.slice(source.indexOf("// docs:begin larsAdam\n") + "// docs:begin larsAdam\n".length, source.indexOf("// docs:end"));
  const doc = readFileSync(fileURLToPath(new URL("../../docs/composing.md", import.meta.url)), "utf8");
  expect(block.length).toBeGreaterThan(100);
  expect(doc).toContain(block);
});
