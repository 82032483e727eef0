/**
 * Rebuilding an {@link injectHyperparams} from its spec `{ initial, inner, build }` and its state.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { failing } from "../core/elementwise.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import type { GradientTransformation, HyperRecord, HyperValue } from "../core/transform.js";
import { adabelief } from "../optimizers/adabelief.js";
import { adam } from "../optimizers/adam.js";
import { adamw } from "../optimizers/adamw.js";
import { adan } from "../optimizers/adan.js";
import { ademamix } from "../optimizers/ademamix.js";
import { lamb } from "../optimizers/lamb.js";
import { lars } from "../optimizers/lars.js";
import { larsOptax } from "../optimizers/larsOptax.js";
import { larsPaper } from "../optimizers/larsPaper.js";
import { lion } from "../optimizers/lion.js";
import { muon } from "../optimizers/muon.js";
import { nadamw } from "../optimizers/nadamw.js";
import { radam } from "../optimizers/radam.js";
import { scheduleFreeAdamw } from "../optimizers/scheduleFreeAdamw.js";
import { sgd } from "../optimizers/sgd.js";
import { scaleByAdam } from "../transforms/scaleByAdam.js";
import { scaleByAdan } from "../transforms/scaleByAdan.js";
import { scaleByAdemamix } from "../transforms/scaleByAdemamix.js";
import { scaleByBelief } from "../transforms/scaleByBelief.js";
import { scaleByLion } from "../transforms/scaleByLion.js";
import { scaleByMuon } from "../transforms/scaleByMuon.js";
import { scaleByNadam } from "../transforms/scaleByNadam.js";
import { scaleByRadam } from "../transforms/scaleByRadam.js";
import { scaleByRms } from "../transforms/scaleByRms.js";
import { scaleByTrustRatio } from "../transforms/scaleByTrustRatio.js";
import { scaleByUpdateTrustRatio } from "../transforms/scaleByUpdateTrustRatio.js";
import { traceMomentum } from "../transforms/traceMomentum.js";
import { adafactor } from "../optimizers/adafactor.js";
import { adaptiveGradClip } from "../transforms/adaptiveGradClip.js";
import { scaleByFactoredRms } from "../transforms/scaleByFactoredRms.js";
import { scaleByParamBlockRms } from "../transforms/scaleByParamBlockRms.js";
import { injectHyperparams, type Hyperparams } from "../wrappers/injectHyperparams.js";
import { isPlainRecord } from "./stateValue.js";

type Rebuilt = E.Either<OptimizerError, GradientTransformation<any>>;

/** The library factories an injectHyperparams spec may name as its `build` (each registers that name for itself). */
export const BUILDERS: { readonly [name: string]: (options: any) => GradientTransformation<any> } = {
  sgd,
  adam,
  adamw,
  lamb,
  lars,
  larsOptax,
  larsPaper,
  lion,
  adabelief,
  nadamw,
  radam,
  adan,
  ademamix,
  muon,
  scheduleFreeAdamw,
  scaleByAdam,
  scaleByLion,
  scaleByBelief,
  scaleByNadam,
  scaleByRadam,
  scaleByAdan,
  scaleByAdemamix,
  scaleByMuon,
  scaleByRms,
  scaleByTrustRatio,
  scaleByUpdateTrustRatio,
  traceMomentum,
  // issue 14, family-a
  adafactor,
  scaleByFactoredRms,
  scaleByParamBlockRms,
  adaptiveGradClip,
};

const cannot = (what: string): E.Either<OptimizerError, never> => E.left(optimizerError("InvalidOption", `cannot rebuild ${what}; pass the optimizer`));

/** A record of numbers and booleans, else undefined. */
const hyperparamsOf = (v: unknown): Hyperparams | undefined =>
  isPlainRecord(v) && Object.values(v).every((x) => typeof x === "number" || typeof x === "boolean") ? (v as Hyperparams) : undefined;

const sameHyperparams = (a: Hyperparams, b: Hyperparams): boolean => {
  const keys = Object.keys(a).sort();
  const others = Object.keys(b).sort();
  return keys.length === others.length && keys.every((k, i) => k === others[i] && a[k] === b[k]);
};

/**
 * The injectHyperparams a spec describes. With a library factory as `build` (the spec names it), it is
 * `injectHyperparams(factory, initial)`: it reads h from the state at every step, as the original did, whatever
 * h the state holds. With a custom `build`, only the transformation built from the initial h is recorded (`inner`):
 * it is rebuilt (with the inner state, for a partition's labels) when the state's h is the initial one; other h
 * are a Left saying so (at rebuild when the state is given, else at the step that meets them).
 */
export const rebuildInjectHyperparams = (
  h: HyperRecord,
  state: unknown,
  rebuild: (spec: HyperValue, state?: unknown) => Rebuilt,
): Rebuilt => {
  const initial = hyperparamsOf(h["initial"]);
  if (initial === undefined) return cannot(`an injectHyperparams whose spec has no initial hyper-parameters (${JSON.stringify(h["initial"] ?? null)})`);
  const build = h["build"];
  if (typeof build === "string" && Object.hasOwn(BUILDERS, build)) {
    const t = injectHyperparams(BUILDERS[build]!, initial);
    if (JSON.stringify(t.hyperparams["inner"]) !== JSON.stringify(h["inner"] ?? null))
      return cannot(`injectHyperparams(${build}, ${JSON.stringify(initial)}): ${build} builds another spec than the recorded one`);
    return E.right(t);
  }
  const s = isPlainRecord(state) ? state : {};
  const current = hyperparamsOf(s["hyperparams"]) ?? initial;
  const only = `only what its custom build function made of the initial ${JSON.stringify(initial)} is recorded (build it from a library factory, e.g. injectHyperparams(lars, h), to rebuild any)`;
  if (!sameHyperparams(current, initial)) return cannot(`injectHyperparams at hyper-parameters ${JSON.stringify(current)}: ${only}`);
  const inner = rebuild(h["inner"] ?? null, s["inner"]);
  if (E.isLeft(inner)) return inner;
  const other = (at: Hyperparams) =>
    failing("injectHyperparams", {}, optimizerError("InvalidOption", `cannot rebuild injectHyperparams at hyper-parameters ${JSON.stringify(at)}: ${only}; pass the optimizer`));
  return E.right(injectHyperparams((at: Hyperparams) => (sameHyperparams(at, initial) ? inner.right : other(at)), initial));
};
