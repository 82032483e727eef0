/**
 * A larch optimizer as a TF.js `tf.Optimizer`: `model.compile({ optimizer: larchOptimizer(lars({ … })), loss })`.
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import * as E from "fp-ts/lib/Either.js";
import { applyUpdates } from "../core/apply.js";
import { optimizerError, type OptimizerError } from "../core/errors.js";
import { applyStep } from "../kernels/applyStep.js";
import { specOf, type GradientTransformation } from "../core/transform.js";
import type { Tree } from "../core/tree.js";
import { kernelArena } from "../kernels/kernelMemory.js";
import { checkStateShape } from "../timetravel/checkStateShape.js";
import { decodeState } from "../timetravel/decodeState.js";
import { encodeState } from "../timetravel/encodeState.js";
import { rebuildOptimizer } from "../timetravel/rebuildOptimizer.js";
import { openRecording, type Recorder, type RecordingSummary } from "../timetravel/recorder.js";
import type { Json } from "../timetravel/stateValue.js";
import { LarchError } from "./larchError.js";
import { assignLeaf, leafAt, leafFromTensor, namedEntries, nestLeaves, type NamedEntry, type NamedTensor } from "./tensors.js";
import { bytesFromWeight, weightFromBytes } from "./weightBytes.js";

/** Where and how {@link larchOptimizer} records the run (see `openRecording`). */
export interface LarchRecordOptions {
  /** The `.larch` file, created or replaced at the first step. */
  readonly path: string;
  /** A keyframe `{ params, state }` every K steps (default 100). */
  readonly keyframeEvery?: number;
  /** Record each step's gradient, needed by `larch verify` and to seek between keyframes (default true). */
  readonly recordGrads?: boolean;
  /** Free-form JSON describing the run. */
  readonly meta?: unknown;
}

/** Options of {@link larchOptimizer}. */
export interface LarchOptimizerOptions {
  /** Record the run into a `.larch` file that `larch inspect | verify | report` read. */
  readonly record?: LarchRecordOptions;
  /** Resume from the bytes of `checkpoint()`: the state and the step count continue from there. */
  readonly resume?: Uint8Array;
}

/**
 * The name of the optimizer weight that holds the larch checkpoint in `getWeights()`.
 * @example
 * (await optimizer.getWeights()).map((w) => w.name) // ["iter", CHECKPOINT_WEIGHT] after the first step
 */
export const CHECKPOINT_WEIGHT = "larch/checkpoint";

const fail = (error: OptimizerError): never => {
  throw new LarchError(error);
};

/** A state decoded from a checkpoint, waiting for the first step's params to be checked against. */
interface Pending {
  readonly state: unknown;
  readonly step: number;
  /** The TF.js names of the variables the state was made for, in the order its first step took them. */
  readonly variables: readonly string[] | undefined;
}

/** How this optimizer names the variables in its trees: current TF.js name → the name its state knows it by. */
interface Naming {
  readonly canonical: ReadonlyMap<string, string>;
  /** The names of the state's variables, in the order its first step took them (kept in checkpoints). */
  readonly order: readonly string[];
  /** Whether some variable goes by a saved name other than its own. */
  readonly renamed: boolean;
}

const isNameList = (x: unknown): x is readonly string[] => Array.isArray(x) && x.every((n) => typeof n === "string");

const decodeCheckpoint = (bytes: unknown): E.Either<OptimizerError, Pending> => {
  if (!(bytes instanceof Uint8Array)) return E.left(optimizerError("InvalidOption", "resume must be the Uint8Array that checkpoint() gave"));
  const decoded = decodeState(bytes);
  if (E.isLeft(decoded)) return decoded;
  const meta = decoded.right.meta as { step?: unknown; variables?: unknown } | null | undefined;
  const known = typeof meta === "object" && meta !== null;
  const step = known && Number.isSafeInteger(meta.step) ? (meta.step as number) : 0;
  return E.right({ state: decoded.right.state, step, variables: known && isNameList(meta.variables) ? meta.variables : undefined });
};

const checkRecord = (r: unknown): E.Either<OptimizerError, Required<Omit<LarchRecordOptions, "meta">> & { meta?: unknown }> => {
  if (typeof r !== "object" || r === null) return E.left(optimizerError("InvalidOption", "record must be { path, keyframeEvery?, recordGrads?, meta? }"));
  const { path, keyframeEvery = 100, recordGrads = true, meta } = r as LarchRecordOptions;
  if (typeof path !== "string" || path === "") return E.left(optimizerError("InvalidOption", "record.path must be a non-empty file path"));
  return E.right({ path, keyframeEvery, recordGrads, meta });
};

/**
 * The naming of a first step's entries: each by its own name, or, resuming a state made for variables of other
 * names (a model built again in the same program gets `dense_Dense3/kernel` or `…/kernel_1` where the saved one had
 * `dense_Dense1/kernel`), by the saved names, position by position in the order both steps took them.
 */
const namingFor = (entries: readonly NamedEntry[], saved: readonly string[] | undefined): E.Either<OptimizerError, Naming> => {
  const names = entries.map((e) => e.name);
  const same = saved === undefined || (saved.length === names.length && names.every((n) => saved.includes(n)));
  if (same) return E.right({ canonical: new Map(names.map((n) => [n, n])), order: saved ?? names, renamed: false });
  if (saved.length !== names.length)
    return E.left(optimizerError("StateMismatch", `the resumed state was made for ${saved.length} variables [${saved.join(", ")}]; these gradients name ${names.length} [${names.join(", ")}]`));
  return E.right({ canonical: new Map(names.map((n, i) => [n, saved[i]!])), order: saved, renamed: true });
};

/**
 * A region of the kernel's memory, noted in `regions` to be handed back after the step; undefined (so a plain array)
 * when the memory is full or there is no WebAssembly. A step of an optimizer with a compiled kernel (`lars()`) copies
 * the tensors there: its kernel reads them in place and writes its outputs there (plain arrays would be staged there and
 * back, a second copy each way; docs/tfjs.md has the numbers).
 */
const keep = (regions: Float32Array[], region: Float32Array | undefined): Float32Array | undefined => (region && regions.push(region), region);

/** Where each entry's leaf goes in the trees: its name's segments under the naming; a Left for a name it does not know. */
const treePlaces = (entries: readonly NamedEntry[], naming: Naming): E.Either<OptimizerError, readonly { readonly segments: readonly string[] }[]> => {
  const out: { segments: readonly string[] }[] = [];
  for (const e of entries) {
    const name = naming.canonical.get(e.name);
    if (name === undefined && naming.renamed)
      return E.left(optimizerError("StateMismatch", `variable ${JSON.stringify(e.name)} is not one of the variables this optimizer's state was resumed for`, { path: e.segments.join(".") }));
    out.push({ segments: name === undefined || name === e.name ? e.segments : name.split("/") });
  }
  return E.right(out);
};

/** The step's named variables, looked up in the engine by the gradients' names and checked against them. */
const variablesFor = (entries: readonly NamedEntry[]): E.Either<OptimizerError, readonly tf.Variable[]> => {
  const registered = tf.engine().registeredVariables;
  const out: tf.Variable[] = [];
  for (const e of entries) {
    const v = Object.prototype.hasOwnProperty.call(registered, e.name) ? registered[e.name] : undefined;
    const path = e.segments.join(".");
    if (v === undefined) return E.left(optimizerError("InvalidTree", `there is no tf.Variable named ${JSON.stringify(e.name)} for its gradient`, { path }));
    if (v.isDisposed) return E.left(optimizerError("InvalidTree", `variable ${JSON.stringify(e.name)} is disposed`, { path }));
    if (v.dtype !== "float32") return E.left(optimizerError("InvalidTree", `variable ${JSON.stringify(e.name)} has dtype ${v.dtype}; larch computes on float32 only`, { path }));
    if (v.shape.length !== e.tensor.shape.length || v.shape.some((d, k) => d !== e.tensor.shape[k]))
      return E.left(optimizerError("ShapeMismatch", `variable ${JSON.stringify(e.name)} has shape [${v.shape}], its gradient [${e.tensor.shape}]`, { path }));
    out.push(v);
  }
  return E.right(out);
};

/**
 * A TF.js optimizer that runs a larch optimizer: a subclass of the `tf.Optimizer` of the TF.js you use (one engine),
 * registered with `tf.serialization` as `LarchOptimizer`. Build it with {@link larchOptimizer}.
 *
 * Each `applyGradients(g)` (which `minimize`, `model.fit` and `model.trainOnBatch` call) takes the named gradients
 * and the variables of the same names as two trees (names nest at "/": `dense_Dense1/kernel` is the leaf
 * `dense_Dense1.kernel`), copies each once, runs one `applyStep(opt, g, s, p)` and assigns the new params. A Left
 * throws a {@link LarchError} (message, `kind`, `path`) after changing nothing: variables, state and step count stay
 * as they were. The gradient tensors are only read (TF.js's `minimize` disposes them).
 * @example
 * const optimizer = larchOptimizer(lars({ lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }));
 * model.compile({ optimizer, loss: "categoricalCrossentropy" });
 * await model.fit(xs, ys, { epochs: 3, batchSize: 1024 });
 * optimizer.step; // steps taken; optimizer.state: the larch state
 */
export class LarchOptimizer<S = unknown> extends tf.Optimizer {
  /** The name TF.js's serialization registry knows this class by. */
  static get className(): string {
    return "LarchOptimizer";
  }

  readonly optimizer: GradientTransformation<S> | undefined;
  #unavailable: OptimizerError | undefined;
  #state: S | undefined;
  #step = 0;
  #pending: Pending | undefined;
  #naming: Naming | undefined;
  #record: (Required<Omit<LarchRecordOptions, "meta">> & { meta?: unknown }) | undefined;
  #recorder: Recorder<S> | undefined;
  #closed: RecordingSummary | undefined;
  #loss: number | undefined;
  #weights: tf.Tensor[] = [];

  /** Use {@link larchOptimizer}; `optimizer` undefined with `unavailable` is an optimizer that could not be rebuilt. */
  constructor(optimizer: GradientTransformation<S> | undefined, options: LarchOptimizerOptions = {}, unavailable?: OptimizerError) {
    super();
    this.optimizer = optimizer;
    this.#unavailable = unavailable;
    if (options.resume !== undefined) {
      const pending = decodeCheckpoint(options.resume);
      if (E.isLeft(pending)) fail(pending.left);
      else this.#resumeFrom(pending.right);
    }
    if (options.record !== undefined) {
      const record = checkRecord(options.record);
      if (E.isLeft(record)) fail(record.left);
      else this.#record = record.right;
    }
  }

  /** The larch state after the last step (undefined before the first one, and while a resumed state waits for it). */
  get state(): S | undefined {
    return this.#state;
  }

  /** Steps taken, counted over resumes (a checkpoint keeps it). */
  get step(): number {
    return this.#step;
  }

  #resumeFrom(pending: Pending): void {
    this.#pending = pending;
    this.#naming = undefined;
    this.#state = undefined;
    this.#step = pending.step;
    this.iterations_ = pending.step;
  }

  /**
   * The loss of the batch whose gradients the next `applyGradients` gets, for the recording's stats. `minimize`
   * (so `model.fit` and `trainOnBatch`) notes it by itself when recording; call this in a loop of your own.
   * @example
   * optimizer.noteLoss(loss.dataSync()[0]!); optimizer.applyGradients(grads);
   */
  noteLoss(loss: number): void {
    this.#loss = typeof loss === "number" ? loss : undefined;
  }

  /** TF.js's `minimize`, also noting the loss for the recording (read from the cost tensor only when recording). */
  override minimize(f: () => tf.Scalar, returnCost = false, varList?: tf.Variable[]): tf.Scalar | null {
    const { value, grads } = this.computeGradients(f, varList);
    try {
      if (this.#record !== undefined && this.#closed === undefined) this.noteLoss(value.dataSync()[0]!);
      this.applyGradients(varList != null ? varList.map((v) => ({ name: v.name, tensor: grads[v.name]! })) : grads);
    } catch (error) {
      value.dispose();
      throw error;
    } finally {
      tf.dispose(grads);
    }
    if (returnCost) return value;
    value.dispose();
    return null;
  }

  /**
   * One larch step over the variables named by the gradients: p, s ← applyStep(opt, g, s, p), then each variable ←
   * its new leaf. Throws a {@link LarchError} for a Left, having changed nothing.
   */
  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const done = this.#apply(variableGradients);
    if (E.isLeft(done)) fail(done.left);
  }

  #apply(gradients: unknown): E.Either<OptimizerError, void> {
    const opt = this.optimizer;
    if (opt === undefined) return E.left(this.#unavailable ?? optimizerError("InvalidOption", "no optimizer"));
    const loss = this.#loss;
    this.#loss = undefined;
    const entries = namedEntries(gradients);
    if (E.isLeft(entries)) return entries;
    const variables = variablesFor(entries.right);
    if (E.isLeft(variables)) return variables;
    const naming = this.#naming !== undefined ? E.right(this.#naming) : namingFor(entries.right, this.#pending?.variables);
    if (E.isLeft(naming)) return naming;
    const places = treePlaces(entries.right, naming.right);
    if (E.isLeft(places)) return places;
    // fused chains (lars(), sgd, adam, …) have a compiled step, which reads and writes the kernel's memory: the copies
    // go straight there, the step is donated them (and the old state), and every region is handed back when it is done
    const arena = opt.fusable !== undefined && this.#record === undefined ? kernelArena() : undefined;
    const regions: Float32Array[] = [];
    const storage = arena && ((size: number) => keep(regions, arena.ownedArray(size)));
    try {
      const grads = nestLeaves(places.right, entries.right.map((e) => leafFromTensor(e.tensor, storage)));
      if (E.isLeft(grads)) return grads;
      const params = nestLeaves(places.right, variables.right.map((v) => leafFromTensor(v, storage)));
      if (E.isLeft(params)) return params;
      const state = this.#stateFor(opt, params.right);
      if (E.isLeft(state)) return state;
      const stepped =
        this.#record === undefined
          ? applyStep(opt, grads.right, state.right, params.right, { donate: arena !== undefined })
          : this.#recordedStep(opt, grads.right, state.right, params.right, loss);
      if (E.isLeft(stepped)) return E.left({ ...stepped.left, step: stepped.left.step ?? this.#step });
      const [next, nextState] = stepped.right;
      const leaves = places.right.map((p) => leafAt(next, p.segments)!);
      // a new param in kernel memory is copied for TF.js (the cpu and webgl backends keep the array they are given;
      // wasm copies it into its heap itself) and its region handed back; otherwise the step's new array is handed
      // over as it is (nobody else holds it)
      const backendCopies = tf.getBackend() === "wasm";
      variables.right.forEach((v, i) => {
        const inKernel = arena?.ownsWhole(leaves[i]!) === true;
        assignLeaf(v, leaves[i]!, !inKernel || backendCopies);
        if (inKernel) regions.push(leaves[i]!.data as Float32Array);
      });
      this.#state = nextState;
    } finally {
      for (const r of regions) arena!.releaseOwned(r);
    }
    this.#naming = naming.right;
    this.#pending = undefined;
    this.#step++;
    this.incrementIterations();
    return E.right(undefined);
  }

  /** The state for this step: the last step's, the resumed one (checked against the params), or opt.init(params). */
  #stateFor(opt: GradientTransformation<S>, params: Tree): E.Either<OptimizerError, S> {
    if (this.#state !== undefined) return E.right(this.#state);
    const fresh = opt.init(params);
    if (E.isLeft(fresh) || this.#pending === undefined) return fresh;
    const checked = checkStateShape(fresh.right, this.#pending.state);
    return E.isLeft(checked) ? E.left({ ...checked.left, message: `the resumed state does not fit this optimizer and these variables: ${checked.left.message}` }) : E.right(checked.right as S);
  }

  /** A step through the recorder (opened at the first step): its update, then p + u. */
  #recordedStep(opt: GradientTransformation<S>, grads: Tree, state: S, params: Tree, loss: number | undefined): E.Either<OptimizerError, readonly [Tree, S]> {
    if (this.#closed !== undefined) return E.left(optimizerError("InvalidOption", `the recording ${this.#closed.path} is closed`));
    if (this.#recorder === undefined) {
      const r = this.#record!;
      const opened = openRecording(r.path, opt, params, { keyframeEvery: r.keyframeEvery, recordGrads: r.recordGrads, meta: r.meta });
      if (E.isLeft(opened)) return opened;
      this.#recorder = opened.right;
    }
    const step = this.#recorder.step(grads, state, params, loss === undefined || !Number.isFinite(loss) ? {} : { loss });
    if (E.isLeft(step)) return step;
    const next = applyUpdates(params, step.right[0]);
    return E.isLeft(next) ? next : E.right([next.right, step.right[1]] as const);
  }

  /**
   * The current state as checkpoint bytes (`encodeState`, with meta `{ step, optimizer }`): pass them as
   * `resume` to continue bit for bit. A Left before the first step (there is no state yet), unless resumed.
   * @example
   * const bytes = optimizer.checkpoint(); if (E.isRight(bytes)) writeFileSync("opt.safetensors", bytes.right);
   */
  checkpoint(): E.Either<OptimizerError, Uint8Array> {
    const state = this.#state ?? this.#pending?.state;
    if (state === undefined) return E.left(optimizerError("InvalidOption", "there is no state to checkpoint before the first step"));
    const optimizer = this.optimizer ? (JSON.parse(JSON.stringify(specOf(this.optimizer))) as Json) : null;
    const variables = [...(this.#naming?.order ?? this.#pending?.variables ?? [])];
    return encodeState(state, { step: this.#step, optimizer, variables });
  }

  /**
   * Ends the recording: writes its final keyframe and end frame and closes the file (Right(undefined) when not
   * recording or when no step was taken). Steps after it throw. Call it when training is done.
   * @example
   * await model.fit(xs, ys, { epochs: 3 }); const summary = optimizer.close(); // Right({ path, endStep, … })
   */
  close(): E.Either<OptimizerError, RecordingSummary | undefined> {
    if (this.#closed !== undefined) return E.right(this.#closed);
    if (this.#recorder === undefined) return E.right(undefined);
    const closed = this.#recorder.close();
    if (E.isRight(closed)) this.#closed = closed.right;
    return closed;
  }

  /**
   * TF.js's optimizer weights: `iter` (the step count) and, once there is a state, `larch/checkpoint`, the
   * checkpoint bytes packed into an int32 tensor, so `model.save(…, { includeOptimizer: true })` keeps the state
   * bit for bit. The tensors of the previous call are disposed.
   */
  override async getWeights(): Promise<NamedTensor[]> {
    tf.dispose(this.#weights);
    const iter = tf.scalar(this.#step, "int32");
    const bytes = this.#state ?? this.#pending?.state;
    const checkpoint = bytes === undefined ? undefined : this.checkpoint();
    if (checkpoint !== undefined && E.isLeft(checkpoint)) {
      iter.dispose();
      return fail(checkpoint.left);
    }
    const packed = checkpoint === undefined ? undefined : weightFromBytes(checkpoint.right);
    this.#weights = packed === undefined ? [iter] : [iter, packed];
    return packed === undefined ? [{ name: "iter", tensor: iter }] : [{ name: "iter", tensor: iter }, { name: CHECKPOINT_WEIGHT, tensor: packed }];
  }

  /** Takes back what {@link getWeights} gave (after a `tf.loadLayersModel`): the next step continues from it. */
  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    if (!Array.isArray(weightValues)) return fail(optimizerError("InvalidOption", "setWeights takes the NamedTensor[] that getWeights gave"));
    const packed = weightValues.find((w) => w?.name === CHECKPOINT_WEIGHT);
    if (packed === undefined) {
      const iter = weightValues.find((w) => w?.name === "iter");
      if (iter === undefined && weightValues.length > 0) return fail(optimizerError("InvalidOption", `setWeights: no ${CHECKPOINT_WEIGHT} weight among [${weightValues.map((w) => w?.name).join(", ")}]`));
      return; // saved before the first step: nothing to resume
    }
    const bytes = bytesFromWeight(packed.tensor);
    if (E.isLeft(bytes)) return fail(bytes.left);
    const pending = decodeCheckpoint(bytes.right);
    if (E.isLeft(pending)) return fail(pending.left);
    this.#resumeFrom(pending.right);
  }

  /** The config TF.js saves with the model: the larch optimizer's spec (hex-encoded JSON, which TF.js keeps as it is). */
  override getConfig(): tf.serialization.ConfigDict {
    const spec = this.optimizer ? JSON.stringify(specOf(this.optimizer)) : "null";
    return { larchSpec: Array.from(new TextEncoder().encode(spec), (b) => b.toString(16).padStart(2, "0")).join("") };
  }

  /**
   * Rebuilds the optimizer from a saved config (`rebuildOptimizer` on its spec). An optimizer larch cannot rebuild
   * (a schedule or a label function of your own) gives an instance whose steps throw saying so: compile the loaded
   * model again with your `larchOptimizer(…)` and call `setWeights` to resume.
   */
  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    const hex = typeof config["larchSpec"] === "string" ? config["larchSpec"] : "";
    const bytes = Uint8Array.from(hex.match(/../g) ?? [], (h) => parseInt(h, 16));
    let spec: unknown;
    try {
      spec = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      spec = undefined;
    }
    const rebuilt = rebuildOptimizer(spec as never);
    const Cls = cls as unknown as new (o: unknown, options: LarchOptimizerOptions, unavailable?: OptimizerError) => T;
    return E.isRight(rebuilt) ? new Cls(rebuilt.right, {}) : new Cls(undefined, {}, rebuilt.left);
  }

  /** Disposes the tensors `getWeights` made; closes nothing (call {@link close} for the recording). */
  override dispose(): void {
    tf.dispose(this.#weights);
    this.#weights = [];
    super.dispose();
  }
}

tf.serialization.registerClass(LarchOptimizer);

const isTransformation = (x: unknown): x is GradientTransformation<unknown> =>
  typeof x === "object" && x !== null && typeof (x as { init?: unknown }).init === "function" && typeof (x as { update?: unknown }).update === "function";

/**
 * A TF.js optimizer running the larch optimizer `opt` ({@link LarchOptimizer}), for `model.compile`, `model.fit`,
 * `trainOnBatch` and `minimize`. Options: `record: { path, keyframeEvery?, recordGrads?, meta? }` records the run
 * into a `.larch` file (with each batch's loss, which `minimize` notes; call `close()` at the end);
 * `resume: bytes` continues from `checkpoint()`'s bytes. Throws a {@link LarchError} (TF.js's convention) for an
 * `opt` that is not a larch optimizer or for invalid options.
 * @example
 * import * as tf from "@tensorflow/tfjs";
 * import { lars } from "larch";
 * import { larchOptimizer } from "larch/tfjs";
 * const optimizer = larchOptimizer(lars({ lr: 0.05, momentum: 0.9 }), { record: { path: "out/run.larch" } });
 * model.compile({ optimizer, loss: "categoricalCrossentropy" });
 * await model.fit(xs, ys, { epochs: 3 });
 * optimizer.close();
 */
export const larchOptimizer = <S>(opt: GradientTransformation<S>, options: LarchOptimizerOptions = {}): LarchOptimizer<S> => {
  if (!isTransformation(opt)) return fail(optimizerError("InvalidOption", "larchOptimizer needs a larch optimizer, such as lars({ lr: 0.1 })"));
  if (typeof options !== "object" || options === null) return fail(optimizerError("InvalidOption", "larchOptimizer's options must be { record?, resume? }"));
  return new LarchOptimizer(opt, options);
};
