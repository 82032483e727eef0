/**
 * Compiles WebAssembly text to bytes with the npm `wabt` package (a fixed version, pinned in package.json), for the
 * benchmark's hand-written probes (bench/experiments/traffic-floor.wat).
 */
import createWabt from "wabt";

/** Compiles `source` (WAT, SIMD + threads enabled) to a validated binary without debug names. */
export async function compileWat(fileName: string, source: string): Promise<Uint8Array> {
  const wabt = await createWabt();
  const features = { simd: true, threads: true };
  const module = wabt.parseWat(fileName, source, features);
  try {
    module.resolveNames();
    // wabt.js's typings omit validate's feature argument; without it shared memory is refused.
    const validate = module.validate as unknown as (this: typeof module, options: typeof features) => void;
    validate.call(module, features);
    const { buffer } = module.toBinary({ log: false, write_debug_names: false });
    return Uint8Array.from(buffer);
  } finally {
    module.destroy();
  }
}
