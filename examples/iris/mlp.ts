/**
 * A one-hidden-layer perceptron with hand-written gradients: x → tanh(W₁x + b₁) → W₂h + b₂ → softmax,
 * trained with the mean cross-entropy. Its parameters are a larch tree of ndarrays
 * `{ fc1: { weight, bias }, fc2: { weight, bias } }` (weights shaped [out, in], as in PyTorch).
 * All arithmetic is float64; the parameters and gradients keep the storage type they were made with.
 * @module
 */
import ndarray, { type NdArray } from "ndarray";
import type { Examples } from "./dataset.js";
import type { Random } from "../shared/prng.js";

/** A parameter or gradient leaf: float32 in training, float64 in the finite-difference check. */
export type Leaf = NdArray<Float32Array> | NdArray<Float64Array>;

/** A dense layer y = W x + b. */
export type Dense = {
  readonly weight: Leaf;
  readonly bias: Leaf;
};

/** The parameter tree (and, with the same structure, the gradient tree). */
export type MlpParams = {
  readonly fc1: Dense;
  readonly fc2: Dense;
};

/** Layer widths. */
export interface MlpSizes {
  readonly input: number;
  readonly hidden: number;
  readonly classes: number;
}

export type Dtype = "float32" | "float64";

const zeros = (dtype: Dtype, shape: number[]): Leaf => {
  const size = shape.reduce((a, b) => a * b, 1);
  return dtype === "float32" ? ndarray(new Float32Array(size), shape) : ndarray(new Float64Array(size), shape);
};

const dtypeOf = (leaf: Leaf): Dtype => (leaf.data instanceof Float32Array ? "float32" : "float64");

/** A dense [rows × cols] float64 copy of a rank-2 leaf (any strides), or of a rank-1 leaf as 1 × cols. */
const toDense = (leaf: Leaf): Float64Array => {
  const out = new Float64Array(leaf.size);
  if (leaf.shape.length === 1) {
    for (let j = 0; j < (leaf.shape[0] as number); j++) out[j] = leaf.get(j);
  } else {
    const [rows, cols] = leaf.shape as [number, number];
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[i * cols + j] = leaf.get(i, j);
  }
  return out;
};

/** A new leaf of `dtype` and `shape` holding `values` (row-major), each rounded to the dtype as stored. */
const fromDense = (dtype: Dtype, shape: number[], values: Float64Array): Leaf => {
  const leaf = zeros(dtype, shape);
  leaf.data.set(values);
  return leaf;
};

/**
 * Seeded initialisation as PyTorch's `nn.Linear`: every weight and bias ~ U(−1/√fan_in, 1/√fan_in).
 */
export const initMlp = (random: Random, sizes: MlpSizes, dtype: Dtype = "float32"): MlpParams => {
  const layer = (fanIn: number, fanOut: number): Dense => {
    const bound = 1 / Math.sqrt(fanIn);
    const uniform = (n: number) => Float64Array.from({ length: n }, () => (2 * random() - 1) * bound);
    return {
      weight: fromDense(dtype, [fanOut, fanIn], uniform(fanOut * fanIn)),
      bias: fromDense(dtype, [fanOut], uniform(fanOut)),
    };
  };
  return { fc1: layer(sizes.input, sizes.hidden), fc2: layer(sizes.hidden, sizes.classes) };
};

/** A copy of the tree with every leaf converted to `dtype` (used for the float64 gradient check). */
export const castMlp = (params: MlpParams, dtype: Dtype): MlpParams => {
  const cast = (leaf: Leaf) => fromDense(dtype, leaf.shape.slice(), toDense(leaf));
  return {
    fc1: { weight: cast(params.fc1.weight), bias: cast(params.fc1.bias) },
    fc2: { weight: cast(params.fc2.weight), bias: cast(params.fc2.bias) },
  };
};

/** Intermediate values of a forward pass over a batch of n examples. */
interface Activations {
  /** h = tanh(x W₁ᵀ + b₁), n × H */
  readonly hidden: Float64Array;
  /** z = h W₂ᵀ + b₂, n × C */
  readonly logits: Float64Array;
  readonly sizes: MlpSizes;
}

const sizesOf = (params: MlpParams): MlpSizes => ({
  input: params.fc1.weight.shape[1] as number,
  hidden: params.fc1.weight.shape[0] as number,
  classes: params.fc2.weight.shape[0] as number,
});

/** Forward pass: h_ik = tanh(Σ_j W₁[k,j] x_ij + b₁[k]),  z_ic = Σ_k W₂[c,k] h_ik + b₂[c]. */
const forward = (params: MlpParams, batch: Examples): Activations => {
  const sizes = sizesOf(params);
  const { input: D, hidden: H, classes: C } = sizes;
  const w1 = toDense(params.fc1.weight);
  const b1 = toDense(params.fc1.bias);
  const w2 = toDense(params.fc2.weight);
  const b2 = toDense(params.fc2.bias);
  const hidden = new Float64Array(batch.n * H);
  const logits = new Float64Array(batch.n * C);
  for (let i = 0; i < batch.n; i++) {
    for (let k = 0; k < H; k++) {
      let a = b1[k] as number;
      for (let j = 0; j < D; j++) a += (w1[k * D + j] as number) * (batch.x[i * D + j] as number);
      hidden[i * H + k] = Math.tanh(a);
    }
    for (let c = 0; c < C; c++) {
      let z = b2[c] as number;
      for (let k = 0; k < H; k++) z += (w2[c * H + k] as number) * (hidden[i * H + k] as number);
      logits[i * C + c] = z;
    }
  }
  return { hidden, logits, sizes };
};

/** Softmax of row i of the logits, stably: p_c = exp(z_c − max z) / Σ_c' exp(z_c' − max z). */
const softmaxRow = (logits: Float64Array, i: number, C: number): Float64Array => {
  let max = -Infinity;
  for (let c = 0; c < C; c++) max = Math.max(max, logits[i * C + c] as number);
  const p = new Float64Array(C);
  let sum = 0;
  for (let c = 0; c < C; c++) {
    p[c] = Math.exp((logits[i * C + c] as number) - max);
    sum += p[c] as number;
  }
  for (let c = 0; c < C; c++) p[c] = (p[c] as number) / sum;
  return p;
};

/** Mean cross-entropy L = −(1/n) Σ_i log p_i[y_i] of the batch. */
const crossEntropy = (act: Activations, batch: Examples): number => {
  const C = act.sizes.classes;
  let total = 0;
  for (let i = 0; i < batch.n; i++) {
    const p = softmaxRow(act.logits, i, C);
    total -= Math.log(p[batch.y[i] as number] as number);
  }
  return total / batch.n;
};

/** Mean cross-entropy of the model on `batch`. */
export const loss = (params: MlpParams, batch: Examples): number => crossEntropy(forward(params, batch), batch);

/** Fraction of `set` whose arg-max logit is its label. */
export const accuracy = (params: MlpParams, set: Examples): number => {
  const { logits, sizes } = forward(params, set);
  const C = sizes.classes;
  let correct = 0;
  for (let i = 0; i < set.n; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if ((logits[i * C + c] as number) > (logits[i * C + best] as number)) best = c;
    if (best === set.y[i]) correct++;
  }
  return set.n === 0 ? 0 : correct / set.n;
};

/**
 * The loss and its gradient with respect to every parameter, by back-propagation:
 *
 *   δz_ic = (p_ic − [c = y_i]) / n                 ∂L/∂b₂[c] = Σ_i δz_ic      ∂L/∂W₂[c,k] = Σ_i δz_ic h_ik
 *   δa_ik = (1 − h_ik²) Σ_c δz_ic W₂[c,k]          ∂L/∂b₁[k] = Σ_i δa_ik      ∂L/∂W₁[k,j] = Σ_i δa_ik x_ij
 *
 * The gradient tree has the structure, shapes and dtypes of `params`; `params` is not modified.
 */
export const lossAndGrad = (params: MlpParams, batch: Examples): { loss: number; grads: MlpParams } => {
  const act = forward(params, batch);
  const { input: D, hidden: H, classes: C } = act.sizes;
  const w2 = toDense(params.fc2.weight);
  const gw1 = new Float64Array(H * D);
  const gb1 = new Float64Array(H);
  const gw2 = new Float64Array(C * H);
  const gb2 = new Float64Array(C);
  let total = 0;
  for (let i = 0; i < batch.n; i++) {
    const p = softmaxRow(act.logits, i, C);
    const label = batch.y[i] as number;
    total -= Math.log(p[label] as number);
    const dz = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      dz[c] = ((p[c] as number) - (c === label ? 1 : 0)) / batch.n; // δz_ic
      gb2[c] = (gb2[c] as number) + (dz[c] as number);
      for (let k = 0; k < H; k++) gw2[c * H + k] = (gw2[c * H + k] as number) + (dz[c] as number) * (act.hidden[i * H + k] as number);
    }
    for (let k = 0; k < H; k++) {
      let back = 0;
      for (let c = 0; c < C; c++) back += (dz[c] as number) * (w2[c * H + k] as number);
      const h = act.hidden[i * H + k] as number;
      const da = (1 - h * h) * back; // δa_ik, tanh' = 1 − tanh²
      gb1[k] = (gb1[k] as number) + da;
      for (let j = 0; j < D; j++) gw1[k * D + j] = (gw1[k * D + j] as number) + da * (batch.x[i * D + j] as number);
    }
  }
  const like = (leaf: Leaf, values: Float64Array) => fromDense(dtypeOf(leaf), leaf.shape.slice(), values);
  return {
    loss: total / batch.n,
    grads: {
      fc1: { weight: like(params.fc1.weight, gw1), bias: like(params.fc1.bias, gb1) },
      fc2: { weight: like(params.fc2.weight, gw2), bias: like(params.fc2.bias, gb2) },
    },
  };
};
