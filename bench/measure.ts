/** Times a step: warm-up, then each step alone, with the bytes allocated around it. */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";

/** A garbage collector to call between steps (`--expose-gc`, or enabled here at run time). */
export function collector(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

export interface StepStats {
  readonly steps: number;
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  /**
   * median over steps of (JS heap + ArrayBuffer bytes after the step − before it), a GC before each step. A lower
   * bound: V8 may collect during a step that allocates a lot of ArrayBuffer memory.
   */
  readonly allocatedBytesPerStep: number;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function liveBytes(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

/** Yields to the event loop once (a macrotask: FinalizationRegistry callbacks of what the last GC collected run). */
const nextTask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs `warmup` untimed steps, then `steps` timed ones, a full GC before each (outside the timing). */
export async function timeSteps(step: () => void | Promise<void>, steps: number, warmup: number): Promise<StepStats> {
  const gc = collector();
  for (let i = 0; i < warmup; i++) {
    await step();
    gc();
    await nextTask();
  }
  const times: number[] = [];
  const allocated: number[] = [];
  for (let i = 0; i < steps; i++) {
    gc();
    await nextTask(); // as a training loop that awaits its data: the collected results' kernel memory comes back
    const before = liveBytes();
    const t0 = performance.now();
    const pending = step();
    if (pending !== undefined) await pending;
    const t1 = performance.now();
    allocated.push(Math.max(0, liveBytes() - before));
    times.push(t1 - t0);
  }
  return {
    steps,
    medianMs: median(times),
    minMs: Math.min(...times),
    maxMs: Math.max(...times),
    allocatedBytesPerStep: median(allocated),
  };
}

/**
 * Times a short step in its steady state, as a training loop runs it: warm-up for `warmupMs` (so the JIT has
 * compiled the step's code), then `samples` batches of `batch` back-to-back steps with no GC forced between them
 * (the collections the step causes fall inside the batches, as they would in training); each sample is a batch's
 * mean. Allocation is measured as in {@link timeSteps}, on a few steps alone after the batches.
 */
export async function timeStepsSteady(
  step: () => void | Promise<void>,
  o: { readonly warmupMs: number; readonly batch: number; readonly samples: number },
): Promise<StepStats> {
  const gc = collector();
  const until = performance.now() + o.warmupMs;
  while (performance.now() < until) await step();
  const means: number[] = [];
  for (let i = 0; i < o.samples; i++) {
    const t0 = performance.now();
    for (let k = 0; k < o.batch; k++) await step();
    means.push((performance.now() - t0) / o.batch);
  }
  const allocated: number[] = [];
  for (let i = 0; i < 5; i++) {
    gc();
    const before = liveBytes();
    await step();
    allocated.push(Math.max(0, liveBytes() - before));
  }
  return {
    steps: o.samples * o.batch,
    medianMs: median(means),
    minMs: Math.min(...means),
    maxMs: Math.max(...means),
    allocatedBytesPerStep: median(allocated),
  };
}
