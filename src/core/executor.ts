/**
 * The compiled executor every fused `update` asks first, and whose matrix product `matmul` runs when it is not given
 * one: a hook the package entry fills at import with the kernels' WebAssembly (`kernels/install.ts`), so that
 * `opt.update` of a fused chain runs the compiled pass, and muon's `update` its products, without the caller asking, while the core imports nothing of the kernels and transformations know nothing of them. Empty (every
 * update in JavaScript) when only the core is loaded. Whatever is installed gives the bits of the JavaScript loop.
 * @module
 */
import type { CompiledMath } from "./transform.js";

let installed: CompiledMath | undefined;

/** The executor fused updates run through, or undefined (then the generated JavaScript runs). */
export const compiledMath = (): CompiledMath | undefined => installed;

/**
 * Installs the executor fused updates run through (undefined: JavaScript only) and returns the previous one.
 * Executors give the same bits as the JavaScript, so this changes the speed of a step, never its result.
 * @example
 * const previous = installCompiledMath(undefined); // every update in JavaScript from here
 * installCompiledMath(previous);
 */
export const installCompiledMath = (next: CompiledMath | undefined): CompiledMath | undefined => {
  const previous = installed;
  installed = next;
  return previous;
};

/**
 * Runs `f` with no executor installed (every fused update in JavaScript): for work whose results are thrown away,
 * such as finding a failed step's Left, which must not take kernel memory only the garbage collector gives back.
 */
export const withoutCompiledMath = <A>(f: () => A): A => {
  const previous = installCompiledMath(undefined);
  try {
    return f();
  } finally {
    installCompiledMath(previous);
  }
};
