/**
 * STAND-IN — DELETE AT MERGE. Collects the per-step, per-leaf numbers of the report (‖p‖, ‖g‖, γ, ‖update‖,
 * ‖momentum‖) from the stand-in optimizer's state, until the real recording (issue 3) provides them.
 * At merge, `main.ts` builds its ReportData from the recording instead.
 * @module
 */
import type { LeafStepStats, ReportLeaf } from "../../src/report/report-data.js";
import { type Leaf, type Tree, leavesWithPaths, norm } from "./standin.js";

/** Every momentum buffer in a stand-in state (LARS states nested anywhere), by leaf path. */
const momentumBuffers = (state: unknown, into = new Map<string, Leaf>()): Map<string, Leaf> => {
  if (typeof state !== "object" || state === null) return into;
  const s = state as { kind?: unknown; trace?: Record<string, Leaf>; inner?: Record<string, unknown> };
  if (s.kind === "lars" && s.trace) for (const [path, m] of Object.entries(s.trace)) into.set(path, m);
  if (s.kind === "partition" && s.inner) for (const inner of Object.values(s.inner)) momentumBuffers(inner, into);
  return into;
};

/** The leaves of a tree as the report lists them. */
export const reportLeaves = (params: Tree): ReportLeaf[] =>
  leavesWithPaths(params).map(([path, leaf]) => ({
    path,
    shape: leaf.shape.slice(),
    dtype: leaf.data instanceof Float32Array ? "float32" : "float64",
  }));

/**
 * One step's numbers per leaf: ‖p‖ and ‖g‖ before the step, γ = ‖p‖ / (‖g‖ + wd·‖p‖) (1 when a norm is 0),
 * ‖u‖ of the update and ‖m‖ of the momentum after the step. `weightDecayOf(path)` gives each leaf's wd.
 */
export const leafStepStats = (
  params: Tree,
  grads: Tree,
  updates: Tree,
  stateAfter: unknown,
  weightDecayOf: (path: string) => number,
): LeafStepStats[] => {
  const gs = new Map(leavesWithPaths(grads));
  const us = new Map(leavesWithPaths(updates));
  const ms = momentumBuffers(stateAfter);
  return leavesWithPaths(params).map(([path, p]) => {
    const pn = norm(p);
    const g = gs.get(path);
    const u = us.get(path);
    const m = ms.get(path);
    const gn = g === undefined ? Number.NaN : norm(g);
    const denom = gn + weightDecayOf(path) * pn;
    return {
      paramNorm: pn,
      gradNorm: gn,
      trustRatio: pn === 0 || denom === 0 ? 1 : pn / denom,
      updateNorm: u === undefined ? Number.NaN : norm(u),
      momentumNorm: m === undefined ? null : norm(m),
    };
  });
};
