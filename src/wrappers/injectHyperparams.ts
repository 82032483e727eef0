/**
 * Hyper-parameters kept in the state, so they can be changed mid-run and are saved with it (optax's `inject_hyperparams`).
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { failing, stateOfKind } from "../core/elementwise.js";
import { aFunction, isTransformation, readOptions, refusingThrows, required, type OptionType } from "../core/options.js";
import { builderName } from "../core/builders.js";
import { optimizerError, showValue, type OptimizerError } from "../core/errors.js";
import { specOf, type GradientTransformation, type Step, type UpdateContext } from "../core/transform.js";
import type { Tree } from "../core/tree.js";

/** Values a hyper-parameter in the state may take. */
export type HyperparamValue = number | boolean;

/** Named hyper-parameters. */
export type Hyperparams = { readonly [name: string]: HyperparamValue };

/** State of {@link injectHyperparams}: the current hyper-parameters h, and the state of the transformation built from them. */
export interface InjectHyperparamsState<H extends Hyperparams = Hyperparams> {
  readonly kind: "injectHyperparams";
  readonly hyperparams: H;
  readonly inner: unknown;
}

/** Right when `h` has exactly the names of `like`, each with a value of the same type. */
const sameNames = (h: unknown, like: Hyperparams): E.Either<OptimizerError, void> => {
  const names = Object.keys(like).sort();
  const given = typeof h === "object" && h !== null ? Object.keys(h).sort() : [];
  const bad = names.length !== given.length || names.some((n, i) => n !== given[i] || typeof (h as Hyperparams)[n] !== typeof like[n]);
  return bad
    ? E.left(optimizerError("StateMismatch", `injectHyperparams state has hyper-parameters [${given.join(", ")}], not [${names.join(", ")}] of the same types`))
    : E.right(undefined);
};

/**
 * T_h with h read from the state at every step: `update(g, { h, s })` = (u, { h, s′ }) where (u, s′) = T_h(g, s),
 * T = `build(h)`. The hyper-parameters h start as `initial`; change them between steps with {@link setHyperparam}
 * (a new state, nothing mutated). Since h is in the state, it is saved and restored with it, and time travel
 * sees it. A value that `build` refuses (a negative lr) is that transformation's InvalidOption Left at the next step.
 * The inner state must suit every h (changing momentum from 0 to 0.9 changes lars's state shape: a StateMismatch).
 * The spec records the transformation built from h₀ (`inner`) and, when `build` is one of the library's factories
 * taking one record of options (lars, sgd, adam, adamw, lamb, larsOptax, larsPaper, scaleByAdam, scaleByTrustRatio,
 * scaleByUpdateTrustRatio, traceMomentum), its name (`build`, else "custom"): time travel can then rebuild the
 * optimizer for any h a state holds; with a custom `build` only for h₀.
 * @example
 * const opt = injectHyperparams(lars, { lr: 0.1, momentum: 0.9 }); // or (h) => lars({ ...h, nesterov: true })
 * // later: state = pipe(setHyperparam(state, "lr", 0.01), E.getOrElse(() => state));
 */
export const injectHyperparams = <H extends Hyperparams>(
  build: (h: H) => GradientTransformation<any>,
  initial: H,
): GradientTransformation<InjectHyperparamsState<H>> =>
  refusingThrows("injectHyperparams", () => {
    const o = readOptions("injectHyperparams", { build, initial }, { build: required(aFunction), initial: required(hyperparamRecord) });
    return E.isLeft(o) ? failing("injectHyperparams", {}, o.left) : injected(build, initial);
  });

/** A record of numbers and booleans. */
const hyperparamRecord: OptionType<Hyperparams> = {
  is: "a record of numbers and booleans",
  accepts: (x): x is Hyperparams =>
    typeof x === "object" && x !== null && !Array.isArray(x) && Object.values(x).every((v) => typeof v === "number" || typeof v === "boolean"),
};

const injected = <H extends Hyperparams>(
  build: (h: H) => GradientTransformation<any>,
  initial: H,
): GradientTransformation<InjectHyperparamsState<H>> => {
  const frozenInitial = Object.freeze({ ...initial });
  const built = new WeakMap<object, E.Either<OptimizerError, GradientTransformation<any>>>();
  /** build(h), once per frozen hyper-parameter record (a frozen record cannot change, so neither can its transformation). */
  const transformationFor = (h: H): E.Either<OptimizerError, GradientTransformation<any>> => {
    const cached = built.get(h);
    if (cached !== undefined) return cached;
    let t: E.Either<OptimizerError, GradientTransformation<any>>;
    try {
      const made: unknown = build(h);
      t = isTransformation(made)
        ? E.right(made as GradientTransformation<any>)
        : E.left(optimizerError("InvalidOption", `injectHyperparams: build returned ${showValue(made)}, not a transformation`));
    } catch (e) {
      t = E.left(optimizerError("InvalidOption", `injectHyperparams: building the transformation failed: ${showValue(e)}`));
    }
    if (Object.isFrozen(h)) built.set(h, t);
    return t;
  };
  const first = transformationFor(frozenInitial);
  if (E.isLeft(first)) return failing("injectHyperparams", {}, first.left);
  return Object.freeze({
    name: "injectHyperparams",
    hyperparams: { initial: frozenInitial, inner: E.isRight(first) ? specOf(first.right) : null, build: builderName(build) },
    init: (params: Tree) => {
      if (E.isLeft(first)) return first;
      return E.map((inner: unknown) =>
        Object.freeze({ kind: "injectHyperparams" as const, hyperparams: frozenInitial, inner }),
      )(first.right.init(params));
    },
    update: (
      updates: Tree,
      state: InjectHyperparamsState<H>,
      params?: Tree,
      context?: UpdateContext,
    ): E.Either<OptimizerError, Step<InjectHyperparamsState<H>>> => {
      const s = stateOfKind<InjectHyperparamsState<H>>(state, "injectHyperparams");
      if (E.isLeft(s)) return s;
      const same = sameNames(s.right.hyperparams, frozenInitial);
      if (E.isLeft(same)) return same;
      const t = transformationFor(s.right.hyperparams);
      if (E.isLeft(t)) return t;
      const step = t.right.update(updates, s.right.inner, params, context);
      if (E.isLeft(step)) return step;
      return E.right([step.right[0], Object.freeze({ ...s.right, inner: step.right[1] })] as const);
    },
  });
};

/**
 * The same state with hyper-parameter `name` set to `value` (h ← h[name := value]); the state given is not changed.
 * A state that is not {@link injectHyperparams}'s, an unknown name or a value of another type is a Left.
 * Whether the value is valid is the built transformation's to say, at the next update.
 * @example
 * const next = setHyperparam(state, "lr", 0.01);
 */
export const setHyperparam = <H extends Hyperparams, K extends keyof H & string>(
  state: InjectHyperparamsState<H>,
  name: K,
  value: H[K] extends boolean ? boolean : number,
): E.Either<OptimizerError, InjectHyperparamsState<H>> => {
  const s = stateOfKind<InjectHyperparamsState<H>>(state, "injectHyperparams");
  if (E.isLeft(s)) return s;
  const h = s.right.hyperparams;
  if (typeof h !== "object" || h === null || !Object.prototype.hasOwnProperty.call(h, name))
    return E.left(optimizerError("InvalidOption", `no hyper-parameter "${name}" (known: ${Object.keys(h ?? {}).join(", ")})`));
  if (typeof value !== typeof h[name])
    return E.left(optimizerError("InvalidOption", `hyper-parameter "${name}" is a ${typeof h[name]}, not a ${typeof value}`));
  return E.right(Object.freeze({ ...s.right, hyperparams: Object.freeze({ ...h, [name]: value }) }));
};
