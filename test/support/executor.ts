/**
 * The installed executor with one of its members counted: how many calls it took (did not hand back to the
 * JavaScript), so a test knows its inputs ran through the WebAssembly.
 */
import { afterAll, beforeAll } from "vitest";
import { kernelThreads } from "larch";
import { installCompiledMath } from "../../src/core/executor.js";
import { compiledMinValues } from "../../src/kernels/compiledStep.js";
import type { CompiledMath } from "../../src/core/transform.js";

type Counted = "update" | "applyUpdates";

/** Wraps the installed executor's `member` with a counter; `restore` puts the executor back as it was. */
export const countTaken = (member: Counted): { readonly taken: () => number; readonly restore: () => void } => {
  const installed = installCompiledMath(undefined)!;
  let taken = 0;
  const inner = installed[member] as (...args: unknown[]) => unknown;
  const counted = (...args: unknown[]) => {
    const r = inner(...args);
    if (r !== undefined) taken++;
    return r;
  };
  installCompiledMath({ ...installed, [member]: counted } as CompiledMath);
  return { taken: () => taken, restore: () => void installCompiledMath(installed) };
};

/**
 * For the suite it is called in: every step through the WebAssembly however small (compiledMinValues(0)), the
 * executor's `member` counted, and afterwards all put back (one thread again). Returns the count of calls taken.
 */
export const everyStepCompiled = (member: Counted): (() => number) => {
  let minValues = 0;
  let counted: ReturnType<typeof countTaken> | undefined;
  beforeAll(() => {
    minValues = compiledMinValues(0);
    counted = countTaken(member);
  });
  afterAll(async () => {
    compiledMinValues(minValues);
    counted?.restore();
    await kernelThreads(1);
  });
  return () => counted?.taken() ?? 0;
};
