/**
 * The installed executor with one of its members counted: how many calls it took (did not hand back to the
 * JavaScript), so a test knows its inputs ran through the WebAssembly.
 */
import { installCompiledMath } from "../../src/core/executor.js";
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
