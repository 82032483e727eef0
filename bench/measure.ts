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

/** Runs `warmup` untimed steps, then `steps` timed ones, a full GC before each (outside the timing). */
export async function timeSteps(step: () => void | Promise<void>, steps: number, warmup: number): Promise<StepStats> {
  const gc = collector();
  for (let i = 0; i < warmup; i++) await step();
  const times: number[] = [];
  const allocated: number[] = [];
  for (let i = 0; i < steps; i++) {
    gc();
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
