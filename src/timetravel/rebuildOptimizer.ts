/**
 * Rebuilding an optimizer from the spec a recording keeps (its name and hyper-parameters), so that a recorded run
 * can be replayed without the program that ran it.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { chain } from "../core/chain.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { identity } from "../core/identity.js";
import type { GradientTransformation, HyperRecord, HyperValue } from "../core/transform.js";
import { namedChain } from "../optimizers/namedChain.js";
import type { Schedule } from "../schedules/schedule.js";
import { addWeightDecay } from "../transforms/addWeightDecay.js";
import { clip } from "../transforms/clip.js";
import { clipByGlobalNorm } from "../transforms/clipByGlobalNorm.js";
import { ema } from "../transforms/ema.js";
import { labelByPath, partition } from "../transforms/partition.js";
import { scaleByAdam } from "../transforms/scaleByAdam.js";
import { scaleByAdan } from "../transforms/scaleByAdan.js";
import { scaleByAdemamix } from "../transforms/scaleByAdemamix.js";
import { scaleByBelief } from "../transforms/scaleByBelief.js";
import { scaleByLion } from "../transforms/scaleByLion.js";
import { scaleByMuon } from "../transforms/scaleByMuon.js";
import { scaleByShape } from "../transforms/scaleByShape.js";
import { scaleByRms } from "../transforms/scaleByRms.js";
import { scheduleFree } from "../transforms/scheduleFree.js";
import { scaleByNadam } from "../transforms/scaleByNadam.js";
import { scaleByRadam } from "../transforms/scaleByRadam.js";
import { scaleByLr } from "../transforms/scaleByLr.js";
import { scaleByTrustRatio } from "../transforms/scaleByTrustRatio.js";
import { scaleByUpdateTrustRatio } from "../transforms/scaleByUpdateTrustRatio.js";
import { traceMomentum } from "../transforms/traceMomentum.js";
import { applyEvery } from "../wrappers/applyEvery.js";
import { asGradient } from "../wrappers/asGradient.js";
import { lookahead } from "../wrappers/lookahead.js";
import { multiSteps } from "../wrappers/multiSteps.js";
import { skipLargeUpdates } from "../wrappers/skipLargeUpdates.js";
import { skipNonFinite } from "../wrappers/skipNonFinite.js";
import { zeroNans } from "../wrappers/zeroNans.js";
import { adaptiveGradClip } from "../transforms/adaptiveGradClip.js";
import { clipByBlockRms } from "../transforms/clipByBlockRms.js";
import { scale } from "../transforms/scale.js";
import { scaleByFactoredRms } from "../transforms/scaleByFactoredRms.js";
import { scaleByParamBlockRms } from "../transforms/scaleByParamBlockRms.js";
import { rebuildInjectHyperparams } from "./rebuildInjected.js";
import { numbersOf, rebuildRate } from "./rebuildSchedule.js";
import { isPlainRecord } from "./stateValue.js";

type Rebuilt = E.Either<OptimizerError, GradientTransformation<any>>;

/** How one transformation is rebuilt from its hyper-parameters and the state it ran with (undefined if not given). */
type Rebuild = (h: HyperRecord, state: unknown) => Rebuilt;

const cannot = (what: string): E.Either<OptimizerError, never> => E.left(optimizerError("InvalidOption", `cannot rebuild ${what}; pass the optimizer`));

/** A field of a state record (undefined when the state is not a record). */
const field = (state: unknown, key: string): unknown => (isPlainRecord(state) ? state[key] : undefined);

/** `make(o, h)` with the named number fields `o` of the spec `h`, or a Left naming what is missing. */
const fromNumbers =
  <K extends string>(name: string, keys: readonly K[], make: (o: Record<K, number>, h: HyperRecord) => GradientTransformation<any>): Rebuild =>
  (h) => {
    const o = numbersOf(h, keys);
    return o ? E.right(make(o, h)) : cannot(`${name} from ${shownSpec(h)} (it needs the numbers ${keys.join(", ")})`);
  };

/** An optional number field (its default when absent). */
const numberOr = (h: HyperRecord, key: string, fallback: number): number => (typeof h[key] === "number" ? (h[key] as number) : fallback);

/** The members of a chain-like spec, each rebuilt with its state (a chain's state is the tuple of its members'). */
const members = (name: string, h: HyperRecord, state: unknown): E.Either<OptimizerError, GradientTransformation<any>[]> => {
  const specs = h["members"];
  if (!Array.isArray(specs)) return cannot(`${name}: its spec lists no members`);
  const out: GradientTransformation<any>[] = [];
  for (let k = 0; k < specs.length; k++) {
    const member = rebuildOptimizer(specs[k] as HyperValue, Array.isArray(state) ? state[k] : undefined);
    if (E.isLeft(member)) return member;
    out.push(member.right);
  }
  return E.right(out);
};

/** The optimizers that are a chain under their own name ({@link namedChain}): rebuilt from their members. */
const NAMED_CHAINS = ["lars", "sgd", "adam", "adamw", "lamb", "larsOptax", "larsPaper", "lion", "adabelief", "nadamw", "radam", "adan", "ademamix", "muon", "scheduleFreeAdamw", "adafactor"] as const;

/** A wrapper around one transformation, whose state for `inner` is `innerState(state)`. */
const wrapper =
  (wrap: (inner: GradientTransformation<any>, h: HyperRecord) => Rebuilt, innerState: (state: unknown) => unknown): Rebuild =>
  (h, state) =>
    E.flatMap((inner: GradientTransformation<any>) => wrap(inner, h))(rebuildOptimizer(h["inner"] ?? null, innerState(state)));

const rebuilders: { readonly [name: string]: Rebuild } = {
  identity: () => E.right(identity()),
  chain: (h, state) => E.map((ms: GradientTransformation<any>[]) => chain(...ms))(members("chain", h, state)),
  ...Object.fromEntries(
    NAMED_CHAINS.map((name): [string, Rebuild] => [name, (h, state) => E.map((ms: GradientTransformation<any>[]) => namedChain(name, ...ms))(members(name, h, state))]),
  ),
  addWeightDecay: fromNumbers("addWeightDecay", ["weightDecay"], (o) => addWeightDecay(o.weightDecay)),
  traceMomentum: fromNumbers("traceMomentum", ["momentum"], ({ momentum }, h) =>
    traceMomentum({ momentum, dampening: numberOr(h, "dampening", 0), nesterov: h["nesterov"] === true }),
  ),
  scaleByTrustRatio: (h) => {
    const clip = h["scaleClip"];
    return E.right(
      scaleByTrustRatio({
        weightDecay: numberOr(h, "weightDecay", 0),
        trustCoefficient: numberOr(h, "trustCoefficient", 1),
        ...(Array.isArray(clip) && clip.length === 2 ? { scaleClip: [clip[0] as number, clip[1] as number] as const } : {}),
      }),
    );
  },
  scaleByAdam: fromNumbers("scaleByAdam", ["b1", "b2", "eps"], scaleByAdam),
  scaleByLion: fromNumbers("scaleByLion", ["b1", "b2"], scaleByLion),
  zeroNans: () => E.right(zeroNans()),
  scaleByMuon: fromNumbers("scaleByMuon", ["beta", "nsSteps", "eps"], (o, h) => scaleByMuon({ ...o, nesterov: h["nesterov"] === true })),
  scaleByShape: () => E.right(scaleByShape()),
  scaleByRms: fromNumbers("scaleByRms", ["decay", "eps"], (o, h) => scaleByRms({ ...o, epsInSqrt: h["epsInSqrt"] === true, biasCorrection: h["biasCorrection"] === true })),
  scheduleFree: (h) => {
    const o = numbersOf(h, ["b1", "weightLrPower"]);
    if (!o) return cannot(`scheduleFree from ${JSON.stringify(h)} (it needs the numbers b1, weightLrPower)`);
    return E.map((lr: number | Schedule): GradientTransformation<any> => scheduleFree({ lr, ...o }))(rebuildRate(h["lr"]));
  },
  ema: fromNumbers("ema", ["decay"], (o, h) => ema({ decay: o.decay, debias: h["debias"] !== false })),
  clip: fromNumbers("clip", ["maxDelta"], (o) => clip(o.maxDelta)),
  scaleByNadam: fromNumbers("scaleByNadam", ["b1", "b2", "eps", "epsRoot"], (o, h) => scaleByNadam({ ...o, nesterov: h["nesterov"] === true })),
  scaleByRadam: fromNumbers("scaleByRadam", ["b1", "b2", "eps", "epsRoot", "threshold"], (o, h) => scaleByRadam({ ...o, nesterov: h["nesterov"] === true })),
  scaleByAdan: fromNumbers("scaleByAdan", ["b1", "b2", "b3", "eps", "epsRoot"], scaleByAdan),
  scaleByAdemamix: fromNumbers("scaleByAdemamix", ["b1", "b2", "b3", "alpha", "eps", "epsRoot"], scaleByAdemamix),
  scaleByBelief: fromNumbers("scaleByBelief", ["b1", "b2", "eps", "epsRoot"], (o, h) => scaleByBelief({ ...o, nesterov: h["nesterov"] === true })),
  scaleByUpdateTrustRatio: fromNumbers("scaleByUpdateTrustRatio", ["trustCoefficient", "eps"], scaleByUpdateTrustRatio),
  clipByGlobalNorm: fromNumbers("clipByGlobalNorm", ["maxNorm"], (o) => clipByGlobalNorm(o.maxNorm)),
  scaleByLr: (h) => E.map((lr: number | Schedule): GradientTransformation<any> => scaleByLr(lr))(rebuildRate(h["lr"])),
  skipNonFinite: wrapper((inner) => E.right(skipNonFinite(inner)), (state) => field(state, "inner")),
  asGradient: wrapper((inner) => E.right(asGradient(inner)), (state) => state),
  multiSteps: wrapper(
    (inner, h) => (typeof h["k"] === "number" ? E.right(multiSteps(inner, h["k"])) : cannot("multiSteps without a number of micro-steps k")),
    (state) => field(state, "inner"),
  ),
  applyEvery: fromNumbers("applyEvery", ["k"], (o) => applyEvery(o.k)),
  skipLargeUpdates: wrapper(
    (inner, h) =>
      typeof h["maxSquaredNorm"] === "number" ? E.right(skipLargeUpdates(inner, h["maxSquaredNorm"])) : cannot("skipLargeUpdates without its maxSquaredNorm"),
    (state) => field(state, "inner"),
  ),
  lookahead: wrapper((inner, h) => {
    const o = numbersOf(h, ["syncPeriod", "slowStepSize"]);
    return o && typeof h["resetState"] === "boolean"
      ? E.right(lookahead(inner, { ...o, resetState: h["resetState"] }))
      : cannot(`lookahead from ${JSON.stringify(h)} (it needs syncPeriod, slowStepSize and resetState)`);
  }, (state) => field(state, "inner")),
  // issue 14, family-a: adafactor's pieces and adaptive gradient clipping
  scale: fromNumbers("scale", ["factor"], (o) => scale(o.factor)),
  scaleByFactoredRms: fromNumbers("scaleByFactoredRms", ["decayRate", "decayOffset", "minDimSizeToFactor", "eps"], (o, h) =>
    scaleByFactoredRms({ ...o, factored: h["factored"] !== false }),
  ),
  clipByBlockRms: fromNumbers("clipByBlockRms", ["threshold"], (o) => clipByBlockRms(o.threshold)),
  scaleByParamBlockRms: fromNumbers("scaleByParamBlockRms", ["minScale"], scaleByParamBlockRms),
  adaptiveGradClip: fromNumbers("adaptiveGradClip", ["clipping", "eps", "axis"], adaptiveGradClip),
  injectHyperparams: (h, state) => rebuildInjectHyperparams(h, state, rebuildOptimizer),
  partition: (h, state) => {
    const transforms = h["transforms"];
    const labels = field(state, "labels");
    if (!isPlainRecord(transforms)) return cannot("a partition whose spec lists no transforms");
    if (!isPlainRecord(labels)) return cannot("a partition without its state (its labels are kept there: pass the state it ran with)");
    const inner = field(state, "inner");
    const built: Record<string, GradientTransformation<any>> = {};
    for (const [label, sub] of Object.entries(transforms)) {
      const t = rebuildOptimizer(sub as HyperValue, field(inner, label));
      if (E.isLeft(t)) return t;
      built[label] = t.right;
    }
    const t = partition(built, (params) => labelByPath(params, (path) => labels[path] as string));
    // the labels were resolved at init and kept in the state; the spec still says how they were given
    return E.right(Object.freeze({ ...t, hyperparams: { ...t.hyperparams, labels: h["labels"] ?? "function" } }));
  },
};

/**
 * The optimizer a spec `{ name, hyperparams }` describes (as `specOf` writes it and a recording keeps it), for
 * every transformation, wrapper and optimizer of the library: identity, chain (and chainUnfused, the same steps),
 * addWeightDecay, traceMomentum, scaleByTrustRatio, scaleByUpdateTrustRatio, scaleByAdam, scaleByLion, scaleByBelief, scaleByNadam, scaleByRadam,
 * scaleByAdan, scaleByAdemamix, scaleByMuon, scaleByShape, scaleByRms, scheduleFree, ema, clip, zeroNans, clipByGlobalNorm,
 * scale, scaleByFactoredRms, clipByBlockRms, scaleByParamBlockRms, adaptiveGradClip,
 * scaleByLr (a number or any library schedule: constant, polynomialDecay, cosineDecay, piecewiseConstant,
 * exponentialDecay, warmupCosineDecay, sgdr, oneCycle, linearWarmup, joinSchedules), partition and masked,
 * skipNonFinite, skipLargeUpdates, multiSteps, applyEvery, lookahead, asGradient, injectHyperparams, and the optimizers
 * lars, sgd, adam, adamw, lamb, larsOptax, larsPaper, lion, adabelief, nadamw, radam, adan, ademamix, muon, scheduleFreeAdamw, adafactor. A partition's (or masked's) labels are not in its spec (they
 * may come from a function): they are read from its state, `labels` (path → label), so give the state the spec
 * ran with (a keyframe's, or the state of the wrapper or chain containing it). An injectHyperparams is rebuilt for
 * any hyper-parameters its state holds when its `build` was a library factory (its spec names it), and for the
 * initial ones only when it was a custom function. Anything else (a custom transformation or schedule) is a Left
 * "cannot rebuild X; pass the optimizer". Rebuilt optimizers compute the same bits as the originals.
 * @example
 * const opt = rebuildOptimizer(recording.header.optimizer, keyframe.state);
 */
export function rebuildOptimizer(spec: HyperValue, initialState?: unknown): Rebuilt {
  try {
    if (!isPlainRecord(spec) || typeof spec["name"] !== "string" || !isPlainRecord(spec["hyperparams"]))
      return cannot(`the spec ${shownSpec(spec)} (not { name, hyperparams })`);
    const name = spec["name"];
    const h = spec["hyperparams"] as HyperRecord;
    return Object.hasOwn(rebuilders, name) ? rebuilders[name]!(h, initialState) : cannot(`"${name}" (not one of the library's transformations)`);
  } catch (e) {
    // a spec or state a program built rather than read from a recording: a getter or Proxy trap that throws, a cycle
    return cannot(`from a spec or state that cannot be read (reading it threw ${showValue(e)})`);
  }
}

/** A spec as JSON in a message, or as {@link showValue} shows it when it is not JSON (a cycle, a BigInt). */
const shownSpec = (spec: unknown): string => {
  try {
    return JSON.stringify(spec) ?? showValue(spec);
  } catch {
    return showValue(spec);
  }
};
