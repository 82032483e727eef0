/**
 * Muon (Jordan et al. 2024; "Muon is Scalable", Liu et al. 2025) as optax's `contrib.muon` has it by default: two
 * chains in a partition, Newton–Schulz for the matrices, AdamW for the rest.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { registerBuilder } from "../core/builders.js";
import { chain, type ChainState } from "../core/chain.js";
import { failing } from "../core/elementwise.js";
import { aBoolean, aNumber, aNumberOrSchedule, optional, readOptions, required } from "../core/options.js";
import type { GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import type { Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { labelByPath, partition, type LabelTree } from "../transforms/partition.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByMuon } from "../transforms/scaleByMuon.js";
import { scaleByShape } from "../transforms/scaleByShape.js";
import { namedChain } from "./namedChain.js";
import { nadamw } from "./nadamw.js";

/** Options of {@link muon}, named as optax's `contrib.muon` (`lr` for `learning_rate`), with its defaults. */
export interface MuonOptions {
  /** Learning rate α, or a schedule αₜ (both chains'). */
  readonly lr: number | Schedule;
  /** Newton–Schulz iterations (default 5). */
  readonly nsSteps?: number;
  /** β of the matrices' momentum (default 0.95). */
  readonly beta?: number;
  /** ε of the Frobenius scaling, and Adam's ε (default 1e-8). */
  readonly eps?: number;
  /** λ of the matrices, decoupled: p shrinks by αₜ·λ·p (default 0). */
  readonly weightDecay?: number;
  /** Nesterov's look-ahead, for the matrices' momentum and for Adam's (default true). */
  readonly nesterov?: boolean;
  /** Adam's β₁ (default 0.9). */
  readonly adamB1?: number;
  /** Adam's β₂ (default 0.999). */
  readonly adamB2?: number;
  /** Adam's ε_root (default 0). */
  readonly adamEpsRoot?: number;
  /** Adam's λ, decoupled (default 0). */
  readonly adamWeightDecay?: number;
}

/**
 * muon's labels: "muon" for every 2-D leaf, "adam" for the others (biases, norms' scales, conv weights).
 * @example
 * muonLabels({ fc: { weight, bias } }) // { fc: { weight: "muon", bias: "adam" } }
 */
export const muonLabels = (params: Tree): LabelTree => labelByPath(params, (_path, leaf) => (leaf.shape.length === 2 ? "muon" : "adam"));

/**
 * optax's `contrib.muon` with its default rule (Newton–Schulz for 2-D leaves only):
 *
 *   partition({
 *     muon: chain(scaleByMuon({ beta, nsSteps, eps, nesterov }),   m̂ of g, then NS(m̂) ≈ U·Vᵀ   {@link scaleByMuon}
 *                 scaleByShape(),                                  × √max(1, fan_out / fan_in)   {@link scaleByShape}
 *                 addWeightDecay(weightDecay),                     + λp
 *                 scaleByLr(lr)),                                  × −αₜ
 *     adam: nadamw({ lr, b1: adamB1, b2: adamB2, eps, epsRoot: adamEpsRoot, weightDecay: adamWeightDecay, nesterov }),
 *   }, muonLabels)                                                 "muon" for 2-D leaves, "adam" for the rest
 *
 * (optax's adamw with `nesterov` is larch's {@link nadamw}). Layout: larch's weights are PyTorch's [out, in], so
 * fan_out = shape[0], fan_in = shape[1]; optax reads a 2-D weight as [in, out]. Newton–Schulz commutes with
 * transposition, so a [out, in] weight here gets exactly the step optax gives its transpose (the fixtures are
 * made that way). A 4-D conv weight is not a matrix and goes to Adam, as in optax's default. Cost: the iterations'
 * matrix products, about 3·nsSteps·m²·n multiply-adds per m×n weight (m ≤ n) in float64, in WebAssembly SIMD on one
 * or (`kernelThreads(2)`) two threads (`applyStep` and `update` alike; JavaScript where there is none), the same bits. Defaults
 * nsSteps 5, β 0.95, ε 1e-8, λ 0, nesterov true, Adam β₁ 0.9, β₂ 0.999, ε_root 0, λ 0. Invalid options are an
 * InvalidOption Left, at init and update.
 * @example
 * const opt = muon({ lr: 0.02 }); // fc.weight by Newton–Schulz, fc.bias and conv weights by Adam
 */
export const muon = (o: MuonOptions): GradientTransformation<ChainState> => {
  const read = readOptions("muon", o, {
    lr: required(aNumberOrSchedule),
    nsSteps: optional(aNumber, 5),
    beta: optional(aNumber, 0.95),
    eps: optional(aNumber, 1e-8),
    weightDecay: optional(aNumber, 0),
    nesterov: optional(aBoolean, true),
    adamB1: optional(aNumber, 0.9),
    adamB2: optional(aNumber, 0.999),
    adamEpsRoot: optional(aNumber, 0),
    adamWeightDecay: optional(aNumber, 0),
  });
  if (E.isLeft(read)) return failing("muon", {}, read.left);
  const { lr, nsSteps, beta, eps, weightDecay, nesterov, adamB1, adamB2, adamEpsRoot, adamWeightDecay } = read.right;
  const members = [scaleByMuon({ beta, nsSteps, eps, nesterov }), scaleByShape(), addWeightDecay(weightDecay), scaleByLr(lr)] as const;
  const adam = nadamw({ lr, b1: adamB1, b2: adamB2, eps, epsRoot: adamEpsRoot, weightDecay: adamWeightDecay, nesterov });
  for (const member of [...members, adam]) {
    // a member that refuses its options is `failing`: init and update return one and the same InvalidOption error
    const init = member.init({});
    if (E.isLeft(init) && init.left.kind === "InvalidOption" && E.isLeft(member.update({}, undefined as never)) && (member.update({}, undefined as never) as E.Left<unknown>).left === init.left)
      return failing("muon", {}, init.left);
  }
  return namedChain("muon", partition({ muon: chain(...members), adam }, muonLabels));
};

registerBuilder("muon", muon);
