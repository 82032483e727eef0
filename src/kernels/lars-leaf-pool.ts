/**
 * A helper thread for the WebAssembly LARS kernel: a worker that instantiates the same module over the same
 * shared memory and runs batches of kernel calls the main thread writes into a shared task table.
 * Synchronisation is Atomics.wait/notify on a shared control word (no message per batch).
 *
 * Task layouts (float64 each): sumSquaresPair = [x, y, n, out]; step = [p, g, buf, outP, outB, n, wd, m, c, γ, lr, flags];
 * larsLeaves (one task) = [table, count, wd, m, c, lr, flags, scratch]; shared sumSquaresLeaves = [table, count, out];
 * shared stepLeaves = [table, count, gammas, wd, m, c, lr, flags]; shared larsLeavesSums = [table, count, wd, m, c,
 * lr, flags, sums].
 *
 * Shared leaves (work sharing that never waits for a busy core): both threads take the next leaf of one table from a
 * shared counter, one leaf at a time. The helper first claims the batch (state IDLE → RUNNING); when the caller has
 * run out of leaves and the helper has not claimed it yet (its core is busy elsewhere), the caller cancels it
 * (IDLE → CANCELLED) and returns without waiting. Every leaf runs whole on one thread, so the bits do not depend on
 * who ran what.
 */
import { Worker } from "node:worker_threads";
import { larsLeafModule } from "./lars-leaf-wasm.js";
import type { WasmMemory } from "./wasm-api.js";

/** Float64 slots per task. */
export const NORM_TASK = 4;
export const STEP_TASK = 12;

const enum Kind {
  Stop = 0,
  Norms = 1,
  Step = 2,
  Leaves = 3,
  Shared = 4,
  SharedNorms = 5,
  SharedSteps = 6,
  SharedFused = 7,
}

/** Control words: 0 sequence, 1 ack, 2 kind, 3 count, 4 next shared leaf, 5 shared state. */
const NEXT = 4;
const STATE = 5;
const enum Shared {
  Idle = 0,
  Running = 1,
  Cancelled = 2,
  Done = 3,
}

/** Worker body (plain CommonJS, evaluated by worker_threads): wait for a batch, run it, signal completion. */
const WORKER_SOURCE = `
const { workerData } = require("node:worker_threads");
const { module, memory, control, tasks } = workerData;
const ctl = new Int32Array(control);
const t = new Float64Array(tasks);
const { sumSquaresPair, step, larsLeaves, larsLeavesSums, sumSquaresLeaves, stepLeaves } =
  new WebAssembly.Instance(module, { env: { memory } }).exports;
let seen = 0;
for (;;) {
  Atomics.wait(ctl, 0, seen);
  seen = Atomics.load(ctl, 0);
  const kind = ctl[2];
  const count = ctl[3];
  if (kind === ${Kind.Stop}) break;
  if (kind === ${Kind.Norms}) {
    for (let i = 0, o = 0; i < count; i++, o += ${NORM_TASK}) sumSquaresPair(t[o], t[o + 1], t[o + 2], t[o + 3]);
  } else if (kind === ${Kind.Leaves}) {
    larsLeaves(t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7]);
  } else if (kind >= ${Kind.Shared}) {
    if (Atomics.compareExchange(ctl, ${STATE}, ${Shared.Idle}, ${Shared.Running}) !== ${Shared.Idle}) continue;
    // read what to do only now: a late wake-up may claim a later batch than the one it woke for
    const kind = Atomics.load(ctl, 2), table = t[0], count = t[1];
    for (let i = Atomics.add(ctl, ${NEXT}, 1); i < count; i = Atomics.add(ctl, ${NEXT}, 1)) {
      if (kind === ${Kind.Shared}) larsLeaves(table + 24 * i, 1, t[2], t[3], t[4], t[5], t[6], t[7]);
      else if (kind === ${Kind.SharedNorms}) sumSquaresLeaves(table + 24 * i, 1, t[2] + 16 * i);
      else if (kind === ${Kind.SharedSteps}) stepLeaves(table + 24 * i, 1, t[2] + 8 * i, t[3], t[4], t[5], t[6], t[7]);
      else larsLeavesSums(table + 24 * i, 1, t[2], t[3], t[4], t[5], t[6], t[7] + 16 * i);
    }
    Atomics.store(ctl, ${STATE}, ${Shared.Done});
    Atomics.notify(ctl, ${STATE});
    continue;
  } else {
    for (let i = 0, o = 0; i < count; i++, o += ${STEP_TASK}) {
      step(t[o], t[o + 1], t[o + 2], t[o + 3], t[o + 4], t[o + 5], t[o + 6], t[o + 7], t[o + 8], t[o + 9], t[o + 10], t[o + 11]);
    }
  }
  Atomics.store(ctl, 1, seen);
  Atomics.notify(ctl, 1);
}
`;

/** One helper thread. `tasks` is where the caller writes the batch before `start`. */
export interface LarsHelperThread {
  readonly tasks: Float64Array;
  /** Starts the batch of `count` tasks of that kind already written into `tasks`; returns at once. */
  startNorms(count: number): void;
  startStep(count: number): void;
  /** Starts larsLeaves with the arguments in tasks[0..7]. */
  startLeaves(): void;
  /**
   * Shared leaves: offers the larsLeaves table in tasks[0..7] (one leaf per claim, tasks[7] = the helper's scratch)
   * to the helper and runs leaves on the calling thread through `runLeaf(i)` until none is left; returns when every
   * leaf is done. Never waits for a helper that has not started. With `work` "norms" the helper runs
   * sumSquaresLeaves on record i (tasks: table, count, out; Σ pair i at out + 16·i), with "steps" stepLeaves
   * (tasks: table, count, gammas, wd, m, c, lr, flags; γ i at gammas + 8·i), with "fused" larsLeavesSums
   * (tasks: table, count, wd, m, c, lr, flags, sums; Σ pair i at sums + 16·i).
   */
  shareLeaves(count: number, runLeaf: (index: number) => void, work?: "lars" | "norms" | "steps" | "fused"): void;
  /** Blocks the calling thread until the last started batch is done. */
  wait(): void;
  close(): Promise<void>;
}

/** Starts a helper thread over `memory` able to hold `capacity` step tasks per batch. */
export function startLarsHelperThread(memory: WasmMemory, capacity: number): LarsHelperThread | undefined {
  const module = larsLeafModule();
  if (module === undefined) return undefined;
  const control = new SharedArrayBuffer(24);
  const taskBuffer = new SharedArrayBuffer(8 * STEP_TASK * Math.max(1, capacity));
  const ctl = new Int32Array(control);
  const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { module, memory, control, tasks: taskBuffer } });
  worker.unref();
  const start = (kind: Kind, count: number): void => {
    ctl[2] = kind;
    ctl[3] = count;
    Atomics.add(ctl, 0, 1);
    Atomics.notify(ctl, 0);
  };
  return {
    tasks: new Float64Array(taskBuffer),
    startNorms: (count) => start(Kind.Norms, count),
    startStep: (count) => start(Kind.Step, count),
    startLeaves: () => start(Kind.Leaves, 1),
    shareLeaves(count, runLeaf, work = "lars") {
      // the batch (kind, tasks) is written before the claim opens (STATE = Idle), so whoever claims it reads this one
      ctl[2] = { lars: Kind.Shared, norms: Kind.SharedNorms, steps: Kind.SharedSteps, fused: Kind.SharedFused }[work];
      ctl[3] = count;
      Atomics.store(ctl, NEXT, 0);
      Atomics.store(ctl, STATE, Shared.Idle);
      Atomics.add(ctl, 0, 1);
      Atomics.notify(ctl, 0);
      for (let i = Atomics.add(ctl, NEXT, 1); i < count; i = Atomics.add(ctl, NEXT, 1)) runLeaf(i);
      if (Atomics.compareExchange(ctl, STATE, Shared.Idle, Shared.Cancelled) === Shared.Idle) return;
      for (let s = Atomics.load(ctl, STATE); s !== Shared.Done; s = Atomics.load(ctl, STATE)) Atomics.wait(ctl, STATE, s);
    },
    wait() {
      const target = Atomics.load(ctl, 0);
      for (let done = Atomics.load(ctl, 1); done !== target; done = Atomics.load(ctl, 1)) Atomics.wait(ctl, 1, done);
    },
    async close() {
      start(Kind.Stop, 0);
      await worker.terminate();
    },
  };
}
