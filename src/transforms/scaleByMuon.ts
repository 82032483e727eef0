/**
 * Muon's direction for a weight matrix (Jordan et al. 2024): the momentum of the gradient, orthogonalised by
 * Newton–Schulz iterations.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { defineElementwise } from "../core/defineElementwise.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, showPath, type OptimizerError } from "../core/errors.js";
import type { Leaf } from "../core/leaf.js";
import { aBoolean, aNumber, optional, readOptions } from "../core/options.js";
import type { GradientTransformation, Step, UpdateContext } from "../core/transform.js";
import { flatten, unflatten, type Tree } from "../core/tree.js";
import { momentOptionsProblem } from "./momentOptions.js";
import { newtonSchulz } from "./newtonSchulz.js";

/** Options of {@link scaleByMuon}, named and defaulted as optax's `contrib.scale_by_muon`. */
export interface ScaleByMuonOptions {
  /** β, the momentum's decay, in [0, 1) (default 0.95). */
  readonly beta?: number;
  /** Newton–Schulz iterations, a whole number ≥ 0 (default 5), with Muon's coefficients (3.4445, −4.775, 2.0315). */
  readonly nsSteps?: number;
  /** ε ≥ 0 of the Frobenius scaling before the iterations (default 1e-8). */
  readonly eps?: number;
  /** Nesterov's look-ahead on the momentum (default true). */
  readonly nesterov?: boolean;
}

/** State of {@link scaleByMuon}: steps taken, and the momentum m (leaf dtypes). */
export interface ScaleByMuonState {
  readonly kind: "scaleByMuon";
  readonly count: number;
  readonly mu: Tree;
}

/** The momentum and its bias-corrected look-ahead, per element (the elementwise half of the step). */
const momentum = (beta: number, nesterov: boolean, hyperparams: ScaleByMuonOptions): GradientTransformation<ScaleByMuonState> =>
  defineElementwise<ScaleByMuonState>({
    name: "scaleByMuon",
    hyperparams: hyperparams as { readonly [key: string]: number | boolean },
    state: { kind: "scaleByMuon", count: true, trees: { mu: true } },
    bodies: {
      plain: { mu: "c * u + b * mu", u: "mu' / bc" }, // m ← (1 − β)·u + β·m;  m̂ = m / (1 − βᵗ)
      nesterov: { mu: "c * u + b * mu", u: "b * (mu' / bcNext) + c * (u / bc)" }, // m̂ = β·m / (1 − βᵗ⁺¹) + (1 − β)·u / (1 − βᵗ)
    },
    step: (count) => {
      const t = count + 1;
      return E.right({ body: nesterov ? "nesterov" : "plain", scalars: { b: beta, c: 1 - beta, bc: 1 - Math.pow(beta, t), bcNext: 1 - Math.pow(beta, t + 1) } });
    },
  });

/**
 * optax's `contrib.scale_by_muon` (Frobenius preconditioning, Muon's coefficients), per 2-D leaf at step t = 1, 2, …:
 *
 *   m ← (1 − β)·u + β·m
 *   m̂ = β·m / (1 − βᵗ⁺¹) + (1 − β)·u / (1 − βᵗ)        (without nesterov: m̂ = m / (1 − βᵗ))
 *   u′ = NS(m̂): X = m̂ / (‖m̂‖_F + ε), then nsSteps times A = X·Xᵀ, X ← a·X + (b·A + c·A²)·X   {@link newtonSchulz}
 *
 * so u′ ≈ U·Vᵀ for m̂ = U·S·Vᵀ (singular values pushed into about [0.7, 1.2]). Newton–Schulz commutes with
 * transposition, so the result does not depend on whether a weight is stored [out, in] or [in, out]. Every leaf
 * must be 2-D: any other is a ShapeMismatch Left naming it (muon routes the others to Adam). Not elementwise (the
 * iterations are matrix products: about 3·nsSteps·m²·n multiply-adds for an m×n leaf, m ≤ n), so a chain runs it
 * on its own, between the fused runs of its elementwise members. The products are the context's `matrixProduct` when the caller gives one (`applyStep`'s
 * executor's), else `matmul`'s default (the installed executor's WebAssembly, or JavaScript): the same bits. Invalid options are an InvalidOption Left, at init and update.
 * @example
 * const direction = scaleByMuon({ beta: 0.95, nsSteps: 5 });
 */
export const scaleByMuon = (o: ScaleByMuonOptions = {}): GradientTransformation<ScaleByMuonState> => {
  const name = "scaleByMuon";
  const read = readOptions(name, o, { beta: optional(aNumber, 0.95), nsSteps: optional(aNumber, 5), eps: optional(aNumber, 1e-8), nesterov: optional(aBoolean, true) });
  if (E.isLeft(read)) return failing(name, {}, read.left);
  const { beta, nsSteps, eps, nesterov } = read.right;
  const hyperparams = { beta, nsSteps, eps, nesterov };
  const problem = momentOptionsProblem({ beta }, { eps }, { nesterov });
  if (problem !== undefined) return failing(name, hyperparams, optimizerError("InvalidOption", problem));
  if (!(Number.isSafeInteger(nsSteps) && nsSteps >= 0))
    return failing(name, hyperparams, optimizerError("InvalidOption", `Invalid nsSteps: ${nsSteps} (must be a whole number >= 0)`));
  const first = momentum(beta, nesterov, hyperparams);
  const update = (updates: Tree, state: ScaleByMuonState, params?: Tree, context?: UpdateContext): E.Either<OptimizerError, Step<ScaleByMuonState>> => {
    const step = first.update(updates, state, params, context);
    if (E.isLeft(step)) return step;
    const flat = flatten(step.right[0]);
    if (E.isLeft(flat)) return flat;
    const out: Leaf[] = [];
    for (let k = 0; k < flat.right.leaves.length; k++) {
      const leaf = flat.right.leaves[k]!;
      const path = flat.right.paths[k]!;
      if (leaf.shape.length !== 2)
        return E.left(
          optimizerError("ShapeMismatch", `scaleByMuon orthogonalises matrices: the leaf ${showPath(path)} has shape [${leaf.shape.join(", ")}] (route it elsewhere, as muon does)`, { path }),
        );
      const y = newtonSchulz(leaf, { steps: nsSteps, eps }, context?.matrixProduct); // the caller's arithmetic, if any; the same bits
      if (E.isLeft(y)) return E.left(optimizerError(y.left.kind, `${showPath(path)}: ${y.left.message}`, { path }));
      out.push(y.right);
    }
    return E.right([unflatten(flat.right.def, out, flat.right.paths), step.right[1]] as const);
  };
  return Object.freeze({ name, hyperparams, init: first.init, update });
};

registerBuilder("scaleByMuon", scaleByMuon);
