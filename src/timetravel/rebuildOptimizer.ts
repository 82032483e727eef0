/**
 * Rebuilding an optimizer from the spec a recording keeps (its name and hyper-parameters), so that a recorded run
 * can be replayed without the program that ran it.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { chain } from "../core/chain.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { identity } from "../core/identity.js";
import type { GradientTransformation, HyperRecord, HyperValue } from "../core/transform.js";
import { constantSchedule, polynomialDecay, type Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { labelByPath, partition } from "../transforms/partition.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByTrustRatio } from "../transforms/scaleByTrustRatio.js";
import { traceMomentum } from "../transforms/traceMomentum.js";
import { isPlainRecord } from "./stateValue.js";

type Rebuilt = E.Either<OptimizerError, GradientTransformation<any>>;

const cannot = (what: string): Rebuilt =>
  E.left(optimizerError("InvalidOption", `cannot rebuild ${what}; pass the optimizer`));

const num = (h: HyperRecord, key: string): number | undefined => (typeof h[key] === "number" ? (h[key] as number) : undefined);

/** A learning rate as described: a number, or `{ schedule: "constant" | "polynomialDecay", ... }`. */
const rateOf = (v: HyperValue | undefined): E.Either<OptimizerError, number | Schedule> => {
  if (typeof v === "number") return E.right(v);
  if (isPlainRecord(v)) {
    const s = v as HyperRecord;
    if (s["schedule"] === "constant" && typeof s["value"] === "number") return E.right(constantSchedule(s["value"]));
    const [init, power, totalSteps, end] = ["init", "power", "totalSteps", "end"].map((k) => num(s, k));
    if (s["schedule"] === "polynomialDecay" && init !== undefined && power !== undefined && totalSteps !== undefined)
      return E.right(polynomialDecay({ init, power, totalSteps, ...(end !== undefined ? { end } : {}) }));
  }
  return E.left(optimizerError("InvalidOption", `cannot rebuild the learning rate ${JSON.stringify(v)} (a custom schedule); pass the optimizer`));
};

/** The members of a chain-like spec and their states (a chain's state is the tuple of its members'). */
const members = (h: HyperRecord, state: unknown, name: string): E.Either<OptimizerError, GradientTransformation<any>[]> => {
  const specs = h["members"];
  if (!Array.isArray(specs)) return E.left(optimizerError("InvalidOption", `cannot rebuild ${name}: its spec lists no members; pass the optimizer`));
  const out: GradientTransformation<any>[] = [];
  for (let k = 0; k < specs.length; k++) {
    const member = rebuildOptimizer(specs[k] as HyperValue, Array.isArray(state) ? state[k] : undefined);
    if (E.isLeft(member)) return member;
    out.push(member.right);
  }
  return E.right(out);
};

/**
 * The optimizer a spec `{ name, hyperparams }` describes (as `specOf` writes it and a recording keeps it), for the
 * built-in transformations: identity, chain, addWeightDecay, traceMomentum, scaleByTrustRatio, scaleByLr (a
 * number, or a constant or polynomialDecay schedule), lars, and partition. A partition's labels are not in its
 * spec (they may come from a function): they are read from its state, `initialState.labels` (path → label), so
 * give the state the spec ran with (a keyframe's, or the chain's state containing it). Anything else is a Left
 * "cannot rebuild X; pass the optimizer". Rebuilt optimizers compute the same bits as the originals.
 * @example
 * const opt = rebuildOptimizer(recording.header.optimizer, keyframe.state);
 */
export const rebuildOptimizer = (spec: HyperValue, initialState?: unknown): Rebuilt => {
  if (!isPlainRecord(spec) || typeof spec["name"] !== "string" || !isPlainRecord(spec["hyperparams"]))
    return cannot(`the spec ${JSON.stringify(spec)} (not { name, hyperparams })`);
  const name = spec["name"];
  const h = spec["hyperparams"] as HyperRecord;
  switch (name) {
    case "identity":
      return E.right(identity());
    case "chain":
      return E.map((ms: GradientTransformation<any>[]) => chain(...ms))(members(h, initialState, name));
    case "lars":
      // lars is its four-member chain under another name; rebuilding the members gives the same steps
      return E.map((ms: GradientTransformation<any>[]) => Object.freeze({ ...chain(...ms), name: "lars" }))(members(h, initialState, name));
    case "addWeightDecay": {
      const wd = num(h, "weightDecay");
      return wd === undefined ? cannot("addWeightDecay without a weightDecay") : E.right(addWeightDecay(wd));
    }
    case "traceMomentum": {
      const momentum = num(h, "momentum");
      if (momentum === undefined) return cannot("traceMomentum without a momentum");
      return E.right(traceMomentum({ momentum, dampening: num(h, "dampening") ?? 0, nesterov: h["nesterov"] === true }));
    }
    case "scaleByTrustRatio": {
      const clip = h["scaleClip"];
      const eta = num(h, "trustCoefficient");
      return E.right(
        scaleByTrustRatio({
          weightDecay: num(h, "weightDecay") ?? 0,
          ...(Array.isArray(clip) && clip.length === 2 ? { scaleClip: [clip[0] as number, clip[1] as number] as const } : {}),
          ...(eta !== undefined ? { trustCoefficient: eta } : {}),
        }),
      );
    }
    case "scaleByLr":
      return E.map((lr: number | Schedule) => scaleByLr(lr) as GradientTransformation<any>)(rateOf(h["lr"]));
    case "partition": {
      const transforms = h["transforms"];
      const state = initialState as { labels?: unknown; inner?: unknown } | undefined;
      if (!isPlainRecord(transforms)) return cannot("a partition whose spec lists no transforms");
      if (!isPlainRecord(state) || !isPlainRecord(state.labels))
        return cannot("a partition without its state (its labels are kept there: pass the state it ran with)");
      const labels = state.labels as Record<string, string>;
      const inner = isPlainRecord(state.inner) ? state.inner : {};
      const built: Record<string, GradientTransformation<any>> = {};
      for (const [label, sub] of Object.entries(transforms)) {
        const t = rebuildOptimizer(sub as HyperValue, inner[label]);
        if (E.isLeft(t)) return t;
        built[label] = t.right;
      }
      return E.right(partition(built, (params) => labelByPath(params, (path) => labels[path] as string)));
    }
    default:
      return cannot(`"${name}"`);
  }
};
