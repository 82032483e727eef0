/**
 * Installs the kernels' WebAssembly as the executor of every fused `update` (see `core/executor.ts`): what the
 * package entry imports, so that `opt.update` of a fused chain runs one compiled pass per float32 leaf without the
 * caller asking. This module's one effect is that installation (package.json lists it under `sideEffects`, so
 * bundlers keep it).
 * @module
 */
import { installCompiledMath } from "../core/executor.js";
import { wasmMath } from "./compiledStep.js";

installCompiledMath(wasmMath);
